"""Zip uploads are listed without extracting, and unsafe entries are refused one by one."""

from __future__ import annotations

import stat
import zipfile

import pytest

from whoru.settings import Settings
from whoru.storage.folder import FileStore
from whoru.upload_entries import UploadError, ZipLimits, open_upload, zip_entries, zip_limits

LIMITS = ZipLimits(max_entries=100, max_total_bytes=10_000_000, max_ratio=50, max_entry_bytes=5_000_000)


def write_zip(path, entries):
    """Write a zip of (ZipInfo or name, data) entries."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return path


def test_entries_are_checked_one_by_one(tmp_path):
    link = zipfile.ZipInfo("link.jpg")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = write_zip(
        tmp_path / "a.zip",
        [
            ("good/a.JPG", b"x"),
            ("../evil.jpg", b"x"),
            ("/abs.jpg", b"x"),
            ("C:\\win.jpg", b"x"),
            (link, b"target"),
            ("inner.zip", b"PK"),
            ("readme.txt", b"x"),
            ("__MACOSX/._a.jpg", b"x"),
            (".hidden.jpg", b"x"),
            ("dir/", b""),
        ],
    )
    codes = {e.member: e.error_code for e in zip_entries(path, LIMITS)}
    assert codes == {
        "good/a.JPG": None,
        "../evil.jpg": "unsafe_path",
        "/abs.jpg": "unsafe_path",
        "C:\\win.jpg": "unsafe_path",
        "link.jpg": "symlink",
        "inner.zip": "nested_archive",
        "readme.txt": "unsupported_type",
    }


def test_encrypted_and_oversized_entries_are_refused(tmp_path):
    path = write_zip(tmp_path / "e.zip", [("secret.jpg", b"x"), ("huge.jpg", b"\0" * 5_000_001), ("ok.jpg", b"x")])
    _set_encrypted_flag(path, b"secret.jpg")
    codes = {e.member: e.error_code for e in zip_entries(path, LIMITS)}
    assert codes == {"secret.jpg": "encrypted", "huge.jpg": "too_large", "ok.jpg": None}


def _set_encrypted_flag(path, member: bytes) -> None:
    """Set bit 0 (encrypted) of a member's flags in the central directory, as an encrypting zipper would."""
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + len(member)] != member:
        at = data.index(b"PK\x01\x02", at + 4)
    data[at + 8] |= 0x01
    path.write_bytes(bytes(data))


def test_declared_uncompressed_total_is_checked_before_reading(tmp_path):
    path = write_zip(tmp_path / "big.zip", [(f"{i}.jpg", b"\0" * 4_000_000) for i in range(3)])
    assert path.stat().st_size < 100_000
    with pytest.raises(UploadError) as error:
        zip_entries(path, LIMITS)
    assert error.value.code == "zip_too_large"


def test_too_many_entries_and_not_a_zip(tmp_path):
    path = write_zip(tmp_path / "many.zip", [(f"{i}.jpg", b"x") for i in range(101)])
    with pytest.raises(UploadError) as error:
        zip_entries(path, LIMITS)
    assert error.value.code == "too_many_entries"
    (tmp_path / "fake.zip").write_bytes(b"not a zip at all")
    with pytest.raises(UploadError) as error:
        zip_entries(tmp_path / "fake.zip", LIMITS)
    assert error.value.code == "bad_zip"


def test_compression_ratio_is_enforced_on_bytes_read(tmp_path):
    path = write_zip(tmp_path / "bomb.zip", [("bomb.jpg", b"\0" * 2_000_000), ("ok.jpg", b"abc")])
    with open_upload(FileStore(tmp_path), path.name, "zip", LIMITS) as source:
        with pytest.raises(ValueError, match="expands"):
            source.read(0)
        assert source.read(1) == b"abc"


def test_two_members_of_one_name_are_two_entries(tmp_path):
    path = tmp_path / "twice.zip"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("img.jpg", b"first")
        archive.writestr("img.jpg", b"second")
    entries = zip_entries(path, LIMITS)
    assert [(e.index, e.member) for e in entries] == [(0, "img.jpg"), (1, "img.jpg")]
    with open_upload(FileStore(tmp_path), path.name, "zip", LIMITS) as source:
        assert [source.read(e.index) for e in entries] == [b"first", b"second"]


@pytest.mark.parametrize(
    "name", ["..\\evil.jpg", "a/../../b.jpg", "a\\..\\b.jpg", "D:evil.jpg", "/etc/x.jpg", "\\\\host\\x.jpg"]
)
def test_hostile_names_never_leave_the_archive(tmp_path, name):
    path = write_zip(tmp_path / "h.zip", [(name, b"x"), ("ok..name.jpg", b"x")])
    assert [(e.member, e.error_code) for e in zip_entries(path, LIMITS)] == [
        (name, "unsafe_path"),
        ("ok..name.jpg", None),
    ]


def test_entries_keep_their_central_directory_index_past_skipped_ones(tmp_path):
    path = write_zip(
        tmp_path / "i.zip",
        [
            ("dir/", b""),
            ("__MACOSX/._a.jpg", b"fork"),
            ("dir/a.jpg", b"A"),
            ("photos/.thumbs/t.jpg", b"T"),
            ("photos/./b.png", b"B"),
            ("notes.txt", b"N"),
        ],
    )
    entries = zip_entries(path, LIMITS)
    assert [(e.index, e.member, e.error_code) for e in entries] == [
        (2, "dir/a.jpg", None),
        (4, "photos/./b.png", None),
        (5, "notes.txt", "unsupported_type"),
    ]
    with open_upload(FileStore(tmp_path), path.name, "zip", LIMITS) as source:
        assert [source.read(e.index) for e in entries[:2]] == [b"A", b"B"]


def test_zip_limits_come_from_settings_and_bound_inclusively(tmp_path):
    settings = Settings.from_env(
        {
            "WHORU_HOME": str(tmp_path),
            "WHORU_MAX_ZIP_ENTRIES": "3",
            "WHORU_MAX_ZIP_BYTES": "30",
            "WHORU_MAX_ZIP_RATIO": "7",
            "WHORU_MAX_IMAGE_BYTES": "10",
        }
    )
    limits = zip_limits(settings)
    assert limits == ZipLimits(max_entries=3, max_total_bytes=30, max_ratio=7, max_entry_bytes=10)
    fits = write_zip(tmp_path / "fits.zip", [(f"{i}.jpg", b"x" * 10) for i in range(3)])
    assert [e.error_code for e in zip_entries(fits, limits)] == [None, None, None]
    big = write_zip(tmp_path / "big.zip", [("a.jpg", b"x" * 11), ("b.jpg", b"x")])
    assert [e.error_code for e in zip_entries(big, limits)] == ["too_large", None]
    for name, entries, code in (
        ("many.zip", [(f"{i}.jpg", b"x") for i in range(4)], "too_many_entries"),
        ("full.zip", [(f"{i}.jpg", b"x" * 8) for i in range(3)] + [("d.jpg", b"x" * 7)], "too_many_entries"),
        ("total.zip", [("a.jpg", b"x" * 10), ("b.jpg", b"x" * 10), ("c.jpg", b"x" * 11)], "zip_too_large"),
    ):
        with pytest.raises(UploadError) as error:
            zip_entries(write_zip(tmp_path / name, entries), limits)
        assert error.value.code == code, name


def test_a_single_image_upload_is_read_up_to_the_image_limit(tmp_path):
    store = FileStore(tmp_path)
    limits = ZipLimits(max_entries=1, max_total_bytes=1, max_ratio=1, max_entry_bytes=5)
    store.put_bytes("jobs/j/00000.bin", b"12345")
    store.put_bytes("jobs/j/00001.bin", b"123456")
    with open_upload(store, "jobs/j/00000.bin", "image", limits) as source:
        assert source.read(None) == b"12345"
    with (
        open_upload(store, "jobs/j/00001.bin", "image", limits) as source,
        pytest.raises(ValueError, match="past 5 bytes"),
    ):
        source.read(None)
