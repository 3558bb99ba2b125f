"""Every face in a batch of images: detect, align, then classify all faces in one model call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from whoru.faces.align import InputSpec, face_input
from whoru.faces.detector import FaceDetector
from whoru.faces.face import Detection, FaceResult
from whoru.faces.model import FACE, FaceModel
from whoru.faces.photo import Photo
from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS

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

    def detect(self, rgb: np.ndarray) -> tuple[list[Detection], list[Crop]]:
        """Return the faces of one image and their aligned model inputs."""
        found = self.detector.detect(rgb)
        return found, self.align(rgb, found)

    def align(self, rgb: np.ndarray, faces: list[Detection]) -> list[Crop]:
        """Return the model input(s) of each face, cropped from the full-resolution image.

        A single-input model gets one array per face; a model whose networks each want their
        own crop gets, per face, one array per input name.
        """
        return self._crops(lambda face, spec: face_input(rgb, face.landmarks, spec), faces)

    def align_photo(self, photo: Photo, faces: list[Detection]) -> list[Crop]:
        """Return the model input(s) of each face found in a Photo's reduced image, each from a decode with pixels enough."""
        return self._crops(photo.face_input, faces)

    def _crops(self, crop: Callable[[Detection, InputSpec], np.ndarray], faces: list[Detection]) -> list[Crop]:
        """Return each face's crop for the model's one input, or a crop per input name."""
        specs = self.model.inputs
        if set(specs) == {FACE}:
            return [crop(face, specs[FACE]) for face in faces]
        return [{name: crop(face, spec) for name, spec in specs.items()} for face in faces]

    def classify(self, detections: list[Detection], crops: list[Crop], batch_size: int = 256) -> list[FaceResult]:
        """Classify many faces (from any number of images) in batches of batch_size."""
        if not crops:
            return []
        predictions = self.model.predict(stack_crops(crops), batch_size)
        return [_result(face, predictions, i) for i, face in enumerate(detections)]

    def analyse(self, images: list[np.ndarray]) -> list[list[FaceResult]]:
        """Return the faces of each image, largest first, classifying all of them at once."""
        found = [self.detect(rgb) for rgb in images]
        flat = self.classify([d for ds, _ in found for d in ds], [c for _, cs in found for c in cs])
        results, start = [], 0
        for detections, _ in found:
            results.append(flat[start : start + len(detections)])
            start += len(detections)
        return results


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
