"""A photo's capture time from its EXIF."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image

from whoru.faces.capture_time import capture_time


def photo(tags: dict[int, str], exif_ifd: dict[int, str] | None = None) -> Image.Image:
    """Return a small JPEG, reopened, carrying the given EXIF tags."""
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[tag] = value
    for tag, value in (exif_ifd or {}).items():
        exif.get_ifd(0x8769)[tag] = value
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG", exif=exif.tobytes())
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_date_time_original_comes_first_then_the_files_date_time():
    assert capture_time(photo({0x0132: "2020:01:02 03:04:05"}, {0x9003: "2019:12:31 23:59:58"})) == datetime(
        2019, 12, 31, 23, 59, 58
    )
    assert capture_time(photo({0x0132: "2020:01:02 03:04:05"})) == datetime(2020, 1, 2, 3, 4, 5)


def test_a_missing_or_malformed_date_gives_none():
    assert capture_time(photo({})) is None
    assert capture_time(photo({0x0132: "0000:00:00 00:00:00"}, {0x9003: "yesterday"})) is None
