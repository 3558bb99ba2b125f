"""A reproducible bench workload: photos with 1-6 fixture faces pasted on plain backgrounds, as one zip."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from PIL import Image

WIDTH, HEIGHT = 1024, 768


def face_chips(folder: Path) -> list[Image.Image]:
    """Load the committed UTKFace fixture chips."""
    chips = [Image.open(path).convert("RGB") for path in sorted(folder.glob("*.jpg"))]
    if not chips:
        raise ValueError(f"no face chips in {folder}")
    return chips


def photo(rng: random.Random, chips: list[Image.Image]) -> tuple[bytes, int]:
    """Return one JPEG with 1 to 6 faces on a plain background, and its face count."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), tuple(rng.randint(40, 220) for _ in range(3)))
    count = rng.randint(1, 6)
    cell = WIDTH // 3, HEIGHT // 2
    for slot in rng.sample(range(6), count):
        size = rng.randint(110, 200)
        chip = rng.choice(chips).resize((size, size))
        x = (slot % 3) * cell[0] + rng.randint(0, cell[0] - size)
        y = (slot // 3) * cell[1] + rng.randint(0, cell[1] - size)
        canvas.paste(chip, (x, y))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=88)
    return buffer.getvalue(), count


def build_zip(path: Path, images: int, chips_folder: Path, seed: int = 1234) -> int:
    """Write the workload zip; return how many faces were pasted in all."""
    rng, chips, faces = random.Random(seed), face_chips(chips_folder), 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for index in range(images):
            data, count = photo(rng, chips)
            archive.writestr(f"bench/{index:06d}.jpg", data)
            faces += count
    return faces
