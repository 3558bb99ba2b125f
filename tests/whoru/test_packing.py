"""Packing loose photos into zip parts on the client."""

from __future__ import annotations

import os
import zipfile

from tests.utils.jobs import PHOTOS
from whoru.client.packing import Part, PhotoFile, build


def test_a_photo_dated_before_1980_is_packed_as_of_1980(tmp_path):
    photo = tmp_path / "old.jpg"
    photo.write_bytes((PHOTOS / "fr_obama_small.jpg").read_bytes())
    os.utime(photo, (0, 0))  # what a tar that kept no time leaves
    with build(Part(0, photos=(PhotoFile(photo, "old.jpg", photo.stat().st_size),)), tmp_path) as (path, _):
        with zipfile.ZipFile(path) as archive:
            assert archive.read("old.jpg") == photo.read_bytes()
            assert archive.getinfo("old.jpg").date_time[0] == 1980
