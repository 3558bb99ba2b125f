"""Several datasets as one table: every face's network outputs, labels, dataset and part (train, val, test)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whoru.training.readers import ALIGNED_CHIPS, read_dataset
from whoru.training.split import split
from whoru.training.stack.features import detected_faces, network_outputs


@dataclass
class Pooled:
    """Row-aligned arrays over the faces of every dataset given."""

    outputs: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    dataset: np.ndarray
    part: np.ndarray
    names: list[str]
    manifests: dict[str, dict]

    def rows(self, part: str) -> np.ndarray:
        """Return the row numbers of one part of every dataset."""
        return np.flatnonzero(self.part == part)


def pool(sources: list[Path], model_dir: Path, cache_dir: Path) -> Pooled:
    """Read, split and extract each dataset; faces of loose crops that the detector missed are left out."""
    tables = []
    manifests = {}
    for source in sources:
        reading = read_dataset(source)
        manifest = split(reading.faces)
        part_of = {name: part for part, names in manifest.items() for name in names}
        outputs = network_outputs(model_dir, source, reading.faces, reading.sha256, cache_dir)
        keep = (
            np.ones(len(reading.faces), dtype=bool)
            if reading.dataset in ALIGNED_CHIPS
            else detected_faces(source, reading.faces, reading.sha256, cache_dir)
        )
        faces = [face for face, kept in zip(reading.faces, keep) if kept]
        tables.append(
            (
                {k: v[keep] for k, v in outputs.items()},
                {k: np.array([getattr(f, k) for f in faces]) for k in ("age", "gender", "ethnicity")},
                np.array([reading.dataset] * len(faces)),
                np.array([part_of[f.name] for f in faces]),
                [f.name for f in faces],
            )
        )
        manifests[reading.dataset] = {
            "data_sha256": reading.sha256,
            "skipped": len(reading.skipped),
            "undetected_left_out": int((~keep).sum()),
            **manifest,
        }
        print(
            f"{reading.dataset}: {len(faces)} faces ({int((~keep).sum())} without a detected face left out)", flush=True
        )
    return Pooled(
        {k: np.concatenate([t[0][k] for t in tables]) for k in tables[0][0]},
        {k: np.concatenate([t[1][k] for t in tables]) for k in tables[0][1]},
        np.concatenate([t[2] for t in tables]),
        np.concatenate([t[3] for t in tables]),
        [n for t in tables for n in t[4]],
        manifests,
    )
