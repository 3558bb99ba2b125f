"""Small upright JPEG previews of analysed images, so pages can draw boxes after the uploads are gone."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

LONGEST_SIDE = 640
QUALITY = 80


def save_preview(rgb: np.ndarray, path: Path) -> None:
    """Write an upright RGB image as a JPEG no larger than LONGEST_SIDE, atomically."""
    image = Image.fromarray(rgb)
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    image.save(partial, "JPEG", quality=QUALITY)
    # A reader never sees half a file, and a retried task simply replaces it.
    os.replace(partial, path)
