"""The three parts of a dataset as model-ready arrays, and the split manifest that names them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whoru.faces.align import InputSpec
from whoru.training.cache import Arrays, build_arrays
from whoru.training.readers import read_dataset
from whoru.training.split import split


@dataclass
class Parts:
    """Train, validation and test arrays plus what is needed to reproduce them."""

    train: Arrays
    val: Arrays
    test: Arrays
    manifest: dict[str, list[str]]
    sha256: str
    skipped: list[str]
    dataset: str = "utkface"


def cache_path(cache_dir: Path | None, sha256: str, spec: InputSpec) -> Path | None:
    """Return where the aligned faces of a dataset are cached for one input spec."""
    template = "" if spec.template == "utkface" else f"-{spec.template}"
    return None if cache_dir is None else cache_dir / f"faces-{sha256[:16]}-{spec.size}{spec.color}{template}.npz"


def load_parts(source: Path, spec: InputSpec, cache_dir: Path | None) -> Parts:
    """Read, split and align a dataset (UTKFace, AAF or APPA-REAL)."""
    reading = read_dataset(source)
    if not reading.faces:
        raise ValueError(f"no labelled images in {source}")
    print(f"read {len(reading.faces)} labelled images from {source}; skipped {len(reading.skipped)} malformed names")
    manifest = split(reading.faces)
    if not all(manifest.values()):
        raise ValueError(f"{source} is too small to split: { ({k: len(v) for k, v in manifest.items()}) }")
    arrays = build_arrays(source, reading.faces, spec, cache_path(cache_dir, reading.sha256, spec))
    index = {name: i for i, name in enumerate(arrays.names)}
    train, val, test = (_subset(arrays, [index[n] for n in manifest[part]]) for part in ("train", "val", "test"))
    return Parts(train, val, test, manifest, reading.sha256, reading.skipped, reading.dataset)


def _subset(arrays: Arrays, rows: list[int]) -> Arrays:
    """Return the given rows of every array."""
    take = np.array(rows, dtype=np.int64)
    return Arrays(
        [arrays.names[i] for i in rows],
        arrays.images[take],
        arrays.ages[take],
        arrays.genders[take],
        arrays.ethnicities[take],
        arrays.detected[take],
    )


def join_arrays(first: Arrays, second: Arrays) -> Arrays:
    """Return two parts as one, in order."""
    return Arrays(
        first.names + second.names,
        *(
            np.concatenate([getattr(first, field), getattr(second, field)])
            for field in ("images", "ages", "genders", "ethnicities", "detected")
        ),
    )


def write_manifest(parts: Parts, path: Path) -> None:
    """Save the file names of each part next to the model."""
    document = {"data_sha256": parts.sha256, "skipped": parts.skipped, **parts.manifest}
    path.write_text(json.dumps(document, indent=1) + "\n")
