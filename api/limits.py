"""Per-key limits: jobs in flight, upload bytes in flight and images per job; past them, 429 with Retry-After."""

from __future__ import annotations

from flask import abort, make_response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from whoru.db.jobs import IN_FLIGHT_JOB_STATUSES
from whoru.db.schema import Job, Upload
from whoru.settings import Settings
from whoru.storage import remove_job_files


def _too_many(message: str):
    """Abort with a JSON 429 that says when to retry."""
    body = {"error": {"code": "too_many_requests", "message": message}}
    abort(make_response(body, 429, {"Retry-After": "30"}))


def _in_flight(owner: int):
    """Return the condition selecting one key's queued or running jobs."""
    return (Job.api_key_id == owner) & Job.status.in_(IN_FLIGHT_JOB_STATUSES)


def limit_jobs_in_flight(session: Session, owner: int, settings: Settings) -> None:
    """Refuse a new job while this key already has the maximum queued or running."""
    in_flight = session.scalar(
        select(func.count()).where(_in_flight(owner))
    )
    if in_flight >= settings.key_max_jobs_in_flight:
        _too_many(f"this key has {in_flight} jobs queued or running; the limit is {settings.key_max_jobs_in_flight}")


def limit_images(uploads: list[tuple[Upload, list[dict]]], settings: Settings, job_id: str) -> None:
    """Refuse a job with more images than one key may submit at once."""
    images = sum(len(listed) for _, listed in uploads)
    if images > settings.key_max_images_per_job:
        remove_job_files(settings.storage_dir, job_id)
        _too_many(f"the request holds {images} images; the limit per job is {settings.key_max_images_per_job}")


def limit_upload_bytes(session: Session, owner: int, settings: Settings, incoming: int, job_id: str | None = None) -> None:
    """Refuse an upload that would take this key's stored, unfinished uploads past its byte quota.

    Called twice: with the request's Content-Length before the body is read, so a refused upload
    costs nothing, then with the bytes stored under job_id (deleted if refused), which is the only
    count a chunked request without Content-Length has. Uploads of finished jobs no longer count.
    """
    stored = session.scalar(
        select(func.coalesce(func.sum(Upload.bytes), 0))
        .join(Job, Upload.job_id == Job.id)
        .where(_in_flight(owner))
    )
    if stored + incoming > settings.key_max_upload_bytes:
        if job_id is not None:
            remove_job_files(settings.storage_dir, job_id)
        _too_many(f"this key has {stored} bytes of uploads waiting and sends {incoming} more; "
                  f"the limit is {settings.key_max_upload_bytes}")
