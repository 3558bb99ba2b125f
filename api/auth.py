"""Every /v1 request needs `Authorization: Bearer KEY`; a job is visible only to the key that made it."""

from __future__ import annotations

from flask import Flask, abort, g, request
from sqlalchemy import select

from api.database import get_session
from whoru.db.schema import Job
from whoru.keys import find_key

PUBLIC = ("/v1/openapi.json",)


def init_app(app: Flask) -> None:
    """Check the key before every /v1 request."""
    app.before_request(_require_key)


def _require_key():
    """Answer 401 unless a live key is presented; remember whose it is."""
    if not request.path.startswith("/v1/") or request.path in PUBLIC:
        return None
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    record = find_key(get_session(), key.strip()) if scheme.lower() == "bearer" and key.strip() else None
    if record is None:
        body = {"error": {"code": "unauthorized", "message": "send a valid API key as 'Authorization: Bearer KEY'"}}
        return body, 401, {"WWW-Authenticate": "Bearer"}
    g.api_key_id = record.id
    return None


def owner_id() -> int:
    """Return the id of the key making this request."""
    return g.api_key_id


def owned_job(job_id: str) -> Job:
    """Return the caller's job, or 404 (never 403, which would confirm that the id exists)."""
    job = get_session().scalar(select(Job).where(Job.id == job_id, Job.api_key_id == owner_id()))
    return job or abort(404, description=f"no job {job_id}")
