"""A face in a 12-megapixel phone photo gets what the same photo at 2000 pixels gets, through the worker's own path."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from tests.conftest import MODEL
from tests.utils.jobs import PHOTOS
from whoru.faces.face import FaceResult
from whoru.faces.pipeline import FacePipeline
from whoru.settings import MODELS_DIR, Settings
from whoru.stages import Stages
from whoru.worker.analyse import _detect_one

PIPELINE = FacePipeline.load(MODEL, MODELS_DIR / "yunet")
SETTINGS = Settings(previews=False)
PHONE = 4032
# Two renderings of one photo give YuNet pixels that differ by resampling alone, and its landmarks
# move with them: up to 8 px on a 270 px face here. The networks read that as another face (on 400
# test-split chips shrunk by 10%, the default's age moved 0.75 years on average, more than 3 for 4%
# of them), so the predictions are compared at the same landmarks: what is left is the decode scale,
# the orientation and the crop, which are what a phone photo changes.
YEARS, PROBABILITY = 1.0, 0.03


class Bytes:
    """An upload holding one image, as worker/analyse.py reads it."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, _entry: int | None) -> bytes:
        """Return the image's bytes."""
        return self.data


def jpeg(upright: Image.Image, orientation: int = 1) -> bytes:
    """Return a JPEG of quality 92 storing the upright picture as a camera does for an EXIF orientation (1 or 6)."""
    stored = upright.transpose(Image.Transpose.ROTATE_90) if orientation == 6 else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def analyse(data: bytes) -> tuple[tuple[int, int], list[FaceResult]]:
    """Return the full upright size and the faces, largest first, as a worker finds and classifies them."""
    image = SimpleNamespace(id=1, entry=None, job_id="test", position=0)
    outcome, detections, crops = _detect_one(image, Bytes(data), PIPELINE, SETTINGS, Stages(), people=False)
    assert outcome.error_code is None
    return (outcome.width, outcome.height), PIPELINE.classify(detections, crops)


def classify_at(data: bytes, faces: list[FaceResult], factor: float) -> list[FaceResult]:
    """Return the faces of a photo cropped at given full-size detections of a photo `factor` times smaller."""
    photo = PIPELINE.decode(data)
    reduced = [face.detection.scaled(factor / photo.scale) for face in faces]
    return PIPELINE.classify(reduced, PIPELINE.align(photo, reduced))


@pytest.mark.parametrize("name", ["dlib_2008_001009.jpg", "dlib_2008_001322.jpg"])
def test_a_phone_photo_gets_the_predictions_of_the_same_photo_at_2000_pixels(name):
    upright = Image.open(PHOTOS / name).convert("RGB")
    factor = PHONE / max(upright.size)
    phone = upright.resize((round(upright.width * factor), round(upright.height * factor)), Image.Resampling.BICUBIC)
    smaller = phone.resize(
        (round(phone.width * 2000 / PHONE), round(phone.height * 2000 / PHONE)), Image.Resampling.LANCZOS
    )
    size, big = analyse(jpeg(phone, orientation=6))
    _, small = analyse(jpeg(smaller))
    assert size == phone.size and len(big) == len(small) >= 2
    for face, reference in zip(big, small):
        box = np.array(face.detection.box) * 2000 / PHONE
        assert np.abs(box - reference.detection.box).max() < 0.01 * 2000
    for face, reference in zip(classify_at(jpeg(phone, orientation=6), small, PHONE / 2000), small):
        assert abs(face.age - reference.age) < YEARS
        assert (
            face.gender == reference.gender
            and abs(face.gender_probability - reference.gender_probability) < PROBABILITY
        )
        assert face.ethnicity == reference.ethnicity
        assert np.abs(np.subtract(face.ethnicity_probabilities, reference.ethnicity_probabilities)).max() < PROBABILITY


def test_a_small_face_of_a_phone_photo_is_cropped_at_full_resolution():
    chip = Image.open(PHOTOS / "fr_obama_small.jpg").convert("RGB")
    canvas = Image.new("RGB", (3024, 4032), (128, 128, 128))
    canvas.paste(chip, (1200, 1800))  # its face is about 100 pixels wide: too few at half scale for a crop
    _, big = analyse(jpeg(canvas, orientation=6))
    _, whole = analyse(jpeg(canvas.crop((1000, 1600, 1720, 2240))))
    assert len(big) == len(whole) == 1
    face, reference = big[0], whole[0]
    assert abs(face.age - reference.age) < 2.0 and face.gender == reference.gender
    # The phone photo is detected at a quarter of its pixels: one detector pixel is four here.
    assert np.allclose(face.detection.box[:2], np.add(reference.detection.box[:2], (1000, 1600)), atol=8)
