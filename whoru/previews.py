"""Small upright JPEG previews of analysed images, so pages can draw boxes after the uploads are gone."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

LONGEST_SIDE = 640
QUALITY = 80


def preview_jpeg(rgb: np.ndarray) -> bytes:
    """Return an upright RGB image as a JPEG no larger than LONGEST_SIDE."""
    height, width = rgb.shape[:2]
    factor = min(1.0, LONGEST_SIDE / max(height, width))
    # Bilinear, the quickest (docs/performance.md, "Choices in the code"): at most 1.6x down
    # (from the detector's copy), it does not alias.
    small = (
        rgb
        if factor == 1.0
        else cv2.resize(rgb, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_LINEAR)
    )
    buffer = io.BytesIO()
    Image.fromarray(small).save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()
