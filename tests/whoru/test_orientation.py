"""EXIF orientations 1-8: faces are found and boxed in the upright image."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.utils.jobs import PHOTOS
from whoru.faces.detector import FaceDetector
from whoru.faces.images import decode_image
from whoru.settings import MODELS_DIR

DETECTOR = FaceDetector(MODELS_DIR / "yunet")
UPRIGHT = Image.open(PHOTOS / "dlib_2008_001009.jpg").convert("RGB")
# How each orientation stores the upright picture; the EXIF tag tells the reader how to undo it.
STORED = {
    1: [],
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_90],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_270],
}


def stored_jpeg(orientation: int) -> bytes:
    """Return a JPEG whose pixels are transformed and whose EXIF says how to stand it up."""
    image = UPRIGHT
    for step in STORED[orientation]:
        image = image.transpose(step)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, exif=exif)
    return buffer.getvalue()


def centres(rgb: np.ndarray) -> list[tuple[float, float]]:
    """Return the box centres of the faces found, left to right."""
    return sorted((f.box[0] + f.box[2] / 2, f.box[1] + f.box[3] / 2) for f in DETECTOR.detect(rgb))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_boxes_are_in_the_upright_image(orientation):
    expected = centres(np.asarray(UPRIGHT))
    rgb = decode_image(stored_jpeg(orientation))
    assert rgb.shape[:2] == (UPRIGHT.height, UPRIGHT.width)
    found = centres(rgb)
    assert len(found) == len(expected) == 2
    for (x, y), (ex, ey) in zip(found, expected):
        assert abs(x - ex) < 6 and abs(y - ey) < 6
