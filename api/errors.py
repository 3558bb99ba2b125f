"""Every error as JSON `{error: {code, message}}`; broker or database outages as 503."""

from __future__ import annotations

from flask import Flask
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError as DatabaseError
from werkzeug.exceptions import HTTPException

from whoru.logs import get_logger
from whoru.upload_entries import UploadError

log = get_logger("api")

# Refused uploads that are too big answer 413 Content Too Large; every other refusal is a bad request.
TOO_LARGE = frozenset({"too_many_entries", "zip_too_large", "too_many_parts"})


def error_body(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> tuple:
    """Return the response tuple of every error whoru answers: `{error: {code, message}}`, status, headers."""
    return {"error": {"code": code, "message": message}}, status, headers or {}


def init_app(app: Flask) -> None:
    """Register the JSON error handlers."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(UploadError, _upload_error)
    app.register_error_handler(DatabaseError, _unavailable("database_unavailable", "the database"))
    for error in (BrokerError, RedisConnectionError, ConnectionError):
        app.register_error_handler(error, _unavailable("broker_unavailable", "the task queue (Redis)"))


def _http_error(error: HTTPException):
    """Turn Werkzeug's HTML errors (404, 405, 413, ...) into JSON."""
    code = (error.name or "error").lower().replace(" ", "_")
    return error_body(error.code or 500, code, error.description or error.name)


def _upload_error(error: UploadError):
    """Answer a refused upload with the status its code calls for."""
    return error_body(413 if error.code in TOO_LARGE else 400, error.code, str(error))


def _unavailable(code: str, what: str):
    """Return a handler that answers 503 with a Retry-After while a dependency is down."""

    def handle(error: Exception):
        log.warning("%s unavailable: %s", what, error)
        return error_body(503, code, f"{what} is unreachable; try again shortly", {"Retry-After": "5"})

    return handle
