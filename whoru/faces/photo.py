"""Decode a photo once, whole; area-average the detector's copy, crop faces at the coarsest scale with pixels enough.

A 12-megapixel JPEG decoded whole through libjpeg-turbo's own API (simplejpeg, straight into an
array) costs less than a 1/4 DCT-scaled decode followed by the finer decode that most phone
photos then needed for their small faces (docs/performance.md). The detector's copy is the frame
area-averaged by a whole factor and turned upright. A face is cropped from the coarsest
area-averaged reduction of the frame (that copy, half or full size) where it holds at least one
pixel per pixel of the model's input, so no face is upsampled that the file has at a higher
resolution, and the warp reads no more pixels than it needs. Every format goes this way
(whoru/faces/images.py decodes each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from whoru.faces.align import InputSpec, face_input, source_pixels_per_output
from whoru.faces.capture_time import capture_time
from whoru.faces.face import Detection
from whoru.faces.images import opened, orientation, stored_rgb, upright
from whoru.faces.yunet import GRID
from whoru.settings import MAX_IMAGE_PIXELS

# Image pixels per crop pixel below which a face comes from the full frame: under one, the
# detector's copy would upsample a face that the file has at a higher resolution.
MIN_SOURCE_PIXELS = 1.0
# Orientations whose upright picture is a mirror image of the stored pixels.
MIRRORED = (2, 4, 5, 7)
# Orientations that swap width and height.
TRANSPOSED = (5, 6, 7, 8)
# The whole factors the detector's copy may be reduced by, coarsest first.
SCALES = (8, 4, 2, 1)


def orientation_matrix(orientation: int, width: float, height: float) -> np.ndarray:
    """Return the 3x3 map from stored points (in a width x height frame) to upright ones, as exif_transpose does."""
    w, h = width, height
    rows = {
        1: [[1, 0, 0], [0, 1, 0]],
        2: [[-1, 0, w], [0, 1, 0]],
        3: [[-1, 0, w], [0, -1, h]],
        4: [[1, 0, 0], [0, -1, h]],
        5: [[0, 1, 0], [1, 0, 0]],
        6: [[0, -1, h], [1, 0, 0]],
        7: [[0, -1, h], [-1, 0, w]],
        8: [[0, 1, 0], [-1, 0, w]],
    }
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
    """A photo decoded once: the detector's copy and the frame's reductions.

    `rgb` is the detector's copy, upright and reduced by `scale`; `levels` the frame halved down
    to it, turned by `turn`.
    """

    rgb: np.ndarray
    scale: int
    turn: int
    levels: dict[int, np.ndarray] = field(repr=False)
    # The EXIF capture time, if the file has one.
    taken_at: datetime | None = None

    @classmethod
    def decode(cls, data: bytes, max_side: int, max_pixels: int = MAX_IMAGE_PIXELS) -> "Photo":
        """Decode the whole photo; area-average the detector's copy by the coarsest factor that still gives max_side."""
        with opened(data, max_pixels) as image:
            scale = detector_scale(image.size[::-1], max_side)
            # A photo larger than the detector's side is decoded the fast way (about 13% less time at
            # 12 MP); one no larger, a dataset's chip, keeps the exact pixels the models were measured on.
            frame = stored_rgb(image, data, fast=scale > 1)
            turned, taken_at = orientation(image), capture_time(image)
        # A pure turn of a large photo costs a full-frame copy: its crops move their landmarks
        # to the stored frame instead. A similarity warp cannot undo a mirror, so those turn.
        turn = turned if scale > 1 and turned not in MIRRORED else 1
        levels = halvings(upright(frame, turned if turn == 1 else 1), scale)
        return cls(upright(levels[scale], turn), scale, turn, levels, taken_at)

    @property
    def frame(self) -> np.ndarray:
        """Return the full-resolution pixels (turned by `turn`)."""
        return self.levels[1]

    @classmethod
    def of_pixels(cls, rgb: np.ndarray) -> "Photo":
        """Wrap pixels already decoded and upright (H x W x 3, uint8): the frame and the detector's copy at once."""
        return cls(rgb, 1, 1, {1: rgb})

    @property
    def size(self) -> tuple[int, int]:
        """Return the full upright (width, height)."""
        height, width = self.frame.shape[:2]
        return (height, width) if self.turn in TRANSPOSED else (width, height)

    def to_full(self, face: Detection) -> Detection:
        """Return a detection in `rgb` as pixels of the full upright image."""
        return self._to_scale(face, 1)

    def face_inputs(self, faces: list[Detection], specs: dict[str, InputSpec]) -> dict[str, list[np.ndarray]]:
        """Return, per input name, one model input per face found in `rgb`."""
        return {
            name: [self._face_input(face, spec, self.source_scale(face, spec)) for face in faces]
            for name, spec in specs.items()
        }

    def source_scale(self, face: Detection, spec: InputSpec) -> int:
        """Return the coarsest frame scale giving a face in `rgb` MIN_SOURCE_PIXELS pixels per crop pixel, else 1."""
        pixels = source_pixels_per_output(face.landmarks, spec) * self.scale
        return next((s for s in SCALES if s <= self.scale and pixels / s >= MIN_SOURCE_PIXELS), 1)

    def _face_input(self, face: Detection, spec: InputSpec, scale: int) -> np.ndarray:
        """Return a face's input cropped from the frame halved to `scale` (`rgb` itself at the detector's scale)."""
        if scale == self.scale:
            return face_input(self.rgb, face.landmarks, spec)
        pixels, level = self.levels[scale], self._to_scale(face, scale)
        if self.turn == 1:
            return face_input(pixels, level.landmarks, spec)
        # The frame stays as stored and the landmarks move to it instead. Pixel centres at
        # integers here (frame sides minus one), as warpAffine samples: the crop is the same pixels.
        height, width = pixels.shape[:2]
        stored = map_detection(level, np.linalg.inv(orientation_matrix(self.turn, width - 1, height - 1)))
        return face_input(pixels, stored.landmarks, spec)

    def _to_scale(self, face: Detection, scale: int) -> Detection:
        """Return a detection in `rgb` as pixels of the upright frame area-averaged by `scale`."""
        # Pixel edges at integers, as the detector scales its own results: the copy's pixel i
        # averages the frame's pixels scale * i to scale * (i + 1).
        height, width = self.frame.shape[:2]
        reduced = orientation_matrix(self.turn, width // self.scale, height // self.scale)
        target = orientation_matrix(self.turn, width // scale, height // scale)
        ratio = self.scale / scale
        return map_detection(face, target @ np.diag([ratio, ratio, 1.0]) @ np.linalg.inv(reduced))


def detector_scale(shape: tuple[int, ...], max_side: int) -> int:
    """Return the coarsest whole factor that still gives the detector max_side (1 for a photo no larger).

    The detector pads its input to whole cells of its coarsest grid (32 px), so a side of 1008
    (4032 / 4) runs on the same 1024-px grid as 1024 itself, and finds the same faces.
    """
    longest = max(shape[:2])
    if longest <= max_side:
        return 1
    return next(s for s in SCALES if -(-(longest // s) // GRID) * GRID >= max_side)


def halvings(frame: np.ndarray, scale: int) -> dict[int, np.ndarray]:
    """Return the frame area-averaged by each power of two up to scale, keyed by factor (1: the frame itself).

    Halving twice is the same 4x4 average as one quarter (up to rounding), and OpenCV's vectorised path covers
    only 2x2 (measured, docs/performance.md); each level's odd last row or column is dropped.
    """
    levels = {1: frame}
    while max(levels) < scale:
        previous = levels[max(levels)]
        height, width = previous.shape[0] // 2, previous.shape[1] // 2
        levels[2 * max(levels)] = cv2.resize(
            previous[: 2 * height, : 2 * width], (width, height), interpolation=cv2.INTER_AREA
        )
    return levels
