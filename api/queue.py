"""Send tasks to the workers by name, so the API never imports the face pipeline; only after the commit."""

from __future__ import annotations

from collections.abc import Callable

from celery import Celery
from flask import Flask, current_app

from whoru.celery_app import make_celery

# A request waits on the broker: one that accepts connections but never answers (stopped,
# swapping) must cost a 503 within seconds, not a request held for as long as the OS allows.
BROKER_TIMEOUT_S = 1
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def init_app(app: Flask) -> None:
    """Attach a Celery client configured like the workers, with short broker timeouts."""
    celery = make_celery(app.config["SETTINGS"])
    celery.conf.broker_transport_options = {
        **celery.conf.broker_transport_options,
        "socket_timeout": BROKER_TIMEOUT_S,
        "socket_connect_timeout": BROKER_TIMEOUT_S,
    }
    celery.conf.broker_connection_timeout = BROKER_TIMEOUT_S
    celery.conf.task_publish_retry_policy = PUBLISH_RETRY
    app.extensions["whoru_celery"] = celery


def client() -> Celery:
    """Return the app's Celery client."""
    return current_app.extensions["whoru_celery"]


def queue_images(job_id: str, positions: range, per_task: int) -> None:
    """Queue one task per run of at most per_task images of a committed part."""
    for first in range(positions.start, positions.stop, per_task):
        client().send_task("whoru.images.process", args=[job_id, first, min(first + per_task, positions.stop) - 1])


def queue_grouping(job_id: str) -> None:
    """Queue the grouping of a people job's faces, once its images are done."""
    client().send_task("whoru.people.group", args=[job_id])


def queue_or_forget(job_id: str, positions: range, per_task: int, forget: Callable[[], None]) -> None:
    """Queue a committed run of images; if the queue is unreachable, forget what was committed, so a retry is clean."""
    try:
        queue_images(job_id, positions, per_task)
    except Exception:
        forget()
        raise


def queue_webhook(job_id: str) -> None:
    """Queue the delivery of an ended job's webhook."""
    client().send_task("whoru.webhooks.deliver", args=[job_id])


def ping_broker() -> None:
    """Raise if the broker cannot be reached."""
    with client().connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
