"""A found face and the model's reading of it, as plain data, and the public view of one face.

Only numpy here, so the database layer can store faces without loading OpenCV or onnxruntime.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from whoru.labels import ETHNICITIES


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

    def rounded(self) -> "Face":
        """Return this face as it is stored and served: pixels and years to a tenth, probabilities to 4 places."""
        x, y, w, h = (round(float(v), 1) for v in self.detection.box)
        return Face(
            x=x,
            y=y,
            w=w,
            h=h,
            detection_score=round(float(self.detection.score), 4),
            landmarks=[[round(float(px), 1), round(float(py), 1)] for px, py in self.detection.landmarks],
            age=round(self.age, 1),
            age_bin=self.age_bin,
            age_low=_tenth(self.age_low),
            age_high=_tenth(self.age_high),
            gender=self.gender,
            gender_probability=round(self.gender_probability, 4),
            ethnicity=self.ethnicity,
            ethnicity_probabilities=[round(p, 4) for p in self.ethnicity_probabilities],
        )


@dataclass(frozen=True)
class Face:
    """One face as the service stores and serves it: box and landmarks in pixels of the upright photo."""

    x: float
    y: float
    w: float
    h: float
    detection_score: float
    landmarks: list[list[float]]
    age: float
    age_bin: str
    age_low: float | None
    age_high: float | None
    gender: str
    gender_probability: float
    ethnicity: str
    ethnicity_probabilities: list[float]
    # `p1`, `p2`... in a people job once grouped; None before, and for any other face.
    person: str | None = None

    def to_dict(self) -> dict:
        """Return the face as the API's JSON gives it."""
        return face_json(self)


def face_json(face) -> dict:
    """Return the API's view of a face: a `Face`, or a stored face row (it has the same fields)."""
    return {
        "box": {"x": face.x, "y": face.y, "w": face.w, "h": face.h},
        "detection_score": face.detection_score,
        "landmarks": face.landmarks,
        "age": face.age,
        "age_bin": face.age_bin,
        "age_range": None if face.age_low is None else {"low": face.age_low, "high": face.age_high},
        "gender": {"label": face.gender, "probability": face.gender_probability},
        "ethnicity": {"label": face.ethnicity, "probabilities": dict(zip(ETHNICITIES, face.ethnicity_probabilities))},
        "person": face.person,
    }


def _tenth(value: float | None) -> float | None:
    """Return a value rounded to a tenth, or None for a model that gives no age range."""
    return None if value is None else round(float(value), 1)
