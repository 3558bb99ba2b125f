"""The web page: one HTML document at `/` and its local scripts and styles under /static, all public.

The page holds no secret: it asks for an API key and uses it, like any client, against /v1.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app

from whoru.image_names import IMAGE_EXTENSIONS

bp = Blueprint("web", __name__)
# Nothing but whoru's own files: no inline script or style, no eval, no framing, no other origin.
POLICY = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"


@bp.get("/")
def index() -> Response:
    """Return the single page; its scripts route between try-it, bulk and jobs."""
    response = current_app.send_static_file("index.html")
    response.cache_control.no_cache = True
    return response


@bp.get("/static/js/image-types.js")
def image_types() -> Response:
    """Return the image extensions the server accepts, as the script module the page imports."""
    response = Response(
        f"export const IMAGE_EXTENSIONS = {json.dumps(IMAGE_EXTENSIONS)};\n", mimetype="text/javascript"
    )
    response.cache_control.no_cache = True
    return response


@bp.after_app_request
def _protect(response: Response) -> Response:
    """Send the content security policy and keep browsers from guessing types or leaking URLs."""
    response.headers.setdefault("Content-Security-Policy", POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
