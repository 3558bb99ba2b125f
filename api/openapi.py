"""The OpenAPI document at /v1/openapi.json, written by flask-smorest from the views and the schemas
that serialise their answers (api/schemas.py).

flask-smorest rather than APIFlask or spectree: it plugs into a plain Flask app and its blueprints
(no app subclass), and it serialises with the very marshmallow schemas it documents, so a field
missing from a schema is missing from the answer too, never only from the document.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

import whoru
from whoru.api.schemas import Error, JobChange, JobOptions

CONFIG = {
    "API_TITLE": "whoru",
    "API_VERSION": whoru.__version__,
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {"description": "Age, gender and ethnicity for every face, in bulk."},
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    },
}


class WhoruApi(Api):
    """flask-smorest's Api, documenting errors with whoru's own error body."""

    ERROR_SCHEMA = Error


def init_app(app: Flask, blueprints) -> Api:
    """Document and register the blueprints; return the Api."""
    app.config.update({key: value for key, value in CONFIG.items() if key not in app.config})
    api = WhoruApi(app)
    api.spec.components.schema("JobOptions", schema=JobOptions)
    api.spec.components.schema("JobChange", schema=JobChange)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return api
