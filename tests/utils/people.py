"""Photos of the same people in several pictures, made from the shared fixtures, for people jobs."""

from __future__ import annotations

import io

from PIL import Image, ImageEnhance, ImageOps

from tests.utils.jobs import PHOTOS

GROUP = PHOTOS / "dlib_2008_001322.jpg"
PORTRAIT = PHOTOS / "fr_obama_small.jpg"
TAKEN = "2012:06:01 10:30:00"


def jpeg(image: Image.Image, taken: str | None = None) -> bytes:
    """Return an image as JPEG bytes, with an EXIF capture date if given."""
    buffer, exif = io.BytesIO(), Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def photos() -> list[tuple[str, bytes]]:
    """Return two photos of three people (one mirrored, smaller) and two of a fourth (one dated, one darker, larger)."""
    group, portrait = Image.open(GROUP).convert("RGB"), Image.open(PORTRAIT).convert("RGB")
    mirrored = ImageOps.mirror(group).resize((int(group.width * 0.8), int(group.height * 0.8)))
    darker = ImageEnhance.Brightness(portrait.resize((portrait.width * 3 // 2, portrait.height * 3 // 2))).enhance(0.7)
    return [
        ("group.jpg", jpeg(group)),
        ("mirrored.jpg", jpeg(mirrored)),
        ("portrait.jpg", jpeg(portrait, TAKEN)),
        ("darker.jpg", jpeg(darker)),
    ]
