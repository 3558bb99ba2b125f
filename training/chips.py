"""The training path: a UTKFace chip is padded, detected and aligned like a face in a photo."""

from __future__ import annotations

import cv2
import numpy as np

from whoru.faces.align import TEMPLATE
from whoru.faces.detector import FaceDetector

# A chip is cut tight around the face; the detector needs some border to see it whole.
PAD_FRACTION = 0.25


def pad_chip(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """Return the chip on a black border and the border width in pixels."""
    pad = int(round(max(rgb.shape[:2]) * PAD_FRACTION))
    return cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0)), pad


def chip_landmarks(padded: np.ndarray, pad: int, detector: FaceDetector) -> tuple[np.ndarray, bool]:
    """Return the five landmarks of a padded chip's face and whether the detector found it.

    When the detector finds nothing, the chip's own alignment stands in: UTKFace chips
    are already aligned, so the template's landmark positions are where the face is.
    """
    found = detector.detect(padded)
    if found:
        return found[0].landmarks, True
    height, width = padded.shape[0] - 2 * pad, padded.shape[1] - 2 * pad
    return TEMPLATE * np.array([width, height]) + pad, False
