"""The thin Flask API: store uploads, create jobs, report status, serve results."""

from __future__ import annotations

from flask import Flask

from whoru.logs import configure_logging
from whoru.settings import Settings, get_settings


def create_app(test_config: dict | None = None) -> Flask:
    """Create the API app from WHORU_* settings (or test_config overrides)."""
    from whoru.api import (
        auth,
        database,
        errors,
        health,
        http_metrics,
        jobs,
        openapi,
        parts,
        people,
        previews,
        queue,
        results,
        summary,
        uploads,
        web,
    )

    environ = (test_config or {}).get("environ")
    settings = get_settings() if environ is None else Settings.from_env(environ)
    configure_logging(settings.log_level, settings.log_format)
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings, MAX_CONTENT_LENGTH=settings.max_upload_bytes, MAX_FORM_PARTS=settings.max_parts + 8
    )
    app.config.update({k: v for k, v in (test_config or {}).items() if k != "environ"})
    app.request_class = uploads.StoringRequest
    database.init_app(app)
    auth.init_app(app)
    queue.init_app(app)
    http_metrics.init_app(app)
    openapi.init_app(
        app, [module.bp for module in (health, jobs, parts, results, people, summary, previews, http_metrics)]
    )
    app.register_blueprint(web.bp)
    # After flask-smorest's own handlers, so that every error keeps whoru's JSON shape.
    errors.init_app(app)
    return app
