"""Per-key limits: jobs in flight, upload bytes in flight and images per job; past them, 429 with Retry-After.

Each check aborts; the caller's `kept_if_committed` or `removed_unless_committed` block then removes
whatever it had stored. The checks made as a job or part is added come after
`whoru.db.quotas.hold_key`, in the transaction that inserts it, so that concurrent requests of one
key cannot each pass on the same count.
"""

from __future__ import annotations

from flask import abort, make_response
from sqlalchemy.orm import Session

from whoru.api.errors import error_body
from whoru.db.quotas import jobs_in_flight, upload_bytes_in_flight
from whoru.settings import Settings


def _too_many(message: str):
    """Abort with a JSON 429 that says when to retry."""
    abort(make_response(*error_body(429, "too_many_requests", message, {"Retry-After": "30"})))


def limit_jobs_in_flight(session: Session, owner: int, settings: Settings) -> None:
    """Refuse a new job while this key already has the maximum queued or running."""
    count = jobs_in_flight(session, owner)
    if count >= settings.key_max_jobs_in_flight:
        _too_many(f"this key has {count} jobs queued or running; the limit is {settings.key_max_jobs_in_flight}")


def limit_images(already: int, incoming: int, settings: Settings) -> None:
    """Refuse images past the number one key may put in one job."""
    if already + incoming > settings.key_max_images_per_job:
        _too_many(
            f"the job would hold {already + incoming} images; the limit per job is {settings.key_max_images_per_job}"
        )


def limit_upload_bytes(session: Session, owner: int, settings: Settings, incoming: int) -> None:
    """Refuse an upload that would take this key's stored, unfinished uploads past its byte quota.

    Called twice: with the request's Content-Length before the body is read, so a refused upload
    costs nothing, then with the bytes stored (not yet committed), which is the only count a
    chunked request without Content-Length has. Uploads of finished jobs no longer count; the
    parts an open job already has do.
    """
    stored = upload_bytes_in_flight(session, owner)
    if stored + incoming > settings.key_max_upload_bytes:
        _too_many(
            f"this key has {stored} bytes of uploads waiting and sends {incoming} more; "
            f"the limit is {settings.key_max_upload_bytes}"
        )
