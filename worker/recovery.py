"""When a worker starts, resume jobs that a crashed or stopped deployment left unfinished."""

from __future__ import annotations

from celery.signals import worker_ready
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.lifecycle import unfinished
from whoru.logs import get_logger
from whoru.settings import Settings

log = get_logger("worker")


@worker_ready.connect
def _resume_unfinished(sender=None, **_kwargs) -> None:
    """Queue the start task again for queued and running jobs; tasks skip finished images."""
    engine = make_engine(Settings.from_env().database_url)
    try:
        with make_sessionmaker(engine)() as session:
            job_ids = unfinished(session)
    finally:
        engine.dispose()
    for job_id in job_ids:
        sender.app.send_task("whoru.jobs.start", args=[job_id])
        log.info("job=%s resumed after worker start", job_id)
