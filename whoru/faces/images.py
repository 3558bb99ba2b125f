"""Decode any Pillow-readable image into an upright RGB array, or say clearly why not."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import simplejpeg
from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

from whoru.settings import MAX_IMAGE_PIXELS

# iPhones save photos as HEIC; with the opener registered, Pillow reads them like any other format.
register_heif_opener()

ORIENTATION = 0x0112
# How stored pixels (rows, columns, channels) stand up for each EXIF orientation, as exif_transpose turns them.
UPRIGHT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: a.swapaxes(0, 1)[:, ::-1],
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: a.swapaxes(0, 1)[::-1],
}


class ImageError(ValueError):
    """An input that is not a usable image; `code` is a short machine-readable reason."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def decode_image(data: bytes, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Return the first frame of an image as upright RGB uint8, EXIF orientation applied."""
    with opened(data, max_pixels) as image:
        return upright(stored_rgb(image, data), orientation(image))


def orientation(image: Image.Image) -> int:
    """Return an opened image's EXIF orientation (1, upright, when it has none or an unknown one)."""
    value = image.getexif().get(ORIENTATION, 1)
    return value if value in UPRIGHT else 1


def stored_rgb(image: Image.Image, data: bytes, fast: bool = False) -> np.ndarray:
    """Return an opened image's first frame as stored (orientation not applied), RGB uint8.

    Pillow decodes a JPEG into 4 bytes a pixel and then packs it into a second, 3-byte buffer;
    libjpeg-turbo's own API (simplejpeg) writes the array once, with the same pixels. CMYK JPEGs
    and every other format go through Pillow. `fast` takes libjpeg-turbo's fast inverse DCT and
    chroma upsampling, which move pixels by about one level (docs/performance.md).
    """
    if image.format in ("JPEG", "MPO") and image.mode in ("RGB", "L"):
        return simplejpeg.decode_jpeg(data, colorspace="RGB", fastdct=fast, fastupsample=fast)
    return np.asarray(to_rgb(image))


def upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Return stored pixels turned upright for an EXIF orientation (the array itself for orientation 1)."""
    return pixels if orientation == 1 else np.ascontiguousarray(UPRIGHT[orientation](pixels))


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
