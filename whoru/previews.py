"""Small upright JPEG previews of analysed images, so pages can draw boxes after the uploads are gone."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

LONGEST_SIDE = 640
QUALITY = 80


def preview_jpeg(rgb: np.ndarray) -> bytes:
    """Return an upright RGB image as a JPEG no larger than LONGEST_SIDE."""
    image = Image.fromarray(rgb)
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()
