"""Page sizes and opaque page tokens for the list endpoints."""

from __future__ import annotations

import base64

from flask import abort, request

PAGING = [
    {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
    {"name": "page_token", "in": "query", "schema": {"type": "string"}},
]


def page_size(settings) -> int:
    """Return the requested page_size, bounded by settings."""
    try:
        size = int(request.args.get("page_size", settings.page_size))
    except ValueError:
        abort(400, description="page_size must be an integer")
    if not 1 <= size <= settings.max_page_size:
        abort(400, description=f"page_size must be between 1 and {settings.max_page_size}")
    return size


def encode_token(scope: str, value: str) -> str:
    """Return an opaque token for a cursor value, bound to a scope (the key, and the job if any)."""
    return base64.urlsafe_b64encode(f"{scope}|{value}".encode()).decode()


def decode_token(scope: str, token: str) -> str:
    """Return the cursor value of a token; 400 if it is malformed or was issued for another scope."""
    try:
        issued_for, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition("|")
    except ValueError:
        abort(400, description="page_token is not valid")
    if issued_for != scope or not value:
        abort(400, description="page_token was not issued for this listing")
    return value
