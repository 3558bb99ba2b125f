"""The rules for a zip's entries (which are safe images, within which limits), and reading an upload's images."""

from __future__ import annotations

import stat
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from whoru.image_names import is_image_name
from whoru.storage.store import Store

ARCHIVE_EXTENSIONS = frozenset({".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar"})


class UploadError(ValueError):
    """A whole upload that cannot be used: `code` names why, the message says it in words."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


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
    """One file inside a zip: its index in the central directory, its name, and why it is refused if it is."""

    index: int
    member: str
    error_code: str | None = None
    error_message: str | None = None


def zip_entries(path: Path, limits: ZipLimits) -> list[Entry]:
    """List a zip's file entries in archive order, refusing unsafe ones per entry."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [
                (n, i) for n, i in enumerate(archive.infolist()) if not i.is_dir() and not _is_metadata(i.filename)
            ]
    except (zipfile.BadZipFile, OSError) as error:
        raise UploadError("bad_zip", f"not a readable zip archive: {error}") from error
    if len(infos) > limits.max_entries:
        raise UploadError("too_many_entries", f"zip has {len(infos)} entries; the limit is {limits.max_entries}")
    if sum(i.file_size for _, i in infos) > limits.max_total_bytes:
        raise UploadError("zip_too_large", f"zip expands past {limits.max_total_bytes} bytes")
    return [_check_entry(n, info, limits) for n, info in infos]


def _is_metadata(name: str) -> bool:
    """Return True for macOS resource forks and hidden files, which are not photos."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return any(part == "__MACOSX" or part.startswith(".") and part not in (".", "..") for part in parts)


def _check_entry(index: int, info: zipfile.ZipInfo, limits: ZipLimits) -> Entry:
    """Return the entry, with an error code if it must not be read."""
    name = info.filename
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or (len(name) > 1 and name[1] == ":"):
        return Entry(index, name, "unsafe_path", "entry path leaves the archive (absolute or '..')")
    if stat.S_ISLNK(info.external_attr >> 16):
        return Entry(index, name, "symlink", "symbolic links inside archives are not followed")
    if info.flag_bits & 0x1:
        return Entry(index, name, "encrypted", "encrypted entries cannot be read")
    if posix.suffix.lower() in ARCHIVE_EXTENSIONS:
        return Entry(index, name, "nested_archive", "archives inside archives are not expanded")
    if not is_image_name(name):
        return Entry(index, name, "unsupported_type", "not an image file extension")
    if info.file_size > limits.max_entry_bytes:
        return Entry(index, name, "too_large", f"entry is larger than {limits.max_entry_bytes} bytes")
    return Entry(index, name)


class ImageSource:
    """Reads the bytes of images from one stored upload (a single image or a zip)."""

    def __init__(self, store: Store, key: str, limits: ZipLimits, archive: zipfile.ZipFile | None):
        self.store, self.key, self.limits, self._archive = store, key, limits, archive

    def read(self, entry: int | None) -> bytes:
        """Return an image's bytes (a zip entry by its index), enforcing size and compression limits."""
        if entry is None:
            return _read_capped(self.store.open(self.key), self.limits.max_entry_bytes)
        info = self._archive.infolist()[entry]  # type: ignore[union-attr]
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
def open_upload(store: Store, key: str, kind: str, limits: ZipLimits):
    """Yield an ImageSource for a stored upload, keeping a zip open (its central directory read once) across reads."""
    if kind != "zip":
        yield ImageSource(store, key, limits, None)
        return
    with store.open(key) as file, zipfile.ZipFile(file) as archive:
        yield ImageSource(store, key, limits, archive)
