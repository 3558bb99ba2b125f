"""Decode a photo once at the smallest JPEG scale detection needs; decode it whole only for faces too small there.

A 12-megapixel JPEG decoded at 1/2 or 1/4 in the DCT domain (Pillow's `draft`) costs a fraction
of a full decode and still gives the detector its whole input. Faces are cropped from that
reduced image when it holds at least one pixel per pixel of the model's input, so no face is
upsampled that the full image had at a higher resolution; the others come from one full decode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from whoru.faces.align import InputSpec, face_input, source_pixels_per_output
from whoru.faces.face import Detection
from whoru.faces.images import MAX_PIXELS, opened, to_rgb

ORIENTATION = 0x0112
# Image pixels per crop pixel below which a face comes from the full decode: under one, the
# reduced image would upsample a face that the full image has at a higher resolution.
MIN_SOURCE_PIXELS = 1.0
# Orientations whose upright picture is a mirror image of the stored pixels.
MIRRORED = (2, 4, 5, 7)


def orientation_matrix(orientation: int, width: float, height: float) -> np.ndarray:
    """Return the 3x3 map from stored points (in a width x height frame) to upright ones, as exif_transpose turns pixels."""
    w, h = width, height
    rows = {1: [[1, 0, 0], [0, 1, 0]], 2: [[-1, 0, w], [0, 1, 0]], 3: [[-1, 0, w], [0, -1, h]], 4: [[1, 0, 0], [0, -1, h]],
            5: [[0, 1, 0], [1, 0, 0]], 6: [[0, -1, h], [1, 0, 0]], 7: [[0, -1, h], [-1, 0, w]], 8: [[0, 1, 0], [-1, 0, w]]}
    return np.array([*rows.get(orientation, rows[1]), [0, 0, 1]], dtype=np.float64)


def map_detection(face: Detection, matrix: np.ndarray) -> Detection:
    """Return a detection moved by a 3x3 affine map of points."""
    x, y, w, h = face.box
    corners = _apply(matrix, np.array([[x, y], [x + w, y + h]]))
    low, high = corners.min(axis=0), corners.max(axis=0)
    box = (float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1]))
    return Detection(box, _apply(matrix, face.landmarks), face.score)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Return points (n x 2) moved by a 3x3 affine map."""
    return points @ matrix[:2, :2].T + matrix[:2, 2]


@dataclass
class Photo:
    """An image decoded for the pipeline: `rgb` upright and reduced by `scale`, the full decode kept once made."""

    data: bytes
    max_pixels: int
    rgb: np.ndarray
    scale: int
    orientation: int
    stored_size: tuple[int, int]
    _full: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def decode(cls, data: bytes, max_side: int, max_pixels: int = MAX_PIXELS) -> "Photo":
        """Decode at the smallest DCT scale whose longest side still reaches max_side (formats without one: full size)."""
        with opened(data, max_pixels) as image:
            stored_size, orientation = image.size, image.getexif().get(ORIENTATION, 1)
            scale = _draft(image, max_side)
            ImageOps.exif_transpose(image, in_place=True)
            rgb = np.asarray(to_rgb(image))
        return cls(data, max_pixels, rgb, scale, orientation, stored_size)

    @property
    def size(self) -> tuple[int, int]:
        """Return the full upright (width, height)."""
        width, height = self.stored_size
        return (height, width) if self.orientation in (5, 6, 7, 8) else (width, height)

    def to_full(self, face: Detection) -> Detection:
        """Return a detection in `rgb` as pixels of the full upright image."""
        # Pixel edges at integers, as the detector scales its own results: 1/s of the frame is 1/s of it.
        reduced = orientation_matrix(self.orientation, *(-(-side // self.scale) for side in self.stored_size))
        full = orientation_matrix(self.orientation, *self.stored_size)
        return map_detection(face, full @ np.diag([self.scale, self.scale, 1.0]) @ np.linalg.inv(reduced))

    def face_input(self, face: Detection, spec: InputSpec) -> np.ndarray:
        """Return one model input for a face found in `rgb`, from the reduced image when it has pixels enough."""
        if self.scale == 1 or source_pixels_per_output(face.landmarks, spec) >= MIN_SOURCE_PIXELS:
            return face_input(self.rgb, face.landmarks, spec)
        upright = self.to_full(face)
        if self.orientation in MIRRORED:
            # A similarity warp cannot undo a mirror: these rare orientations turn the full frame.
            return face_input(self._full_frame(upright=True), upright.landmarks, spec)
        # The full frame stays as stored and the landmarks move to it instead. Pixel centres at
        # integers here (frame sides minus one), as warpAffine samples: the crop is the same pixels.
        width, height = self.stored_size
        stored = map_detection(upright, np.linalg.inv(orientation_matrix(self.orientation, width - 1, height - 1)))
        return face_input(self._full_frame(upright=False), stored.landmarks, spec)

    def _full_frame(self, upright: bool) -> np.ndarray:
        """Decode the whole image at full resolution, once, as stored (or upright)."""
        if self._full is None:
            with opened(self.data, self.max_pixels) as image:
                if upright:
                    ImageOps.exif_transpose(image, in_place=True)
                self._full = np.asarray(to_rgb(image))
        return self._full


def _draft(image: Image.Image, max_side: int) -> int:
    """Ask a JPEG decoder for its smallest DCT scale keeping the longest side >= max_side; return the scale taken."""
    width, height = image.size
    if max(width, height) <= max_side or image.format not in ("JPEG", "MPO"):
        return 1
    longest = max(width, height)
    # Rounded up, so the longest side asked for is max_side exactly and the decoder never goes below it.
    drafted = image.draft(image.mode, (-(-width * max_side // longest), -(-height * max_side // longest)))
    return 1 if drafted is None else round(width / drafted[1][2])
