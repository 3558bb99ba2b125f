"""Where uploads live on disk, which zip entries are safe images, and reading their bytes."""

from __future__ import annotations

import shutil
import stat
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
ARCHIVE_EXTENSIONS = frozenset({".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar"})


class UploadError(ValueError):
    """A whole upload that cannot be used; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class ZipLimits:
    """Bounds that keep a hostile zip from exhausting disk, memory or time."""

    max_entries: int
    max_total_bytes: int
    max_ratio: int
    max_entry_bytes: int


def zip_limits(settings) -> ZipLimits:
    """Return the zip and image size limits from settings."""
    return ZipLimits(settings.max_zip_entries, settings.max_zip_bytes, settings.max_zip_ratio, settings.max_image_bytes)


@dataclass(frozen=True)
class Entry:
    """One file inside an upload: its member name, and why it is refused if it is."""

    member: str
    error_code: str | None = None
    error_message: str | None = None


def is_image_name(name: str) -> bool:
    """Return True if a file name has an image extension, in any letter case."""
    return PurePosixPath(name).suffix.lower() in IMAGE_EXTENSIONS


def job_dir(storage_dir: Path, job_id: str) -> Path:
    """Return the folder holding one job's uploads."""
    return storage_dir / "jobs" / job_id


def remove_job_files(storage_dir: Path, job_id: str) -> None:
    """Delete a job's stored uploads (its results stay in the database)."""
    shutil.rmtree(job_dir(storage_dir, job_id), ignore_errors=True)


def zip_entries(path: Path, limits: ZipLimits) -> list[Entry]:
    """List a zip's file entries in archive order, refusing unsafe ones per entry."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir() and not _is_metadata(i.filename)]
    except (zipfile.BadZipFile, OSError) as error:
        raise UploadError(400, "bad_zip", f"not a readable zip archive: {error}") from error
    if len(infos) > limits.max_entries:
        raise UploadError(413, "too_many_entries", f"zip has {len(infos)} entries; the limit is {limits.max_entries}")
    if sum(i.file_size for i in infos) > limits.max_total_bytes:
        raise UploadError(413, "zip_too_large", f"zip expands past {limits.max_total_bytes} bytes")
    return [_check_entry(info, limits) for info in infos]


def _is_metadata(name: str) -> bool:
    """Return True for macOS resource forks and hidden files, which are not photos."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return any(part == "__MACOSX" or part.startswith(".") and part not in (".", "..") for part in parts)


def _check_entry(info: zipfile.ZipInfo, limits: ZipLimits) -> Entry:
    """Return the entry, with an error code if it must not be read."""
    name = info.filename
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or (len(name) > 1 and name[1] == ":"):
        return Entry(name, "unsafe_path", "entry path leaves the archive (absolute or '..')")
    if stat.S_ISLNK(info.external_attr >> 16):
        return Entry(name, "symlink", "symbolic links inside archives are not followed")
    if info.flag_bits & 0x1:
        return Entry(name, "encrypted", "encrypted entries cannot be read")
    if posix.suffix.lower() in ARCHIVE_EXTENSIONS:
        return Entry(name, "nested_archive", "archives inside archives are not expanded")
    if not is_image_name(name):
        return Entry(name, "unsupported_type", "not an image file extension")
    if info.file_size > limits.max_entry_bytes:
        return Entry(name, "too_large", f"entry is larger than {limits.max_entry_bytes} bytes")
    return Entry(name)


class ImageSource:
    """Reads the bytes of images from one stored upload (a single image or a zip)."""

    def __init__(self, path: Path, limits: ZipLimits, archive: zipfile.ZipFile | None):
        self.path, self.limits, self._archive = path, limits, archive

    def read(self, member: str | None) -> bytes:
        """Return an image's bytes, enforcing size and compression limits on what is read."""
        if member is None:
            return _read_capped(self.path.open("rb"), self.limits.max_entry_bytes)
        info = self._archive.getinfo(member)  # type: ignore[union-attr]
        cap = min(self.limits.max_entry_bytes, max(info.compress_size, 1) * self.limits.max_ratio)
        return _read_capped(self._archive.open(info), cap)  # type: ignore[union-attr]


def _read_capped(stream, cap: int) -> bytes:
    """Read at most cap bytes; more means a lying header or a bomb."""
    with stream:
        data = stream.read(cap + 1)
    if len(data) > cap:
        raise ValueError(f"entry expands past {cap} bytes (size or compression ratio limit)")
    return data


@contextmanager
def open_upload(path: Path, kind: str, limits: ZipLimits):
    """Yield an ImageSource for a stored upload, keeping a zip open across many reads."""
    if kind != "zip":
        yield ImageSource(path, limits, None)
        return
    with zipfile.ZipFile(path) as archive:
        yield ImageSource(path, limits, archive)
