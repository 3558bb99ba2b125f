"""Decode a photo once at the smallest JPEG scale detection needs; decode it again only for faces too small there.

A 12-megapixel JPEG decoded at 1/4 in the DCT domain (Pillow's `draft`) costs a fraction of a
full decode and still gives the detector its whole input. Faces are cropped from that reduced
image when it holds at least one pixel per pixel of the model's input, so no face is upsampled
that the file has at a higher resolution; the others come from one more decode of the photo,
at the coarsest DCT scale that has pixels enough for them (the full size at worst).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from whoru.faces.align import InputSpec, face_input, source_pixels_per_output
from whoru.faces.face import Detection
from whoru.faces.images import opened, to_rgb
from whoru.settings import MAX_IMAGE_PIXELS
from whoru.faces.yunet import GRID

ORIENTATION = 0x0112
# Image pixels per crop pixel below which a face comes from a finer decode: under one, the
# reduced image would upsample a face that the file has at a higher resolution.
MIN_SOURCE_PIXELS = 1.0
# Orientations whose upright picture is a mirror image of the stored pixels.
MIRRORED = (2, 4, 5, 7)
# The scales a JPEG decoder can reduce by in the DCT domain, coarsest first.
DCT_SCALES = (8, 4, 2, 1)


def orientation_matrix(orientation: int, width: float, height: float) -> np.ndarray:
    """Return the 3x3 map from stored points (in a width x height frame) to upright ones, as exif_transpose does."""
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
    """An image decoded for the pipeline: `rgb` upright and reduced by `scale`; finer decodes kept once made."""

    data: bytes
    max_pixels: int
    rgb: np.ndarray
    scale: int
    orientation: int
    stored_size: tuple[int, int]
    frames: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def decode(cls, data: bytes, max_side: int, max_pixels: int = MAX_IMAGE_PIXELS) -> "Photo":
        """Decode at the smallest DCT scale that still gives the detector max_side (formats without one: full size)."""
        with opened(data, max_pixels) as image:
            stored_size, orientation = image.size, image.getexif().get(ORIENTATION, 1)
            scale = _draft(image, max_side)
            ImageOps.exif_transpose(image, in_place=True)
            rgb = np.asarray(to_rgb(image))
        return cls(data, max_pixels, rgb, scale, orientation, stored_size)

    @classmethod
    def of_pixels(cls, rgb: np.ndarray) -> "Photo":
        """Wrap pixels already decoded and upright (H x W x 3, uint8): there is no file to decode finer."""
        height, width = rgb.shape[:2]
        return cls(b"", 0, rgb, 1, 1, (width, height))

    @property
    def size(self) -> tuple[int, int]:
        """Return the full upright (width, height)."""
        width, height = self.stored_size
        return (height, width) if self.orientation in (5, 6, 7, 8) else (width, height)

    def to_full(self, face: Detection) -> Detection:
        """Return a detection in `rgb` as pixels of the full upright image."""
        return self._to_scale(face, 1)

    def face_inputs(self, faces: list[Detection], specs: dict[str, InputSpec]) -> dict[str, list[np.ndarray]]:
        """Return, per input name, one model input per face found in `rgb`, each from the coarsest decode that suffices.

        Faces too small in `rgb` for any input all come from one more decode, at the scale the
        most demanding of them needs.
        """
        needed = {name: [self._scale_for(face, spec) for face in faces] for name, spec in specs.items()}
        finer = [scale for scales in needed.values() for scale in scales if scale < self.scale]
        if finer and not any(scale <= min(finer) for scale in self.frames):
            self._frame(min(finer))
        return {name: [self._face_input(face, spec, scale) for face, scale in zip(faces, needed[name])]
                for name, spec in specs.items()}

    def _scale_for(self, face: Detection, spec: InputSpec) -> int:
        """Return the coarsest scale at which a face has MIN_SOURCE_PIXELS image pixels per crop pixel (1 at worst)."""
        pixels = source_pixels_per_output(face.landmarks, spec) * self.scale
        return next((s for s in DCT_SCALES if s <= self.scale and pixels / s >= MIN_SOURCE_PIXELS), 1)

    def _face_input(self, face: Detection, spec: InputSpec, needed: int) -> np.ndarray:
        """Return a face's input from `rgb` when it is fine enough, else from the coarsest decode made that is."""
        if needed == self.scale:
            return face_input(self.rgb, face.landmarks, spec)
        scale = max((s for s in self.frames if s <= needed), default=needed)
        upright = self._to_scale(face, scale)
        if self.orientation in MIRRORED:
            # A similarity warp cannot undo a mirror: these rare orientations turn the frame.
            return face_input(self._frame(scale), upright.landmarks, spec)
        # The frame stays as stored and the landmarks move to it instead. Pixel centres at
        # integers here (frame sides minus one), as warpAffine samples: the crop is the same pixels.
        width, height = _reduced(self.stored_size, scale)
        stored = map_detection(upright, np.linalg.inv(orientation_matrix(self.orientation, width - 1, height - 1)))
        return face_input(self._frame(scale), stored.landmarks, spec)

    def _to_scale(self, face: Detection, scale: int) -> Detection:
        """Return a detection in `rgb` as pixels of the upright image decoded at 1/scale."""
        # Pixel edges at integers, as the detector scales its own results: 1/s of the frame is 1/s of it.
        reduced = orientation_matrix(self.orientation, *_reduced(self.stored_size, self.scale))
        target = orientation_matrix(self.orientation, *_reduced(self.stored_size, scale))
        ratio = self.scale / scale
        return map_detection(face, target @ np.diag([ratio, ratio, 1.0]) @ np.linalg.inv(reduced))

    def _frame(self, scale: int) -> np.ndarray:
        """Decode the image at 1/scale, once: as stored, or upright for the mirrored orientations."""
        if scale not in self.frames:
            with opened(self.data, self.max_pixels) as image:
                if scale > 1:
                    image.draft(image.mode, _reduced(self.stored_size, scale))
                if self.orientation in MIRRORED:
                    ImageOps.exif_transpose(image, in_place=True)
                self.frames[scale] = np.asarray(to_rgb(image))
        return self.frames[scale]


def _reduced(size: tuple[int, int], scale: int) -> tuple[int, int]:
    """Return the size a JPEG decoder gives at 1/scale: each side rounded up."""
    return (-(-size[0] // scale), -(-size[1] // scale))


def _draft(image: Image.Image, max_side: int) -> int:
    """Ask a JPEG decoder for its smallest DCT scale that still gives the detector max_side; return the scale taken.

    The detector pads its input to whole cells of its coarsest grid (32 px), so a side of 1008
    (4032 / 4) runs on the same 1024-px grid as 1024 itself, and finds the same faces.
    """
    width, height = image.size
    longest = max(width, height)
    if longest <= max_side or image.format not in ("JPEG", "MPO"):
        return 1
    scale = next(s for s in DCT_SCALES if -(-longest // s // GRID) * GRID >= max_side)
    drafted = image.draft(image.mode, _reduced(image.size, scale))
    return 1 if drafted is None else round(width / drafted[1][2])
