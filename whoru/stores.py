"""Where uploads and previews are kept: one interface, a folder (`file://`) or a bucket (`s3://`).

Objects are named by keys such as `jobs/<job id>/00000.bin` and `previews/<job id>/3.jpg`; the
API and the workers use keys (and the locations the store gives for them) only, never paths. Request bodies are spooled to a local folder
first (`incoming`) to be hashed and checked, then handed over with `put_file`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from abc import ABC, abstractmethod
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from whoru.settings import Settings


class Store(ABC):
    """A flat namespace of immutable objects under string keys."""

    incoming: Path

    def location(self, key: str) -> str:
        """Return the name of an object that the database keeps (and every method here accepts)."""
        return key

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Store a finished local file under key; the local file is gone afterwards."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Store bytes under key, replacing any earlier object; readers never see half of it."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Return a seekable binary reader of an object; FileNotFoundError if there is none."""

    def read(self, key: str) -> bytes | None:
        """Return an object's bytes, or None if there is none."""
        try:
            with self.open(key) as file:
                return file.read()
        except FileNotFoundError:
            return None

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete one object, if it exists."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None:
        """Delete every object whose key starts with prefix."""

    @contextmanager
    def kept_if_committed(self, prefix: str):
        """Delete what the block stored under prefix unless the block (which records it in the database) succeeds."""
        try:
            yield
        except BaseException:
            self.delete_prefix(prefix)
            raise


class FileStore(Store):
    """Objects as files under a folder, shared by the API and every worker (one machine, or NFS)."""

    def __init__(self, root: Path):
        self.root = root
        # Beside the objects, so that handing a spooled file over is a rename.
        self.incoming = root / "incoming"

    def location(self, key: str) -> str:
        """Return the file's absolute path, as rows always held: valid whatever WHORU_STORAGE_DIR its reader has."""
        return str(self._path(key))

    def _path(self, key: str) -> Path:
        """Return the file of a key, or of an absolute path (a location)."""
        return self.root / key

    def put_file(self, key: str, path: Path) -> None:
        """Move a local file into place."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write bytes beside the target, then rename them into place."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, target)

    def open(self, key: str) -> BinaryIO:
        """Open the file of a key."""
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        """Remove the file of a key."""
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        """Remove the folder a prefix ending in / names."""
        shutil.rmtree(self._path(prefix), ignore_errors=True)


def open_store(settings: Settings) -> Store:
    """Return the store WHORU_STORAGE_URL names (WHORU_STORAGE_DIR's folder by default), one per process."""
    return _store(settings.storage_url or settings.storage_dir.as_uri(), settings.s3_endpoint_url, settings.storage_dir)


@lru_cache(maxsize=4)
def _store(url: str, endpoint_url: str, scratch: Path) -> Store:
    """Build a store from its URL (cached: an S3 client is slow to make and safe to share across threads)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileStore(Path(parts.path))
    if parts.scheme == "s3":
        from whoru.s3_store import S3Store

        return S3Store(parts.netloc, parts.path.strip("/"), endpoint_url or None, scratch / "incoming")
    raise ValueError(f"WHORU_STORAGE_URL={url!r} must start with file:// or s3://")


def job_prefix(job_id: str) -> str:
    """Return the prefix of a job's uploads."""
    return f"jobs/{job_id}/"


def part_key(job_id: str, n: int) -> str:
    """Return the key of part n of a job."""
    return f"{job_prefix(job_id)}{n:05d}.bin"


def attempt_key(job_id: str, n: int) -> str:
    """Return a key of its own for one request's copy of part n: the row committed for n names the one that won."""
    # Requests racing for the same n (a retry overlapping its first try) must never write or delete each other's bytes.
    return f"{job_prefix(job_id)}{n:05d}.{uuid.uuid4().hex}.bin"


def preview_prefix(job_id: str) -> str:
    """Return the prefix of a job's previews (apart from its uploads: those go when the job ends)."""
    return f"previews/{job_id}/"


def preview_key(job_id: str, position: int) -> str:
    """Return the key of the preview of a job's image at a position."""
    return f"{preview_prefix(job_id)}{position}.jpg"


def remove_job_files(store: Store, job_id: str) -> None:
    """Delete a job's stored uploads (its results and previews stay)."""
    store.delete_prefix(job_prefix(job_id))


def remove_deleted_job_files(store: Store, job_id: str) -> None:
    """Delete everything stored for a job whose rows are gone: its uploads and its previews."""
    remove_job_files(store, job_id)
    store.delete_prefix(preview_prefix(job_id))
