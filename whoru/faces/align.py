"""Turn a face's five landmarks into the model's input: the one crop used everywhere.

Training, evaluation and serving all call `face_input`, so a face found in a user's
photo reaches the model exactly as the training faces did.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Where the five landmarks sit, as fractions of the crop, in UTKFace's aligned chips:
# the mean YuNet landmarks over UTKFace chips, made left-right symmetric so that a
# mirrored face is still aligned. Cropping users' photos to this same framing makes
# their faces look to the model like the chips it was trained on.
TEMPLATE = np.array(
    [[0.2985, 0.2875], [0.7015, 0.2875], [0.5, 0.5225], [0.3265, 0.6745], [0.6735, 0.6745]]
)


@dataclass(frozen=True)
class InputSpec:
    """What a model expects: a square of `size` pixels, RGB or grayscale, uint8 values."""

    size: int
    color: str

    @classmethod
    def from_card(cls, card: dict) -> "InputSpec":
        """Read the spec from a model card's `input` object."""
        spec = card["input"]
        if spec["color"] not in ("rgb", "gray"):
            raise ValueError(f"unknown input color {spec['color']!r}")
        return cls(int(spec["size"]), spec["color"])

    @property
    def shape(self) -> tuple[int, int, int]:
        """Return the array shape of one face."""
        return (self.size, self.size, 3 if self.color == "rgb" else 1)


def face_input(rgb: np.ndarray, landmarks: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Align, crop and resize one face of an RGB uint8 image to the model's input."""
    matrix, _ = cv2.estimateAffinePartial2D(landmarks.astype(np.float32), (TEMPLATE * spec.size).astype(np.float32))
    if matrix is None:
        raise ValueError("landmarks are degenerate; cannot align the face")
    oversample = int(np.clip(np.ceil(1.0 / _scale_of(matrix)), 1, 4))
    # Warping straight to a small size aliases large faces; warp larger, then area-average.
    big = cv2.warpAffine(rgb, matrix * oversample, (spec.size * oversample,) * 2, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    face = cv2.resize(big, (spec.size, spec.size), interpolation=cv2.INTER_AREA) if oversample > 1 else big
    if spec.color == "gray":
        return cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)[:, :, None]
    return face


def _scale_of(matrix: np.ndarray) -> float:
    """Return the isotropic scale of a 2x3 similarity transform."""
    return float(np.hypot(matrix[0, 0], matrix[1, 0]))
