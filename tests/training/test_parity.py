"""The training feature path and the worker's serving path give the same crops, landmarks and predictions.

Training puts each UTKFace chip on a black border, detects and aligns it (training/chips.py) and
caches the crops (training/cache.py). A worker decodes a photo, detects and aligns on it
(whoru/faces/photo.py) and classifies (worker/analyse.py). A photo that is such a bordered chip
must reach the model as the chip reached it in training: exactly when the photo is lossless,
within JPEG's loss when it is saved as a camera saves it, turned by an EXIF orientation.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image as PILImage

from tests.utils.jobs import FIXTURES
from whoru.db.schema import Image, Upload
from whoru.faces.align import InputSpec, face_input
from whoru.faces.images import decode_image
from whoru.faces.pipeline import FacePipeline
from whoru.settings import Settings
from whoru.stages import Stages
from whoru.storage import open_store
from whoru.training.cache import build_arrays
from whoru.training.chips import chip_landmarks, pad_chip
from whoru.training.readers import read_dataset
from whoru.worker.analyse import analyse_images

SOURCE = FIXTURES / "utkface"
FACES = read_dataset(SOURCE).faces[:6]
ORIENTATION = 0x0112


@dataclass(frozen=True)
class Tolerance:
    """How far serving may be from training: landmark pixels, mean crop levels, years, probability."""

    landmarks: float
    crop: float
    age: float
    probability: float


# A lossless photo holds the training pixels: anything past float noise is drift.
LOSSLESS = Tolerance(landmarks=0.01, crop=0.0, age=0.01, probability=0.001)
# JPEG at quality 95 moves landmarks under a pixel, crops by 1-5 levels and predictions by a few hundredths.
CAMERA = Tolerance(landmarks=1.5, crop=8.0, age=1.0, probability=0.06)


@dataclass(frozen=True)
class Training:
    """What training made of the chips: each network's crops, the landmarks found, the predictions."""

    inputs: dict[str, np.ndarray]
    landmarks: list[np.ndarray]
    female: np.ndarray
    age: np.ndarray
    ethnicity: np.ndarray


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """Return a worker's settings with the default model and a folder store."""
    return Settings.from_env({"WHORU_HOME": str(tmp_path_factory.mktemp("home")), "WHORU_PREVIEWS": "false"})


@pytest.fixture(scope="module")
def pipeline(settings) -> FacePipeline:
    """Return the detector and model a worker loads."""
    return FacePipeline.load(settings.model, settings.detector, settings.detect_max_side, settings.detect_score)


@pytest.fixture(scope="module")
def training(pipeline, tmp_path_factory) -> Training:
    """Run the training feature path on the chips, as `evaluate --mode chips` does."""
    cache = tmp_path_factory.mktemp("cache")
    inputs = {
        name: build_arrays(SOURCE, FACES, spec, cache / f"{name}.npz", processes=1).images
        for name, spec in pipeline.model.inputs.items()
    }
    landmarks = []
    for face in FACES:
        points, detected = chip_landmarks(*pad_chip(decode_image((SOURCE / face.name).read_bytes())), pipeline.detector)
        assert detected, face.name
        landmarks.append(points)
    model = pipeline.model
    predictions = model.predict(inputs if model.spec is None else next(iter(inputs.values())))
    return Training(
        inputs, landmarks, predictions.female_probability, predictions.age, predictions.ethnicity_probabilities
    )


def bordered_chip(name: str) -> np.ndarray:
    """Return a chip on the border training gives it: the photo a chip stands for."""
    return pad_chip(decode_image((SOURCE / name).read_bytes()))[0]


def lossless(rgb: np.ndarray) -> bytes:
    """Return a PNG of the pixels."""
    buffer = io.BytesIO()
    PILImage.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def turned_jpeg(rgb: np.ndarray) -> bytes:
    """Return a quality-95 JPEG stored a quarter turn left, with EXIF orientation 6 to turn it upright."""
    exif = PILImage.Exif()
    exif[ORIENTATION] = 6
    buffer = io.BytesIO()
    PILImage.fromarray(rgb).transpose(PILImage.Transpose.ROTATE_90).save(buffer, "JPEG", quality=95, exif=exif)
    return buffer.getvalue()


def served(photos: list[bytes], pipeline: FacePipeline, settings: Settings):
    """Run the worker's analysis on photos stored as single-image parts; return an outcome per photo."""
    store, images = open_store(settings), []
    for i, data in enumerate(photos):
        key = f"jobs/parity/{i:05d}.bin"
        store.put_bytes(key, data)
        images.append(
            Image(
                id=i + 1,
                job_id="parity",
                position=i,
                upload_id=i + 1,
                entry=None,
                name=f"{i}.jpg",
                status="pending",
                upload=Upload(id=i + 1, path=key, kind="image"),
            )
        )
    return analyse_images(images, pipeline, settings, Stages())


def served_crops(data: bytes, pipeline: FacePipeline, settings: Settings) -> dict[str, np.ndarray]:
    """Return the crops a worker gives the model for the largest face of a photo, by input name."""
    crops = pipeline.find(pipeline.decode(data, settings.max_image_pixels)).crops[0]
    return crops if isinstance(crops, dict) else {next(iter(pipeline.model.inputs)): crops}


@pytest.mark.parametrize(
    ("encode", "tolerance"), [(lossless, LOSSLESS), (turned_jpeg, CAMERA)], ids=["png", "turned-jpeg"]
)
def test_serving_a_photo_of_a_chip_gives_what_training_gave_the_chip(training, pipeline, settings, encode, tolerance):
    photos = [encode(bordered_chip(face.name)) for face in FACES]
    for i, outcome in enumerate(served(photos, pipeline, settings)):
        assert outcome.error_code is None and outcome.faces, FACES[i].name
        face = outcome.faces[0]
        female = face.gender_probability if face.gender == "female" else 1.0 - face.gender_probability
        assert np.abs(face.detection.landmarks - training.landmarks[i]).max() <= tolerance.landmarks, FACES[i].name
        assert abs(face.age - training.age[i]) <= tolerance.age, FACES[i].name
        assert abs(female - training.female[i]) <= tolerance.probability, FACES[i].name
        assert np.abs(np.array(face.ethnicity_probabilities) - training.ethnicity[i]).max() <= tolerance.probability
        for name, crop in served_crops(photos[i], pipeline, settings).items():
            difference = np.abs(crop.astype(int) - training.inputs[name][i].astype(int)).mean()
            assert crop.shape == training.inputs[name][i].shape and difference <= tolerance.crop, (FACES[i].name, name)


def test_cached_crops_are_the_crops_computed(training, pipeline, tmp_path):
    name, spec = next(iter(pipeline.model.inputs.items()))
    cache = tmp_path / "crops.npz"
    computed = build_arrays(SOURCE, FACES, spec, cache, processes=1)
    cached = build_arrays(SOURCE, list(reversed(FACES)), spec, cache)
    np.testing.assert_array_equal(computed.images, training.inputs[name])
    np.testing.assert_array_equal(cached.images, computed.images[::-1])
    assert cached.names == [face.name for face in reversed(FACES)]


def test_the_face_fills_the_crop_like_a_chip(pipeline):
    chip = decode_image((SOURCE / FACES[0].name).read_bytes())
    padded, pad = pad_chip(chip)
    landmarks, _ = chip_landmarks(padded, pad, pipeline.detector)
    crop = face_input(padded, landmarks, InputSpec(200, "rgb"))
    # The crop frames the face as UTKFace does, so it matches the chip far better than chance.
    difference = np.abs(crop.astype(int) - chip.astype(int)).mean()
    assert difference < 40


def test_degenerate_landmarks_are_refused():
    with pytest.raises(ValueError, match="degenerate"):
        face_input(np.zeros((50, 50, 3), np.uint8), np.zeros((5, 2)), InputSpec(64, "rgb"))
