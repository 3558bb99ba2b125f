"""`Idempotency-Key` on POST /v1/jobs: a retried request gets the job it already made."""

from __future__ import annotations

import hashlib

from flask import abort
from sqlalchemy.orm import Session

from whoru.db.jobs import job_by_idempotency_key
from whoru.db.schema import Job

MAX_KEY_LENGTH = 200


def request_digest(named_digests: list[tuple[str, str]]) -> str:
    """Return a SHA-256 over a request's parts, given each part's name and SHA-256, in order."""
    digest = hashlib.sha256()
    for name, sha256 in named_digests:
        digest.update(f"{name}\0{sha256}\0".encode())
    return digest.hexdigest()


def earlier_job(session: Session, owner: int, key: str, digest: str) -> Job | None:
    """Return the job this key already made with the same body; 422 if the body differs."""
    if len(key) > MAX_KEY_LENGTH:
        abort(400, description=f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters")
    job = job_by_idempotency_key(session, owner, key)
    if job is not None and job.request_sha256 != digest:
        abort(422, description="this Idempotency-Key was used with a different request body")
    return job
