"""Find faces and their five landmarks with YuNet, on a downscaled copy of each image."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from whoru.faces.face import Detection
from whoru.faces.yunet import YuNet
from whoru.model_card import ModelCard

# OpenCV's FaceDetectorYN default: boxes overlapping a better one by more than this are dropped.
NMS_THRESHOLD = 0.3


class FaceDetector:
    """YuNet on a copy of the image no larger than max_side, results in full-size pixels."""

    def __init__(self, model_dir: Path, score_threshold: float = 0.7, max_side: int = 1024, threads: int = 1):
        card = ModelCard.load(model_dir)
        weights = model_dir / str(card.file)
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        if digest != card.sha256:
            raise ValueError(f"{weights} does not match the checksum in its card.json")
        self.max_side, self.score_threshold = max_side, score_threshold
        self._net = YuNet(weights, threads)

    def shrink(self, rgb: np.ndarray) -> np.ndarray:
        """Return the copy of an image that detection runs on: no side above max_side."""
        factor = self._factor(rgb)
        return rgb if factor == 1.0 else cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)

    def detect(self, rgb: np.ndarray, shrunk: np.ndarray | None = None) -> list[Detection]:
        """Return every face in an RGB uint8 image, largest first; pass its `shrink` when already made."""
        factor = self._factor(rgb)
        small = self.shrink(rgb) if shrunk is None else shrunk
        found = [_to_detection(row) for row in self._net.detect(small[:, :, ::-1], self.score_threshold, NMS_THRESHOLD)]
        scaled = [face.scaled(1.0 / factor) for face in found]
        return sorted(scaled, key=lambda face: face.area, reverse=True)

    def _factor(self, rgb: np.ndarray) -> float:
        """Return the scale of the copy detection runs on."""
        return min(1.0, self.max_side / max(rgb.shape[:2]))


def _to_detection(row: np.ndarray) -> Detection:
    """Turn one YuNet output row into a Detection."""
    box = tuple(float(v) for v in row[:4])
    return Detection(box, row[4:14].reshape(5, 2).astype(np.float64), float(row[14]))  # type: ignore[arg-type]
