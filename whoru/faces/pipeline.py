"""Every face of a photo: detect on its reduced decode, align, classify; the one path serving and evaluation share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whoru.faces.detector import FaceDetector
from whoru.faces.face import Detection, FaceResult
from whoru.faces.model import FACE, FaceModel
from whoru.settings import MAX_IMAGE_PIXELS
from whoru.faces.photo import Photo
from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS
from whoru.stages import Stages

# One face's model input: an array, or one array per input name for a multi-input model.
Crop = np.ndarray | dict[str, np.ndarray]


class FacePipeline:
    """The detector and the model, loaded once per process."""

    def __init__(self, detector: FaceDetector, model: FaceModel):
        self.detector, self.model = detector, model

    @classmethod
    def load(cls, model_dir: Path, detector_dir: Path, max_side: int = 1024, score: float = 0.7, threads: int = 1) -> "FacePipeline":
        """Load the detector and the model from their directories."""
        return cls(FaceDetector(detector_dir, score, max_side, threads), FaceModel(model_dir, threads))

    def decode(self, data: bytes, max_pixels: int = MAX_IMAGE_PIXELS) -> Photo:
        """Decode an image's bytes at the smallest scale the detector needs."""
        return Photo.decode(data, self.detector.max_side, max_pixels)

    def find(self, photo: Photo, stages: Stages | None = None) -> Found:
        """Detect a photo's faces on its reduced image and align each from a decode with pixels enough."""
        stages = stages or Stages()
        with stages("detect"):
            shrunk = self.detector.shrink(photo.rgb)
            found = self.detector.detect(photo.rgb, shrunk)
        with stages("align"):
            crops = self.align(photo, found)
        return Found([photo.to_full(face) for face in found], crops, shrunk)

    def align(self, photo: Photo, faces: list[Detection]) -> list[Crop]:
        """Return the model input(s) of each face found in a photo's reduced image.

        A single-input model gets one array per face; a model whose networks each want their
        own crop gets, per face, one array per input name.
        """
        by_input = photo.face_inputs(faces, self.model.inputs)
        if set(by_input) == {FACE}:
            return by_input[FACE]
        return [{name: crops[i] for name, crops in by_input.items()} for i in range(len(faces))]

    def classify(self, detections: list[Detection], crops: list[Crop], batch_size: int = 256) -> list[FaceResult]:
        """Classify many faces (from any number of images) in batches of batch_size."""
        if not crops:
            return []
        predictions = self.model.predict(stack_crops(crops), batch_size)
        return [_result(face, predictions, i) for i, face in enumerate(detections)]

    def analyse(self, photo: Photo, batch_size: int = 256) -> list[FaceResult]:
        """Return the faces of one photo, largest first, in upright full-resolution pixels."""
        found = self.find(photo)
        return self.classify(found.detections, found.crops, batch_size)


@dataclass(frozen=True)
class Found:
    """A photo's faces (upright, full-resolution pixels), their model inputs and the detector's copy of the photo."""

    detections: list[Detection]
    crops: list[Crop]
    detector_copy: np.ndarray


def stack_crops(crops: list[Crop]) -> np.ndarray | dict[str, np.ndarray]:
    """Stack per-face crops into the batch `FaceModel.predict` takes."""
    if isinstance(crops[0], dict):
        return {name: np.stack([crop[name] for crop in crops]) for name in crops[0]}  # type: ignore[index]
    return np.stack(crops)


def _result(face: Detection, predictions, i: int) -> FaceResult:
    """Build the result of face i of a batch."""
    female = float(predictions.female_probability[i])
    gender = GENDERS[int(female >= 0.5)]
    ethnicity = predictions.ethnicity_probabilities[i]
    return FaceResult(
        detection=face,
        age=float(predictions.age[i]),
        age_bin=AGE_BIN_NAMES[int(predictions.age_bin[i])],
        gender=gender,
        gender_probability=female if gender == "female" else 1.0 - female,
        ethnicity=ETHNICITIES[int(ethnicity.argmax())],
        ethnicity_probabilities=[float(p) for p in ethnicity],
        age_low=_years(predictions.age_low[i]),
        age_high=_years(predictions.age_high[i]),
    )


def _years(value: float) -> float | None:
    """Return an age bound in years, or None where the model gives none (NaN)."""
    return None if np.isnan(value) else float(value)
