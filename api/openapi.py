"""The OpenAPI 3 description of the HTTP API, served at /v1/openapi.json."""

from __future__ import annotations

from flask import Blueprint

import whoru

bp = Blueprint("openapi", __name__)

_ERROR = {"description": "JSON error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_PAGING = [
    {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
    {"name": "page_token", "in": "query", "schema": {"type": "string"}},
]


def _json(schema_ref: str, description: str) -> dict:
    """Return a JSON response object referring to a component schema."""
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}}}}},
    "Job": {"type": "object", "required": ["id", "status", "counts", "model", "links"], "properties": {
        "id": {"type": "string"},
        "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "canceled"]},
        "error": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "started_at": {"type": ["string", "null"], "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "counts": {"type": "object", "properties": {k: {"type": "integer"} for k in ("images_total", "images_done", "images_failed", "faces")}},
        "model": {"type": "object", "properties": {"name": {"type": "string"}, "version": {"type": "string"}}},
        "links": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "JobList": {"type": "object", "properties": {"jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}},
                                                 "next_page_token": {"type": ["string", "null"]}}},
    "Face": {"type": "object", "properties": {
        "box": {"type": "object", "properties": {k: {"type": "number"} for k in "xywh"}},
        "detection_score": {"type": "number"},
        "landmarks": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        "age": {"type": "number"}, "age_bin": {"type": "string", "enum": ["0-20", "21-40", "41-60", "61-80", "81+"]},
        "gender": {"type": "object", "properties": {"label": {"type": "string", "enum": ["male", "female"]}, "probability": {"type": "number"}}},
        "ethnicity": {"type": "object", "properties": {"label": {"type": "string", "enum": ["white", "black", "asian", "indian", "others"]},
                                                       "probabilities": {"type": "object", "additionalProperties": {"type": "number"}}}}}},
    "ImageResult": {"type": "object", "properties": {
        "name": {"type": "string"}, "status": {"type": "string", "enum": ["pending", "done", "no_face", "failed"]},
        "error": {"type": ["object", "null"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
        "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
        "faces": {"type": "array", "items": {"$ref": "#/components/schemas/Face"}}}},
    "ResultsPage": {"type": "object", "properties": {"images": {"type": "array", "items": {"$ref": "#/components/schemas/ImageResult"}},
                                                     "next_page_token": {"type": ["string", "null"]}}},
}

PATHS = {
    "/v1/jobs": {
        "post": {"summary": "Create a job from images and/or zip archives", "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}},
            "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 200}}],
            "responses": {"202": _json("Job", "Job accepted; Location and Retry-After headers set"),
                          "200": _json("Job", "Idempotent replay of an earlier identical request"),
                          "400": _ERROR, "401": _ERROR, "413": _ERROR, "422": _ERROR, "429": _ERROR, "503": _ERROR}},
        "get": {"summary": "List jobs, newest first", "parameters": _PAGING, "responses": {"200": _json("JobList", "A page of jobs"), "400": _ERROR}},
    },
    "/v1/jobs/{job_id}": {"get": {"summary": "A job's status and counts", "parameters": [_JOB_ID],
                                  "responses": {"200": _json("Job", "The job"), "401": _ERROR, "404": _ERROR}},
                          "delete": {"summary": "Delete a job, its rows and its stored uploads", "parameters": [_JOB_ID],
                                     "responses": {"204": {"description": "Deleted"}, "401": _ERROR, "404": _ERROR}}},
    "/v1/jobs/{job_id}/cancel": {"post": {"summary": "Cancel a queued or running job", "parameters": [_JOB_ID],
                                          "responses": {"200": _json("Job", "The job"), "404": _ERROR}}},
    "/v1/jobs/{job_id}/results": {"get": {"summary": "Per-image results in submission order", "parameters": [_JOB_ID, *_PAGING],
                                          "responses": {"200": _json("ResultsPage", "A page of images"), "400": _ERROR, "404": _ERROR}}},
    "/v1/jobs/{job_id}/results.csv": {"get": {"summary": "All results as streamed CSV", "parameters": [_JOB_ID],
                                              "responses": {"200": {"description": "CSV, one row per face", "content": {"text/csv": {}}}, "404": _ERROR}}},
    "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "Alive"}}}},
    "/readyz": {"get": {"summary": "Readiness: database and broker reachable", "responses": {"200": {"description": "Ready"}, "503": {"description": "Not ready"}}}},
    "/v1/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3 document"}}}},
}


@bp.get("/v1/openapi.json")
def document():
    """Return the OpenAPI document."""
    return {"openapi": "3.1.0", "info": {"title": "whoru", "version": whoru.__version__,
            "description": "Age, gender and ethnicity for every face, in bulk."},
            "paths": PATHS, "security": [{"bearer": []}],
            "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}
