"""Every /v1 request needs `Authorization: Bearer KEY`; a job is visible only to the key that made it."""

from __future__ import annotations

from flask import Flask, abort, g, request

from api.database import get_session
from api.errors import error_body
from whoru.db.jobs import owned_job as owned_job_row
from whoru.db.schema import Job
from whoru.keys import find_key

PUBLIC = ("/v1/openapi.json",)


def init_app(app: Flask) -> None:
    """Check the key before every /v1 request."""
    app.before_request(_require_key)


def bearer_token() -> str | None:
    """Return the token of the request's `Authorization: Bearer TOKEN` header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def unauthorized(message: str) -> tuple:
    """Return the 401 answer that asks for a bearer token."""
    return error_body(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


def _require_key():
    """Answer 401 unless a live key is presented; remember whose it is."""
    if not request.path.startswith("/v1/") or request.path in PUBLIC:
        return None
    key = bearer_token()
    record = find_key(get_session(), key) if key else None
    if record is None:
        return unauthorized("send a valid API key as 'Authorization: Bearer KEY'")
    g.api_key_id = record.id
    return None


def owner_id() -> int:
    """Return the id of the key making this request."""
    return g.api_key_id


def owned_job(job_id: str) -> Job:
    """Return the caller's job, or 404 (never 403, which would confirm that the id exists)."""
    return owned_job_row(get_session(), job_id, owner_id()) or abort(404, description=f"no job {job_id}")
