"""UTKFace names are parsed, malformed ones counted, and every public layout read alike."""

from __future__ import annotations

import tarfile
import zipfile

import pytest

from training.utkface import Face, parse_name, read_dataset
from tests.utils.jobs import FIXTURES

CHIPS = FIXTURES / "utkface"


@pytest.mark.parametrize("name,face", [
    ("UTKFace/26_1_2_20170116174525125.jpg.chip.jpg", Face("26_1_2_20170116174525125.jpg.chip.jpg", 26, 1, 2)),
    ("crop_part1/1_0_4_20161221193016140.jpg", Face("1_0_4_20161221193016140.jpg", 1, 0, 4)),
    ("116_0_0_20170120134921760.jpg.chip.jpg", Face("116_0_0_20170120134921760.jpg.chip.jpg", 116, 0, 0)),
])
def test_valid_names(name, face):
    assert parse_name(name) == face


@pytest.mark.parametrize("name", [
    "39_1_20170116174525125.jpg.chip.jpg",      # no ethnicity
    "55_0_0_20170116232725357jpg.chip.jpg",     # no dot before jpg
    "24_0_1_20170116220224657 .jpg.chip.jpg",   # stray space
    "30_2_0_20170116174525125.jpg",             # gender out of range
    "30_0_5_20170116174525125.jpg",             # ethnicity out of range
    "0_0_0_20170116174525125.jpg",              # age zero
    "notes.txt",
])
def test_malformed_names(name):
    assert parse_name(name) is None


def test_fixture_folder_counts_what_it_skips():
    reading = read_dataset(CHIPS)
    assert len(reading.faces) == 50 and len(reading.skipped) == 4
    assert len(reading.sha256) == 64


@pytest.mark.parametrize("layout,suffix", [("UTKFace/", ""), ("crop_part1/", ".plain"), ("", "")])
def test_archives_in_every_layout_read_the_same(tmp_path, layout, suffix):
    files = sorted(CHIPS.iterdir())
    rename = (lambda n: n.replace(".jpg.chip.jpg", ".jpg")) if suffix else (lambda n: n)
    with tarfile.open(tmp_path / "u.tar.gz", "w:gz") as archive:
        for file in files:
            archive.add(file, layout + rename(file.name))
    with zipfile.ZipFile(tmp_path / "u.zip", "w") as archive:
        for file in files:
            archive.write(file, layout + rename(file.name))
    expected = [(f.age, f.gender, f.ethnicity) for f in read_dataset(CHIPS).faces]
    for source in (tmp_path / "u.tar.gz", tmp_path / "u.zip"):
        reading = read_dataset(source)
        assert sorted((f.age, f.gender, f.ethnicity) for f in reading.faces) == sorted(expected)
        assert len(reading.skipped) == 4
