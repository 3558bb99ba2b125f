"""When a photo was taken, from its EXIF: DateTimeOriginal, else the file's DateTime."""

from __future__ import annotations

from datetime import datetime

from PIL import Image

EXIF_IFD, DATE_TIME_ORIGINAL, DATE_TIME = 0x8769, 0x9003, 0x0132
FORMAT = "%Y:%m:%d %H:%M:%S"


def capture_time(image: Image.Image) -> datetime | None:
    """Return the photo's EXIF capture time (naive: EXIF names no time zone), or None if absent or malformed."""
    exif = image.getexif()
    for value in (exif.get_ifd(EXIF_IFD).get(DATE_TIME_ORIGINAL), exif.get(DATE_TIME)):
        if isinstance(value, bytes):
            value = value.decode("ascii", "replace")
        if isinstance(value, str):
            try:
                return datetime.strptime(value.strip("\x00 ")[:19], FORMAT)
            except ValueError:
                continue
    return None
