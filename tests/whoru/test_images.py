"""Every Pillow mode becomes upright RGB; broken input gets a clear error code."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.utils.jobs import PHOTOS
from whoru.faces.images import ImageError, decode_image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    """Return an image encoded in a format."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


PHOTO = Image.open(PHOTOS / "fr_obama_small.jpg").convert("RGB")


@pytest.mark.parametrize(
    "mode,fmt",
    [
        ("RGBA", "PNG"),
        ("P", "PNG"),
        ("L", "PNG"),
        ("LA", "PNG"),
        ("CMYK", "JPEG"),
        ("I;16", "PNG"),
        ("1", "BMP"),
        ("RGB", "WEBP"),
        ("RGB", "TIFF"),
    ],
)
def test_modes_become_rgb(mode, fmt):
    rgb = decode_image(encode(PHOTO.convert(mode), fmt))
    assert rgb.dtype == np.uint8 and rgb.shape == (PHOTO.height, PHOTO.width, 3)


def test_sixteen_bit_keeps_its_contrast():
    ramp = Image.fromarray((np.arange(256 * 64).reshape(64, 256) * 4).astype(np.uint16))
    rgb = decode_image(encode(ramp, "PNG"))
    assert rgb.min() < 10 and rgb.max() > 245


def test_animated_gif_uses_first_frame():
    red, blue = Image.new("RGB", (32, 32), (255, 0, 0)), Image.new("RGB", (32, 32), (0, 0, 255))
    data = encode(red, "GIF", save_all=True, append_images=[blue])
    assert tuple(decode_image(data)[0, 0]) == (255, 0, 0)


def test_heic_photos_decode_upright():
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(PHOTO, "HEIF", exif=exif.tobytes(), quality=90)
    rgb = decode_image(data)
    assert rgb.shape[:2] == (PHOTO.width, PHOTO.height)
    upright = np.asarray(PHOTO.transpose(Image.Transpose.ROTATE_270), dtype=np.float32)
    assert np.abs(rgb.astype(np.float32) - upright).mean() < 8


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    data = encode(PHOTO, "JPEG", exif=exif)
    assert decode_image(data).shape[:2] == (PHOTO.width, PHOTO.height)


def test_transparent_pixels_become_white():
    clear = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    assert decode_image(encode(clear, "PNG")).min() == 255


@pytest.mark.parametrize(
    "data,code",
    [
        (b"", "empty_file"),
        (b"just some text, not an image", "not_an_image"),
        (encode(PHOTO, "JPEG")[:2000], "corrupt_image"),
    ],
)
def test_broken_input_has_a_code(data, code):
    with pytest.raises(ImageError) as error:
        decode_image(data)
    assert error.value.code == code


def test_pixel_bombs_are_refused_even_in_the_warning_band():
    data = encode(Image.new("L", (1000, 1000)), "PNG")
    with pytest.raises(ImageError) as error:
        decode_image(data, max_pixels=600_000)
    assert error.value.code == "too_many_pixels"
