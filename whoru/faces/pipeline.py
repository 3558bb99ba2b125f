"""Every face of a photo: detect on its reduced decode, align, classify; the one path serving and evaluation share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whoru.faces.detector import FaceDetector
from whoru.faces.face import Detection, FaceResult
from whoru.faces.identity import IDENTITY, SPEC, IdentityNet
from whoru.faces.model import FACE, FaceModel, Predictions
from whoru.faces.photo import Photo
from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS
from whoru.settings import MAX_IMAGE_PIXELS
from whoru.stages import Stages

# One face's model input: an array, or one array per input name for a multi-input model.
Crop = np.ndarray | dict[str, np.ndarray]


class FacePipeline:
    """The detector and the model, loaded once per process, and faceres for a model that does not run it."""

    def __init__(self, detector: FaceDetector, model: FaceModel, identity: IdentityNet | None = None):
        self.detector, self.model, self.identity = detector, model, identity
        # faceres' own crop is added to the model's inputs only where the model does not take it already.
        self.extra_identity_input = identity is not None and IDENTITY not in model.inputs

    @classmethod
    def load(
        cls,
        model_dir: Path,
        detector_dir: Path,
        max_side: int = 1024,
        score: float = 0.7,
        threads: int = 1,
        identity_dir: Path | None = None,
    ) -> "FacePipeline":
        """Load the detector, the model and (given its directory) faceres."""
        identity = IdentityNet(identity_dir, threads) if identity_dir else None
        return cls(FaceDetector(detector_dir, score, max_side, threads), FaceModel(model_dir, threads), identity)

    def decode(self, data: bytes, max_pixels: int = MAX_IMAGE_PIXELS) -> Photo:
        """Decode an image's bytes at the smallest scale the detector needs."""
        return Photo.decode(data, self.detector.max_side, max_pixels)

    def find(self, photo: Photo, stages: Stages | None = None, people: bool = False) -> Found:
        """Detect a photo's faces on its reduced image and align each from a decode with pixels enough."""
        stages = stages or Stages()
        with stages("detect"):
            shrunk = self.detector.shrink(photo.rgb)
            found = self.detector.detect(photo.rgb, shrunk)
        with stages("align"):
            crops = self.align(photo, found, people)
        return Found([photo.to_full(face) for face in found], crops, shrunk)

    def align(self, photo: Photo, faces: list[Detection], people: bool = False) -> list[Crop]:
        """Return the model input(s) of each face found in a photo's reduced image.

        A single-input model gets one array per face; a model whose networks each want their
        own crop gets, per face, one array per input name. With people on, a model that does
        not run faceres gets faceres' crop as one more input.
        """
        specs = {**self.model.inputs, IDENTITY: SPEC} if people and self.extra_identity_input else self.model.inputs
        by_input = photo.face_inputs(faces, specs)
        if set(by_input) == {FACE}:
            return by_input[FACE]
        return [{name: crops[i] for name, crops in by_input.items()} for i in range(len(faces))]

    def classify(
        self, detections: list[Detection], crops: list[Crop], batch_size: int = 256, people: bool = False
    ) -> list[FaceResult]:
        """Classify many faces (from any number of images) in batches of batch_size; with people on, embed them too."""
        if not crops:
            return []
        batch = stack_crops(crops)
        extra = batch.pop(IDENTITY) if isinstance(batch, dict) and IDENTITY not in self.model.inputs else None
        if isinstance(batch, dict) and set(batch) == {FACE}:
            batch = batch[FACE]
        predictions = self.model.predict(batch, batch_size)
        embeddings = self._embeddings(predictions, extra) if people else None
        return [_result(face, predictions, i, embeddings) for i, face in enumerate(detections)]

    def _embeddings(self, predictions: Predictions, extra: np.ndarray | None) -> np.ndarray:
        """Return the faces' identity embeddings: from the model's own faceres features, or faceres run on `extra`."""
        if self.identity is None:
            raise ValueError("this pipeline was loaded without faceres' directory; it cannot embed faces")
        if predictions.identity_features is not None:
            return self.identity.descriptors(predictions.identity_features)
        if extra is None:
            raise ValueError(f"model {self.model.name} does not run faceres, and no faceres crops were given")
        return self.identity.embed(extra)

    def analyse(self, photo: Photo, batch_size: int = 256, people: bool = False) -> list[FaceResult]:
        """Return the faces of one photo, largest first, in upright full-resolution pixels (embedded with people on)."""
        found = self.find(photo, people=people)
        return self.classify(found.detections, found.crops, batch_size, people)


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


def _result(face: Detection, predictions: Predictions, i: int, embeddings: np.ndarray | None = None) -> FaceResult:
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
        embedding=None if embeddings is None else embeddings[i],
    )


def _years(value: float) -> float | None:
    """Return an age bound in years, or None where the model gives none (NaN)."""
    return None if np.isnan(value) else float(value)
