"""Dataset file names are parsed (UTKFace, AAF, APPA-REAL), malformed ones counted, and every layout read alike."""

from __future__ import annotations

import tarfile
import zipfile

import pytest

from tests.utils.jobs import FIXTURES
from whoru.training.readers import MISSING, Face, parse_name, read_dataset

CHIPS = FIXTURES / "utkface"


@pytest.mark.parametrize(
    "name,face",
    [
        ("UTKFace/26_1_2_20170116174525125.jpg.chip.jpg", Face("26_1_2_20170116174525125.jpg.chip.jpg", 26, 1, 2)),
        ("crop_part1/1_0_4_20161221193016140.jpg", Face("1_0_4_20161221193016140.jpg", 1, 0, 4)),
        ("116_0_0_20170120134921760.jpg.chip.jpg", Face("116_0_0_20170120134921760.jpg.chip.jpg", 116, 0, 0)),
    ],
)
def test_valid_names(name, face):
    assert parse_name(name) == face


@pytest.mark.parametrize(
    "name",
    [
        "39_1_20170116174525125.jpg.chip.jpg",  # no ethnicity
        "55_0_0_20170116232725357jpg.chip.jpg",  # no dot before jpg
        "24_0_1_20170116220224657 .jpg.chip.jpg",  # stray space
        "30_2_0_20170116174525125.jpg",  # gender out of range
        "30_0_5_20170116174525125.jpg",  # ethnicity out of range
        "0_0_0_20170116174525125.jpg",  # age zero
        "notes.txt",
    ],
)
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


def _tar(path, members: list[str]) -> None:
    """Write a tar whose members are fixture chips under the given names."""
    chips = sorted(CHIPS.glob("*.jpg"))
    with tarfile.open(path, "w") as archive:
        for index, name in enumerate(members):
            archive.add(chips[index % len(chips)], name)


def test_aaf_names_give_age_and_gender_and_malformed_ones_are_counted(tmp_path):
    _tar(
        tmp_path / "aaf.tar",
        [
            "AAF/2_1_00000A02.jpg",
            "AAF/45_0_07771A45.jpg",
            "AAF/80_1_12345A80.jpg",
            "AAF/45_2_07771A46.jpg",
            "AAF/x_1_00001A02.jpg",
            "AAF/45_0.jpg",
            "AAF/0_1_00002A00.jpg",
            "AAF/45_0_07771A45 copy.jpg",
            "AAF/readme.txt",
        ],
    )
    reading = read_dataset(tmp_path / "aaf.tar")
    assert reading.dataset == "aaf"
    assert [(f.name, f.age, f.gender, f.ethnicity) for f in reading.faces] == [
        ("2_1_00000A02.jpg", 2, 1, MISSING),
        ("45_0_07771A45.jpg", 45, 0, MISSING),
        ("80_1_12345A80.jpg", 80, 1, MISSING),
    ]
    assert len(reading.skipped) == 5


def test_appa_names_give_the_real_age_alone_and_malformed_ones_are_counted(tmp_path):
    _tar(
        tmp_path / "appa.tar",
        [
            "APPA/train/4_000000.jpg",
            "APPA/val/18_004113.jpg",
            "APPA/train/118_000002.jpg",
            "APPA/val/_004114.jpg",
            "APPA/train/30_0_1_000003.jpg",
            "APPA/val/18_004113.jpg",
        ],
    )
    reading = read_dataset(tmp_path / "appa.tar")
    assert reading.dataset == "appa"
    assert [(f.age, f.gender, f.ethnicity) for f in reading.faces] == [(4, MISSING, MISSING), (18, MISSING, MISSING)]
    # An age past 116, a missing age, an extra field and a repeated name.
    assert len(reading.skipped) == 4


def test_a_folder_of_aaf_images_reads_like_its_archive(tmp_path):
    names = ["AAF/2_1_00000A02.jpg", "AAF/45_0_07771A45.jpg", "AAF/45_0.jpg"]
    _tar(tmp_path / "aaf.tar", names)
    with tarfile.open(tmp_path / "aaf.tar") as archive:
        archive.extractall(tmp_path / "out", filter="data")
    from_folder, from_tar = read_dataset(tmp_path / "out" / "AAF"), read_dataset(tmp_path / "aaf.tar")
    assert from_folder.faces == from_tar.faces and len(from_folder.skipped) == 1


def test_one_archive_mixing_two_datasets_is_refused(tmp_path):
    _tar(tmp_path / "mixed.tar", ["AAF/2_1_00000A02.jpg", "APPA/train/4_000000.jpg"])
    with pytest.raises(ValueError, match="mixes"):
        read_dataset(tmp_path / "mixed.tar")
