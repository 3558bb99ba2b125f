"""The one list of image file extensions whoru accepts: the server, the upload client and the web page read it."""

from __future__ import annotations

from pathlib import PurePosixPath

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".heic", ".heif")


def is_image_name(name: str) -> bool:
    """Return True if a file name has an image extension, in any letter case."""
    return PurePosixPath(name).suffix.lower() in IMAGE_EXTENSIONS
