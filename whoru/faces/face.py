"""A found face and the model's reading of it, as plain data.

Only numpy here, so the database layer can store faces without loading OpenCV or onnxruntime.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One face found in an image, in pixels of the image it was found in."""

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float

    def scaled(self, factor: float) -> "Detection":
        """Return this detection with every coordinate multiplied by factor."""
        box = tuple(float(v) * factor for v in self.box)
        return Detection(box, self.landmarks * factor, self.score)  # type: ignore[arg-type]

    @property
    def area(self) -> float:
        """Return the box area in square pixels."""
        return self.box[2] * self.box[3]


@dataclass(frozen=True)
class FaceResult:
    """One face: where it is, and the model's age, gender and ethnicity for it."""

    detection: Detection
    age: float
    age_bin: str
    gender: str
    gender_probability: float
    ethnicity: str
    ethnicity_probabilities: list[float]
    # The central 80% of the predicted age distribution, in years; None for a model that only predicts bins.
    age_low: float | None = None
    age_high: float | None = None
    # The unit identity descriptor, computed only for jobs that group faces by person.
    embedding: np.ndarray | None = None
