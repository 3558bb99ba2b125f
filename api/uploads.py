"""Stream uploaded parts straight to the storage folder and turn them into a job's images."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from flask import Request, current_app
from PIL import Image as PILImage
from werkzeug.datastructures import FileStorage

from whoru.db.schema import Upload
from whoru.settings import Settings
from whoru.storage import UploadError, is_image_name, job_dir, zip_entries, zip_limits


class StoringRequest(Request):
    """A request whose file parts are written to disk under the storage folder as they arrive."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        """Return a temporary file beside the job folders, so keeping it is a rename."""
        incoming = current_app.config["SETTINGS"].storage_dir / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile("wb+", dir=incoming, prefix="part-", delete=True)


def store_parts(parts: list[FileStorage], settings: Settings) -> tuple[str, list[tuple[Upload, list[dict]]]]:
    """Keep every usable part under a new job folder; return the job id and its uploads with images."""
    if not parts:
        raise UploadError(400, "no_file", "send one or more images or zip archives as multipart 'file' parts")
    if len(parts) > settings.max_parts:
        raise UploadError(413, "too_many_parts", f"at most {settings.max_parts} file parts per request")
    job_id = str(uuid.uuid4())
    folder = job_dir(settings.storage_dir, job_id)
    folder.mkdir(parents=True)
    try:
        uploads = [_store_part(part, i, folder, settings) for i, part in enumerate(parts)]
        if not any(image.get("error_code") is None for _, images in uploads for image in images):
            raise UploadError(400, "no_images", "nothing in the request could be an image")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return job_id, uploads


def _store_part(part: FileStorage, position: int, folder: Path, settings: Settings) -> tuple[Upload, list[dict]]:
    """Move one part into the job folder and list the images it holds."""
    filename = _display_name(part.filename, position)
    path = folder / f"{position:05d}.bin"
    _keep(part, path)
    if zipfile.is_zipfile(path):
        entries = zip_entries(path, zip_limits(settings))
        images = [{"member": e.member, "name": e.member, "error_code": e.error_code, "error_message": e.error_message,
                   "status": "failed" if e.error_code else "pending"} for e in entries]
        return _upload(position, filename, path, "zip"), images
    error = None if _could_be_image(path, filename) else ("unsupported_type", "neither an image nor a zip archive")
    image = {"member": None, "name": filename, "error_code": error and error[0], "error_message": error and error[1],
             "status": "failed" if error else "pending"}
    return _upload(position, filename, path, "image"), [image]


def _upload(position: int, filename: str, path: Path, kind: str) -> Upload:
    """Return the Upload row of a stored part, with its size for the per-key byte quota."""
    return Upload(position=position, filename=filename, path=str(path), kind=kind, bytes=path.stat().st_size)


def _keep(part: FileStorage, path: Path) -> None:
    """Link the already-spooled temporary file into place, or copy it if it is in memory."""
    stream = part.stream
    name = getattr(stream, "name", None)
    if isinstance(name, str) and os.path.exists(name):
        stream.flush()
        os.link(name, path)
    else:
        part.save(path)


def _could_be_image(path: Path, filename: str) -> bool:
    """Return True if the name says image or Pillow recognises the header."""
    if is_image_name(filename):
        return True
    try:
        with PILImage.open(path):
            return True
    except Exception:  # noqa: BLE001 - any failure to identify means "not an image"
        return False


def _display_name(filename: str | None, position: int) -> str:
    """Return the uploaded file's base name (never a path), or a stand-in."""
    base = PurePosixPath((filename or "").replace("\\", "/")).name
    return base or f"upload-{position}"
