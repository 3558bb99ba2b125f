"""What follows a job's end, or a failed queueing, outside its rows: its stored files and its webhook.

The API and the workers both end jobs (close, cancel, the last task, the idle timeout) and both
call here, so that the files go and the webhook is queued the same way whoever ended it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from whoru.db.lifecycle import delete_jobs, remove_part
from whoru.db.schema import Upload
from whoru.db.statuses import JobStatus, PeopleStatus
from whoru.logs import get_logger, job_field
from whoru.settings import Settings
from whoru.storage import open_store
from whoru.storage.keys import remove_job_files

log = get_logger("jobs")


def after_end(
    settings: Settings,
    job_id: str,
    status: JobStatus | PeopleStatus | None,
    queue_webhook: Callable[[str], None],
    queue_grouping: Callable[[str], None],
) -> None:
    """Once a job has ended (status not None), delete its uploads unless settings keep them, and queue its webhook.

    A people job whose images are done (GROUPING) has not ended: its grouping is queued instead.
    """
    if status == PeopleStatus.GROUPING:
        queue_grouping(job_id)
        return
    if status is None:
        return
    if not settings.keep_uploads:
        remove_job_files(open_store(settings), job_id)
    queue_webhook(job_id)


def forget_job(session: Session, settings: Settings, job_id: str) -> None:
    """Delete a committed job that could not be queued, rows and files, so that a retry starts clean."""
    delete_jobs(session, [job_id])
    session.commit()
    remove_job_files(open_store(settings), job_id)
    log.warning("removed: the task queue was unreachable", extra=job_field(job_id))


def forget_part(session: Session, settings: Settings, upload: Upload) -> None:
    """Remove a committed part that could not be queued, row and object, so that a retry of it is clean."""
    remove_part(session, upload)
    session.commit()
    open_store(settings).delete(upload.path)
    log.warning("part=%d removed: the task queue was unreachable", upload.position, extra=job_field(upload.job_id))
