"""Zip uploads are listed without extracting, and unsafe entries are refused one by one."""

from __future__ import annotations

import stat
import zipfile

import pytest

from whoru.storage import UploadError, ZipLimits, open_upload, zip_entries

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
    path = write_zip(tmp_path / "a.zip", [
        ("good/a.JPG", b"x"), ("../evil.jpg", b"x"), ("/abs.jpg", b"x"), ("C:\\win.jpg", b"x"), (link, b"target"),
        ("inner.zip", b"PK"), ("readme.txt", b"x"), ("__MACOSX/._a.jpg", b"x"), (".hidden.jpg", b"x"), ("dir/", b""),
    ])
    codes = {e.member: e.error_code for e in zip_entries(path, LIMITS)}
    assert codes == {"good/a.JPG": None, "../evil.jpg": "unsafe_path", "/abs.jpg": "unsafe_path",
                     "C:\\win.jpg": "unsafe_path", "link.jpg": "symlink", "inner.zip": "nested_archive",
                     "readme.txt": "unsupported_type"}


def test_too_many_entries_and_not_a_zip(tmp_path):
    path = write_zip(tmp_path / "many.zip", [(f"{i}.jpg", b"x") for i in range(101)])
    with pytest.raises(UploadError) as error:
        zip_entries(path, LIMITS)
    assert error.value.status == 413
    (tmp_path / "fake.zip").write_bytes(b"not a zip at all")
    with pytest.raises(UploadError) as error:
        zip_entries(tmp_path / "fake.zip", LIMITS)
    assert error.value.code == "bad_zip"


def test_compression_ratio_is_enforced_on_bytes_read(tmp_path):
    path = write_zip(tmp_path / "bomb.zip", [("bomb.jpg", b"\0" * 2_000_000), ("ok.jpg", b"abc")])
    with open_upload(path, "zip", LIMITS) as source:
        with pytest.raises(ValueError, match="expands"):
            source.read("bomb.jpg")
        assert source.read("ok.jpg") == b"abc"
