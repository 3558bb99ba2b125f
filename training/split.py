"""A deterministic 60/20/20 train/validation/test split, stratified by gender, ethnicity and age bin."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

from whoru.labels import age_bin
from whoru.training.readers import Face

FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}


def _stratum(face: Face) -> tuple[int, int, int]:
    """Return the group a face is balanced within."""
    return (face.gender, face.ethnicity, age_bin(face.age))


def _rank(name: str) -> str:
    """Return a stable pseudo-random sort key for a file name (same on every machine)."""
    return hashlib.sha256(name.encode()).hexdigest()


def split(faces: list[Face]) -> dict[str, list[str]]:
    """Return the file names of each part; the same faces always give the same parts."""
    groups: dict[tuple[int, int, int], list[str]] = defaultdict(list)
    for face in faces:
        groups[_stratum(face)].append(face.name)
    parts: dict[str, list[str]] = {part: [] for part in FRACTIONS}
    for names in groups.values():
        ordered = sorted(names, key=_rank)
        n_train = round(len(ordered) * FRACTIONS["train"])
        n_val = round(len(ordered) * FRACTIONS["val"])
        parts["train"] += ordered[:n_train]
        parts["val"] += ordered[n_train : n_train + n_val]
        parts["test"] += ordered[n_train + n_val :]
    return {part: sorted(names) for part, names in parts.items()}


def fitted_names(manifest: Path) -> set[str]:
    """Return the names of a split file's train and validation parts: the faces its model was fitted or chosen on."""
    parts = json.loads(manifest.read_text())
    return set(parts["train"]) | set(parts["val"])
