"""The ONNX Runtime detector finds the faces OpenCV's own FaceDetectorYN finds, at the same pixels."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from tests.utils.jobs import PHOTOS
from whoru.faces.detector import NMS_THRESHOLD
from whoru.faces.yunet import YuNet
from whoru.settings import MODELS_DIR

WEIGHTS = MODELS_DIR / "yunet" / "face_detection_yunet_2023mar.onnx"
YUNET = YuNet(WEIGHTS)
TRUE_FACES = {name: entry["faces"] for name, entry in json.loads((PHOTOS / "faces.json").read_text()).items()}


def by_position(rows: np.ndarray) -> np.ndarray:
    """Return detection rows ordered by box corner, so two detectors' rows line up."""
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))] if len(rows) else rows.reshape(0, 15)


@pytest.mark.parametrize("name", sorted(TRUE_FACES))
@pytest.mark.parametrize("scale", [1.0, 2.3])
def test_same_faces_as_opencv(name, scale):
    """Same count, boxes, landmarks and scores as FaceDetectorYN, on sizes that are and are not multiples of 32."""
    bgr = cv2.imread(str(PHOTOS / name))
    bgr = cv2.resize(bgr, None, fx=scale, fy=scale) if scale != 1.0 else bgr
    opencv = cv2.FaceDetectorYN.create(str(WEIGHTS), "", (bgr.shape[1], bgr.shape[0]), 0.7, NMS_THRESHOLD, 5000)
    expected = opencv.detect(bgr)[1]
    ours = by_position(YUNET.detect(bgr, 0.7, NMS_THRESHOLD))
    expected = by_position(np.zeros((0, 15), np.float32) if expected is None else expected)
    assert len(ours) == len(expected) == TRUE_FACES[name]
    np.testing.assert_allclose(ours, expected, atol=0.01)


def test_threshold_drops_weak_faces():
    """A threshold above every face's score leaves nothing, and an empty result has the row shape."""
    bgr = cv2.imread(str(PHOTOS / "dlib_2008_001322.jpg"))
    assert YUNET.detect(bgr, 0.999, NMS_THRESHOLD).shape == (0, 15)
