"""Spool uploaded parts (multipart files or a PUT body) locally, list the images each holds, hand them to the store."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from flask import Request, current_app
from PIL import Image as PILImage
from werkzeug.datastructures import FileStorage

from whoru.api.names import member_name, refuse_shared_within
from whoru.db.schema import Upload
from whoru.db.statuses import ImageStatus
from whoru.image_names import is_image_name
from whoru.local_files import removed_unless_committed
from whoru.settings import Settings
from whoru.storage import open_store
from whoru.storage.keys import part_key
from whoru.storage.store import Store
from whoru.upload_entries import UploadError, zip_entries, zip_limits

# Werkzeug's multipart parser reads 64 KiB at a time; gunicorn then receives up to 1 MiB and hands
# back the rest by copying it, once for every 64 KiB taken: 412 MB took 4 s to read that way.
BODY_READ_BYTES = 1 << 20


class StoringRequest(Request):
    """A request whose file parts are written to disk in the store's spool folder as they arrive."""

    def __init__(self, environ, *args, **kwargs):
        """Wrap a body of known length so that the server is asked for a megabyte at a time, whatever the parser asks.

        Only up to its Content-Length: a server may hand over the connection's raw stream, where a
        read past the body would wait for bytes the client never sends.
        """
        length = environ.get("CONTENT_LENGTH", "")
        if length.isdigit():
            environ["wsgi.input"] = io.BufferedReader(_Body(environ["wsgi.input"], int(length)), BODY_READ_BYTES)
        super().__init__(environ, *args, **kwargs)

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        """Return a temporary file in the spool folder (beside a folder store's objects: keeping it is a rename)."""
        incoming = open_store(current_app.config["SETTINGS"]).incoming
        incoming.mkdir(parents=True, exist_ok=True)
        return _HashedFile(tempfile.NamedTemporaryFile("wb+", dir=incoming, prefix="part-", delete=True))


class _Body(io.RawIOBase):
    """The server's request body, its first `left` bytes, as a raw stream for a BufferedReader in front of it."""

    def __init__(self, stream, left: int):
        self.stream, self.left = stream, left

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(min(len(buffer), self.left)) if self.left else b""
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)


class _HashedFile:
    """A spool file that hashes what is written to it, so that a part is not read again for its digest."""

    def __init__(self, file):
        self.file, self.sha256 = file, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.file.write(data)

    def __getattr__(self, name: str):
        return getattr(self.file, name)


def store_parts(
    parts: list[FileStorage], job_id: str, store: Store, settings: Settings
) -> list[tuple[Upload, list[dict]]]:
    """Store every part of a multipart request once all are read and names checked; return them with their images."""
    if not parts:
        raise UploadError("no_file", "send one or more images or zip archives as multipart 'file' parts")
    if len(parts) > settings.max_parts:
        raise UploadError("too_many_parts", f"at most {settings.max_parts} file parts per request")
    spooled = [_spool(part, store.incoming) for part in parts]
    with removed_unless_committed(*(path for path, _ in spooled)):
        uploads = [
            describe(path, store.location(part_key(job_id, n)), display_name(part.filename, n), n, sha256, settings)
            for n, (part, (path, sha256)) in enumerate(zip(parts, spooled))
        ]
        if not any(image["error_code"] is None for _, images in uploads for image in images):
            raise UploadError("no_images", "nothing in the request could be an image")
        refuse_shared_within(uploads)
        for (upload, _), (path, _) in zip(uploads, spooled):
            store.put_file(upload.path, path)
    return uploads


def spool_body(stream, incoming: Path, expected: int | None) -> tuple[Path, str]:
    """Write a request body to a temporary file under incoming/, hashing it on the way; return both.

    A body that cannot be read (broken chunked framing, a client that stalls) or that stops short
    of its Content-Length is refused, and nothing of it is kept.
    """
    incoming.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile("wb", dir=incoming, prefix="part-", delete=False) as file:
        with removed_unless_committed(Path(file.name)):
            while chunk := _read_body(stream):
                digest.update(chunk)
                file.write(chunk)
                size += len(chunk)
            if expected is not None and size < expected:
                raise UploadError(
                    "short_body",
                    f"the body stopped after {size} of the {expected} bytes its "
                    "Content-Length announced; nothing was kept",
                )
    return Path(file.name), digest.hexdigest()


def _read_body(stream) -> bytes:
    """Return the next megabyte of a request body; a body that cannot be read is the client's error."""
    try:
        return stream.read(1 << 20)
    # Each server raises its own errors for a broken body (gunicorn's ParseException, Werkzeug's
    # OSError); whatever they are, the read was of the client's bytes alone.
    except Exception as error:  # noqa: BLE001
        raise UploadError("bad_body", f"the request body could not be read ({error}); nothing was kept") from error


def describe(
    path: Path, location: str, filename: str, n: int, sha256: str, settings: Settings, packed: bool = False
) -> tuple[Upload, list[dict]]:
    """Return the Upload row of a spooled part, to be stored at location, and its images (zip entries, or itself)."""
    if zipfile.is_zipfile(path):
        entries = zip_entries(path, zip_limits(settings))
        images = [
            {
                "entry": e.index,
                "name": member_name(filename, e.member, packed),
                "error_code": e.error_code,
                "error_message": e.error_message,
                "status": ImageStatus.FAILED if e.error_code else ImageStatus.PENDING,
            }
            for e in entries
        ]
        return _upload(n, filename, path, location, "zip", sha256), images
    error = None if _could_be_image(path, filename) else ("unsupported_type", "neither an image nor a zip archive")
    image = {
        "entry": None,
        "name": filename,
        "error_code": error and error[0],
        "error_message": error and error[1],
        "status": ImageStatus.FAILED if error else ImageStatus.PENDING,
    }
    return _upload(n, filename, path, location, "image", sha256), [image]


def _upload(n: int, filename: str, path: Path, location: str, kind: str, sha256: str) -> Upload:
    """Return the Upload row of a part, with its size for the per-key byte quota."""
    return Upload(position=n, filename=filename, path=location, kind=kind, bytes=path.stat().st_size, sha256=sha256)


def _spool(part: FileStorage, incoming: Path) -> tuple[Path, str]:
    """Return a spooled file of our own holding the part, and its SHA-256.

    StoringRequest streams every file part into a _HashedFile; ours is a link to that file, which
    Werkzeug deletes.
    """
    path = incoming / f"part-{uuid.uuid4().hex}"
    stream = part.stream
    stream.flush()
    os.link(stream.name, path)
    return path, stream.sha256.hexdigest()


def _could_be_image(path: Path, filename: str) -> bool:
    """Return True if the name says image or Pillow recognises the header."""
    if is_image_name(filename):
        return True
    try:
        with PILImage.open(path):
            return True
    except Exception:  # noqa: BLE001 - any failure to identify means "not an image"
        return False


def display_name(filename: str | None, position: int) -> str:
    """Return the uploaded file's base name (never a path), or a stand-in; a name with control characters is refused."""
    if filename and any(ord(char) < 32 or ord(char) == 127 for char in filename):
        raise UploadError(
            "bad_name", f"the name {filename!r} holds NUL or other control characters; send it without them"
        )
    base = PurePosixPath((filename or "").replace("\\", "/")).name
    return base or f"upload-{position}"
