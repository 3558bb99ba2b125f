"""Celery tasks: thin, by id, idempotent. The API queues a task per run of images as each part is
committed; `start` queues a job's pending images again after a restart. A task that ends a job queues
its webhook unasked: the webhook task does nothing for a job without a callback URL, and asking
here would cost a query."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from celery import shared_task
from sqlalchemy.exc import IntegrityError, OperationalError

from whoru.db.jobs import groups_people, job_exists, model_name, pending_images, pending_positions
from whoru.db.lifecycle import close_idle, end_grouped, finish_if_complete, is_grouping, is_running, mark_running
from whoru.db.people import job_embeddings, save_people
from whoru.db.rows import ImageOutcome, count_attempt, record_model_version, save_outcomes
from whoru.db.schema import Image, utcnow
from whoru.faces.pipeline import FacePipeline
from whoru.grouping import average_linkage, person_labels
from whoru.job_end import after_end
from whoru.logs import get_logger, job_field
from whoru.stages import Stages
from whoru.storage import open_store
from whoru.storage.keys import remove_deleted_job_files
from whoru.worker import state
from whoru.worker.analyse import analyse_images
from whoru.worker.task_metrics import observe_images
from whoru.worker.webhooks import deliver_webhook

log = get_logger("worker")
# Database outages and lost races are retried with backoff; the task is idempotent.
RETRY = {
    "autoretry_for": (OperationalError, IntegrityError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 20,
}


@shared_task(name="whoru.jobs.start", **RETRY)
def start_job(job_id: str) -> None:
    """Queue one task per range of a job's pending images (or end it, closed with none pending)."""
    process = state.get()
    with process.sessions() as session:
        positions = pending_positions(session, job_id)
        status = None if positions else finish_if_complete(session, job_id)
        session.commit()
    after_end(process.settings, job_id, status, deliver_webhook.delay, group_people.delay)
    size = process.settings.task_images
    for i in range(0, len(positions), size):
        chunk = positions[i : i + size]
        process_images.delay(job_id, chunk[0], chunk[-1])
    log.info("started tasks=%d images=%d", -(-len(positions) // size), len(positions), extra=job_field(job_id))


@shared_task(name="whoru.jobs.close_idle", **RETRY)
def close_idle_jobs() -> None:
    """Close the open jobs that have had no part for WHORU_OPEN_JOB_TIMEOUT; they end with what they have."""
    process = state.get()
    with process.sessions() as session:
        closed = close_idle(session, utcnow() - timedelta(seconds=process.settings.open_job_timeout))
        session.commit()
    for job_id, status in closed:
        after_end(process.settings, job_id, status, deliver_webhook.delay, group_people.delay)
        log.info(
            "closed by the server after %d s without a part status=%s",
            process.settings.open_job_timeout,
            status or "running",
            extra=job_field(job_id),
        )


@shared_task(name="whoru.images.process", **RETRY)
def process_images(job_id: str, first: int, last: int) -> None:
    """Analyse the pending images at positions first..last of a job and store their faces."""
    process, stages = state.get(), Stages()
    started = time.perf_counter()
    with _files_removed_if_deleted(process, job_id), process.sessions() as session:
        if not mark_running(session, job_id):
            return
        pipeline = _pipeline_of(session, job_id)
        people = groups_people(session, job_id)
        session.commit()
        images = pending_images(session, job_id, first, last)
        # Attempts above zero mean an earlier run of this task died: go one image at a time.
        retried = any(image.attempts > 0 for image in images)
        outcomes = (_isolated if retried else _batch)(session, job_id, images, pipeline, stages, people)
        with stages("db_write"):
            status = finish_if_complete(session, job_id)
            session.commit()
    after_end(process.settings, job_id, status, deliver_webhook.delay, group_people.delay)
    observe_images(outcomes, stages)
    faces = sum(len(o.faces) for o in outcomes)
    log.info(
        "task=%d-%d images=%d faces=%d ms=%.0f stages=%s%s",
        first,
        last,
        len(outcomes),
        faces,
        (time.perf_counter() - started) * 1000,
        stages.json(),
        f" job_status={status}" if status else "",
        extra=job_field(job_id),
    )


@shared_task(name="whoru.people.group", **RETRY)
def group_people(job_id: str) -> None:
    """Group a people job's faces by person and end the job, all in one transaction, so a rerun starts afresh."""
    process = state.get()
    started = time.perf_counter()
    with process.sessions() as session:
        if not is_grouping(session, job_id):
            return
        face_ids, embeddings = job_embeddings(session, job_id)
        log.info("grouping faces=%d", len(face_ids), extra=job_field(job_id))
        clusters = average_linkage(
            embeddings, process.settings.people_threshold, process.settings.people_neighbours, in_place=True
        )
        labels = person_labels(clusters)
        status = end_grouped(session, job_id)
        if status is None:
            session.rollback()
            return
        save_people(session, face_ids, labels)
        session.commit()
    after_end(process.settings, job_id, status, deliver_webhook.delay, group_people.delay)
    log.info(
        "grouped faces=%d people=%d ms=%.0f",
        len(face_ids),
        len(set(labels)),
        (time.perf_counter() - started) * 1000,
        extra=job_field(job_id),
    )


@contextmanager
def _files_removed_if_deleted(process, job_id: str) -> Iterator[None]:
    """Run a task's block, then delete the job's files if the job is gone, however the block ended.

    The API removes a deleted job's files at once, but a task that was running may write a preview
    after that, or fail on rows that vanished under it: whatever it left is removed here.
    """
    try:
        yield
    finally:
        with process.sessions() as session:
            deleted = not job_exists(session, job_id)
        if deleted:
            remove_deleted_job_files(open_store(process.settings), job_id)


def _pipeline_of(session, job_id: str) -> FacePipeline:
    """Return the pipeline of the job's model, and record the version this worker serves of it.

    A deployment whose workers do not all serve the model the API accepted is misconfigured;
    the task fails loudly (Celery keeps the error) and its images stay pending, never mislabelled.
    """
    name = model_name(session, job_id)
    pipeline = state.get().pipeline(name)
    if pipeline is None:
        raise LookupError(f"job={job_id} asks for model {name!r}, which this worker does not serve (WHORU_MODELS)")
    record_model_version(session, job_id, pipeline.model.version)
    return pipeline


def _count_attempt(session, images: list[Image]) -> None:
    """Record, durably, that these images are about to be processed."""
    count_attempt(session, [image.id for image in images])
    session.commit()


def _batch(
    session, job_id: str, images: list[Image], pipeline: FacePipeline, stages: Stages, people: bool
) -> list[ImageOutcome]:
    """Analyse all images together and write them in one transaction."""
    process = state.get()
    with stages("db_write"):
        _count_attempt(session, images)
    outcomes = analyse_images(images, pipeline, process.settings, stages, people)
    with stages("db_write"):
        save_outcomes(session, _unless_canceled(session, job_id, outcomes))
        session.commit()
    return outcomes


def _unless_canceled(session, job_id: str, outcomes: list[ImageOutcome]) -> list[ImageOutcome]:
    """Return the outcomes to store: all of them, or only the successes if the job stopped meanwhile.

    Canceling a job deletes its uploads while this task may still be reading them; the failures
    that follow are the cancel's, not the images', and those images stay pending like the rest.
    """
    if is_running(session, job_id):
        return outcomes
    return [outcome for outcome in outcomes if outcome.error_code is None]


def _isolated(
    session, job_id: str, images: list[Image], pipeline: FacePipeline, stages: Stages, people: bool
) -> list[ImageOutcome]:
    """After a crash, run images one at a time so one poison image cannot sink its neighbours."""
    process = state.get()
    outcomes = []
    for image in images:
        _count_attempt(session, [image])
        session.refresh(image)
        if image.attempts > process.settings.task_max_attempts:
            outcome = ImageOutcome(
                image.id,
                error_code="worker_crashed",
                error_message=f"processing this image stopped its worker {image.attempts - 1} times",
            )
        else:
            outcome = analyse_images([image], pipeline, process.settings, stages, people)[0]
        save_outcomes(session, _unless_canceled(session, job_id, [outcome]))
        session.commit()
        outcomes.append(outcome)
    return outcomes
