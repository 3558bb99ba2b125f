"""When a worker starts, resume jobs that a crashed or stopped deployment left unfinished."""

from __future__ import annotations

from celery.signals import worker_ready
from sqlalchemy import select

from whoru.db.engine import make_engine, make_sessionmaker
from whoru.db.jobs import IN_FLIGHT_JOB_STATUSES
from whoru.db.schema import Job
from whoru.logs import get_logger
from whoru.settings import Settings

log = get_logger("worker")


@worker_ready.connect
def _resume_unfinished(sender=None, **_kwargs) -> None:
    """Queue the start task again for queued and running jobs; tasks skip finished images."""
    engine = make_engine(Settings.from_env().database_url)
    try:
        with make_sessionmaker(engine)() as session:
            job_ids = list(session.scalars(select(Job.id).where(Job.status.in_(IN_FLIGHT_JOB_STATUSES))))
    finally:
        engine.dispose()
    for job_id in job_ids:
        sender.app.send_task("whoru.jobs.start", args=[job_id])
        log.info("job=%s resumed after worker start", job_id)
