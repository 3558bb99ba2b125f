"""Every /v1 request needs `Authorization: Bearer KEY`; a job is visible only to the key that made it,
and its id may be shortened, as git does, to a prefix that only one of that key's jobs has."""

from __future__ import annotations

import re

from flask import Flask, abort, g, request

from whoru.api.database import get_session
from whoru.api.errors import error_body
from whoru.db.jobs import jobs_starting_with
from whoru.db.jobs import owned_job as owned_job_row
from whoru.db.schema import Job
from whoru.keys import find_key

PUBLIC = ("/v1/openapi.json",)
SHORTEST_PREFIX = 8
SHOWN_MATCHES = 5
ID_CHARACTERS = re.compile(r"[0-9a-f-]+")


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
    if request.view_args and "job_id" in request.view_args:
        request.view_args["job_id"] = _full_job_id(request.view_args["job_id"])
    return None


def _full_job_id(given: str) -> str:
    """Return the id of the caller's one job that starts with a prefix of 8 or more characters, else the id as given.

    Every route then sees a full id; an ambiguous prefix is refused with 409, naming its matches.
    """
    if len(given) < SHORTEST_PREFIX or not ID_CHARACTERS.fullmatch(given):
        return given
    matches = jobs_starting_with(get_session(), owner_id(), given, SHOWN_MATCHES + 1)
    if len(matches) > 1:
        shown = ", ".join(matches[:SHOWN_MATCHES]) + (" and more" if len(matches) > SHOWN_MATCHES else "")
        abort(409, description=f"job id prefix {given} is ambiguous: it starts {shown}; give more characters")
    return matches[0] if matches else given


def owner_id() -> int:
    """Return the id of the key making this request."""
    return g.api_key_id


def owned_job(job_id: str) -> Job:
    """Return the caller's job, or 404 (never 403, which would confirm that the id exists)."""
    return owned_job_row(get_session(), job_id, owner_id()) or abort(
        404,
        description=f"no job {job_id}"
        + (f" (a shortened id needs at least {SHORTEST_PREFIX} characters)" if len(job_id) < SHORTEST_PREFIX else ""),
    )
