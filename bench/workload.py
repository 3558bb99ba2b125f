"""A reproducible bench workload: photos saved as a camera saves them, with fixture faces pasted in, as one zip."""

from __future__ import annotations

import io
import math
import random
import zipfile
from pathlib import Path

from PIL import Image

QUALITY = 92
# A camera stores the sensor's pixels as they are and tags how to stand them up; one photo in
# four here is tagged 3 (upside down), 6 or 8 (portrait, turned either way).
ORIENTATIONS = (1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 6, 8)
# How each orientation's stored pixels come from the upright picture.
STORED = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
FACE_SHARE = (0.02, 0.40)
BACKGROUNDS = 3


def parse_size(text: str) -> tuple[int, int]:
    """Return (width, height) from text such as 4032x3024."""
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit()) or int(width) < 64 or int(height) < 64:
        raise ValueError(f"photo size must be WxH with sides of at least 64 pixels, not {text!r}")
    return int(width), int(height)


def face_chips(folder: Path) -> list[Image.Image]:
    """Load the committed UTKFace fixture chips."""
    chips = [Image.open(path).convert("RGB") for path in sorted(folder.glob("*.jpg"))]
    if not chips:
        raise ValueError(f"no face chips in {folder}")
    return chips


def background(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Return a textured background: flat colour would make JPEG decoding unrealistically cheap."""
    tint = Image.new("RGB", size, tuple(rng.randint(40, 220) for _ in range(3)))
    coarse = Image.effect_noise((max(1, size[0] // 16), max(1, size[1] // 16)), 40).resize(
        size, Image.Resampling.BILINEAR
    )
    fine = Image.effect_noise(size, 12)
    texture = Image.merge("RGB", (coarse, fine, coarse))
    return Image.blend(tint, texture, 0.35)


def face_size(rng: random.Random, short_side: int, cell: int) -> int:
    """Return a face side between 2% and 40% of the photo's short side, log-uniform, fitting its cell."""
    low, high = (math.log(share * short_side) for share in FACE_SHARE)
    return max(8, min(cell - 1, round(math.exp(rng.uniform(low, high)))))


def photo(
    rng: random.Random, chips: list[Image.Image], size: tuple[int, int] = (1024, 768), backgrounds: dict | None = None
) -> tuple[bytes, int]:
    """Return one camera-like JPEG (stored as size) with 1 to 6 faces, and its face count."""
    orientation = rng.choice(ORIENTATIONS)
    upright = size if orientation in (1, 3) else size[::-1]
    canvas = _pooled_background(rng, upright, {} if backgrounds is None else backgrounds)
    count = rng.randint(1, 6)
    cell = upright[0] // 3, upright[1] // 2
    for slot in rng.sample(range(6), count):
        side = face_size(rng, min(upright), min(cell))
        chip = rng.choice(chips).resize((side, side), Image.Resampling.BICUBIC)
        x = (slot % 3) * cell[0] + rng.randint(0, cell[0] - side)
        y = (slot // 3) * cell[1] + rng.randint(0, cell[1] - side)
        canvas.paste(chip, (x, y))
    return _camera_jpeg(canvas, orientation), count


def _pooled_background(rng: random.Random, size: tuple[int, int], pool: dict) -> Image.Image:
    """Return a copy of one of a few backgrounds of this size: making one for a 12 MP photo takes seconds."""
    choices = pool.setdefault(size, [])
    if len(choices) < BACKGROUNDS:
        choices.append(background(rng, size))
    return rng.choice(choices).copy()


def _camera_jpeg(upright: Image.Image, orientation: int) -> bytes:
    """Encode the upright picture as a camera would store it: pixels turned, EXIF orientation set."""
    stored = upright if STORED[orientation] is None else upright.transpose(STORED[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=QUALITY, exif=exif)
    return buffer.getvalue()


def build_zip(
    path: Path, images: int, chips_folder: Path, size: tuple[int, int] = (1024, 768), seed: int = 1234
) -> int:
    """Write the workload zip; return how many faces were pasted in all."""
    rng, chips, faces, backgrounds = random.Random(seed), face_chips(chips_folder), 0, {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for index in range(images):
            data, count = photo(rng, chips, size, backgrounds)
            archive.writestr(f"bench/{index:06d}.jpg", data)
            faces += count
    return faces
