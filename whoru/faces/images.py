"""Decode any Pillow-readable image into an upright RGB array, or say clearly why not."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from whoru.settings import MAX_IMAGE_PIXELS

# iPhones save photos as HEIC; with the opener registered, Pillow reads them like any other format.
register_heif_opener()


class ImageError(ValueError):
    """An input that is not a usable image; `code` is a short machine-readable reason."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def decode_image(data: bytes, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Return the first frame of an image as upright RGB uint8, EXIF orientation applied."""
    with opened(data, max_pixels) as image:
        # In place: without an orientation to undo, exif_transpose would otherwise copy the frame.
        ImageOps.exif_transpose(image, in_place=True)
        return np.asarray(to_rgb(image))


@contextmanager
def opened(data: bytes, max_pixels: int = MAX_IMAGE_PIXELS) -> Iterator[Image.Image]:
    """Open an image at its first frame; any failure inside the block becomes an ImageError."""
    if not data:
        raise ImageError("empty_file", "the file is empty")
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; a bomb is a bomb.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.seek(0)
                yield image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError("too_many_pixels", f"image has more than {max_pixels} pixels") from error
    except UnidentifiedImageError as error:
        raise ImageError("not_an_image", "the file is not an image Pillow can read") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError("corrupt_image", f"the image could not be decoded: {error}") from error


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any mode (16-bit, palette, CMYK, alpha) to 8-bit RGB on white; an RGB image is returned as it is."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        scaled = np.asarray(image, dtype=np.float64)
        peak = max(float(scaled.max()), 1.0)
        image = Image.fromarray((scaled * (255.0 / peak)).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    # convert() copies even an RGB image, a whole frame for nothing.
    return image if image.mode == "RGB" else image.convert("RGB")
