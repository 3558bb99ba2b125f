"""Worker metrics: images and faces processed, time per stage and per task, retries, failures and the
model served. Pool processes record them (multiprocess mode, see whoru.prometheus); the main process
of each `whoru worker` serves their sum on WHORU_METRICS_PORT. Labels are task, stage, status and
error-code names, never job ids or file names."""

from __future__ import annotations

import os
import time

from celery.signals import task_failure, task_postrun, task_prerun, task_retry, worker_init, worker_process_shutdown
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from whoru.db.rows import ImageOutcome
from whoru.logs import get_logger
from whoru.prometheus import REGISTRY, process_exited, scrape_registry
from whoru.served_models import served_models
from whoru.settings import get_settings
from whoru.stages import Stages

log = get_logger("worker")
# A stage of a 32-image task takes milliseconds (read) to tens of seconds (classify on a busy core).
BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
IMAGES = Counter(
    "whoru_images_processed_total", "Images the workers finished, by status", ["status"], registry=REGISTRY
)
FAILED = Counter(
    "whoru_images_failed_total",
    "Images that failed, by error code (worker_crashed: it stopped its worker WHORU_TASK_MAX_ATTEMPTS times)",
    ["code"],
    registry=REGISTRY,
)
FACES = Counter("whoru_faces_processed_total", "Faces found and classified", registry=REGISTRY)
STAGES = Histogram(
    "whoru_stage_duration_seconds",
    "Time one task spent in a stage of its images",
    ["stage"],
    buckets=BUCKETS,
    registry=REGISTRY,
)
TASKS = Histogram("whoru_task_duration_seconds", "Time one task run took", ["task"], buckets=BUCKETS, registry=REGISTRY)
RETRIES = Counter("whoru_task_retries_total", "Task runs that ended in a retry", ["task"], registry=REGISTRY)
FAILURES = Counter(
    "whoru_task_failures_total", "Task runs that failed with an exception", ["task", "exception"], registry=REGISTRY
)
MODEL = Gauge(
    "whoru_model_info",
    "Each model the workers serve (always 1)",
    ["name", "version"],
    multiprocess_mode="max",
    registry=REGISTRY,
)
_started: dict[str, float] = {}


def observe_images(outcomes: list[ImageOutcome], stages: Stages) -> None:
    """Record a task's time per stage, then count its finished images and faces."""
    # Stages first: a reader that sees the images counted (`whoru bench`) then sees their stage times too.
    for stage, ms in stages.ms.items():
        STAGES.labels(stage).observe(ms / 1000)
    for outcome in outcomes:
        IMAGES.labels(str(outcome.status)).inc()
        if outcome.error_code:
            FAILED.labels(outcome.error_code).inc()
        FACES.inc(len(outcome.faces))


@worker_init.connect
def _serve(**_kwargs) -> None:
    """Serve the pool's metrics from the main process, with the name and version of each served model."""
    settings = get_settings()
    if not settings.metrics_port:
        return
    for model in served_models(settings).values():
        MODEL.labels(model.name, model.version).set(1)
    start_http_server(settings.metrics_port, registry=scrape_registry())
    log.info("worker metrics on port %d", settings.metrics_port)


@worker_process_shutdown.connect
def _forget_process(**_kwargs) -> None:
    """Clean up an exiting pool process's live values."""
    process_exited(os.getpid())


@task_prerun.connect
def _start_clock(task_id: str, **_kwargs) -> None:
    """Note when a task run began."""
    _started[task_id] = time.perf_counter()


@task_postrun.connect
def _time_task(task_id: str, task, **_kwargs) -> None:
    """Record how long a task run took."""
    if task_id in _started:
        TASKS.labels(task.name).observe(time.perf_counter() - _started.pop(task_id))


@task_retry.connect
def _count_retry(sender, **_kwargs) -> None:
    """Count a retry of a task."""
    RETRIES.labels(sender.name).inc()


@task_failure.connect
def _count_failure(sender, exception: BaseException, **_kwargs) -> None:
    """Count a task run that failed."""
    FAILURES.labels(sender.name, type(exception).__name__).inc()
