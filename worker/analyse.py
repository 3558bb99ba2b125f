"""Read, decode and analyse a task's images; any failure belongs to its image alone."""

from __future__ import annotations

import zipfile
from collections import defaultdict

from whoru.db.rows import ImageOutcome
from whoru.db.schema import Image
from whoru.faces.images import ImageError
from whoru.faces.pipeline import FacePipeline
from whoru.logs import get_logger, job_field
from whoru.previews import preview_jpeg
from whoru.settings import Settings
from whoru.stages import Stages
from whoru.storage import open_store
from whoru.storage.keys import preview_key
from whoru.upload_entries import ImageSource, open_upload, zip_limits

log = get_logger("worker")


def analyse_images(
    images: list[Image], pipeline: FacePipeline, settings: Settings, stages: Stages, people: bool = False
) -> list[ImageOutcome]:
    """Return an outcome per image, classifying (and with people on, embedding) the batch's faces in one model call."""
    limits, store = zip_limits(settings), open_store(settings)
    by_upload: dict[int, list[Image]] = defaultdict(list)
    for image in images:
        by_upload[image.upload_id].append(image)
    found: dict[int, tuple[ImageOutcome, list, list]] = {}
    for group in by_upload.values():
        upload = group[0].upload
        try:
            with open_upload(store, upload.path, upload.kind, limits) as source:
                for image in group:
                    found[image.id] = _detect_one(image, source, pipeline, settings, stages, people)
        except FileNotFoundError as error:
            # A part whose object is gone can never be read: its images fail, so that the job still ends.
            for image in group:
                found[image.id] = _failed(ImageOutcome(image.id), _missing(error))
    detections = [d for _, ds, _ in found.values() for d in ds]
    with stages("classify"):
        faces = pipeline.classify(
            detections, [c for _, _, cs in found.values() for c in cs], settings.classify_batch, people
        )
    start = 0
    for outcome, ds, _ in found.values():
        outcome.faces = faces[start : start + len(ds)]
        start += len(ds)
    return [found[image.id][0] for image in images]


def _detect_one(
    image: Image, source: ImageSource, pipeline: FacePipeline, settings: Settings, stages: Stages, people: bool
):
    """Return the image's outcome so far, its detections and their aligned crops."""
    outcome = ImageOutcome(image.id)
    try:
        with stages("read"):
            data = _read(source, image.entry)
        with stages("decode"):
            photo = pipeline.decode(data, settings.max_image_pixels)
    except ImageError as error:
        return _failed(outcome, error)
    outcome.width, outcome.height = photo.size
    outcome.taken_at = photo.taken_at
    try:
        found = pipeline.find(photo, stages, people)
    except ImageError as error:
        # A small face needs a finer decode, which can fail where the reduced one did not.
        return _failed(outcome, error)
    if settings.previews:
        # The detector's copy is at most WHORU_DETECT_MAX_SIDE: a 640 px preview needs no more.
        with stages("preview"):
            _preview(image, found.detector_copy, settings)
    return outcome, found.detections, found.crops


def _failed(outcome: ImageOutcome, error: ImageError) -> tuple[ImageOutcome, list, list]:
    """Return an outcome that carries the image's error and no faces."""
    outcome.error_code, outcome.error_message = error.code, str(error)
    return outcome, [], []


def _preview(image: Image, rgb, settings: Settings) -> None:
    """Store the image's preview; a preview that cannot be written costs the picture, not the results."""
    try:
        open_store(settings).put_bytes(preview_key(image.job_id, image.position), preview_jpeg(rgb))
    except Exception as error:  # noqa: BLE001 - a full disk or an unreachable bucket alike
        log.warning("image=%d preview not stored: %s", image.position, error, extra=job_field(image.job_id))


def _missing(error: FileNotFoundError) -> ImageError:
    """Return the error of an image whose stored upload is gone."""
    return ImageError("upload_missing", f"the stored upload of this image is gone: {error}")


def _read(source: ImageSource, entry: int | None) -> bytes:
    """Read one image's bytes, turning storage failures into image errors."""
    try:
        return source.read(entry)
    except FileNotFoundError as error:
        raise _missing(error) from error
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, EOFError, OSError) as error:
        raise ImageError("unreadable_entry", f"the file could not be read from the upload: {error}") from error
    except ValueError as error:
        raise ImageError("too_large", str(error)) from error
