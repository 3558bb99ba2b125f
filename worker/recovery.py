"""When a worker starts, resume jobs that a crashed or stopped deployment left unfinished."""

from __future__ import annotations

from celery.signals import worker_ready

from whoru.db.engine import make_engine, make_sessionmaker
from whoru.db.lifecycle import unfinished
from whoru.db.webhooks import undelivered
from whoru.logs import get_logger, job_field
from whoru.settings import get_settings

log = get_logger("worker")


@worker_ready.connect
def _resume_unfinished(sender=None, **_kwargs) -> None:
    """Queue the start task again for queued and running jobs (tasks skip finished images), and undelivered webhooks."""
    engine = make_engine(get_settings().database_url)
    try:
        with make_sessionmaker(engine)() as session:
            job_ids, webhooks = unfinished(session), undelivered(session)
    finally:
        engine.dispose()
    for job_id in job_ids:
        sender.app.send_task("whoru.jobs.start", args=[job_id])
        log.info("resumed after worker start", extra=job_field(job_id))
    # A webhook the API could not queue (Redis down as the job ended) is queued here; one queued
    # twice is harmless: the task does nothing once it is delivered.
    for job_id in webhooks:
        sender.app.send_task("whoru.webhooks.deliver", args=[job_id])
