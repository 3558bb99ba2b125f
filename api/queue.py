"""Send tasks to the workers by name, so the API never imports the face pipeline."""

from __future__ import annotations

from celery import Celery
from flask import Flask, current_app

from worker.celery_app import make_celery


def init_app(app: Flask) -> None:
    """Attach a Celery client configured like the workers."""
    app.extensions["whoru_celery"] = make_celery(app.config["SETTINGS"])


def client() -> Celery:
    """Return the app's Celery client."""
    return current_app.extensions["whoru_celery"]


def start_job(job_id: str) -> None:
    """Queue the task that splits a job into image tasks."""
    client().send_task("whoru.jobs.start", args=[job_id])


def ping_broker() -> None:
    """Raise if the broker cannot be reached."""
    with client().connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
