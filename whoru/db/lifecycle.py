"""A job's life, in one place: open -> queued/running -> closed -> succeeded/failed/canceled.

A job is created open and receives parts; each part's images are queued as soon as the part is
committed, so a job may be running while it is still open. It ends only once it is closed (by
its client, or by the server after WHORU_OPEN_JOB_TIMEOUT without a part) and no image is
pending. Every status change goes through a function here, as one conditional UPDATE, so the
API and any number of workers can race without a lost or doubled transition. Callers own the
session and commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from whoru.db.schema import Image, Job, Upload, utcnow
from whoru.db.statuses import ENDED, IN_FLIGHT, ClosedBy, ImageStatus, JobStatus, PeopleStatus, WebhookStatus


class PartRefused(Exception):
    """A part that the job cannot take now (closed, canceled, ended, or out of order)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def open_job(
    session: Session,
    job_id: str,
    owner: int | None,
    model: tuple[str, str],
    idempotency_key: str | None = None,
    request_sha256: str | None = None,
    callback_url: str | None = None,
    people: bool = False,
    label: str | None = None,
    try_it: bool = False,
) -> Job:
    """Add a new open, queued job with no images (and a webhook pending when it has a callback URL)."""
    job = Job(
        id=job_id,
        status=JobStatus.QUEUED,
        open=True,
        model_name=model[0],
        model_version=model[1],
        label=label,
        try_it=try_it,
        api_key_id=owner,
        idempotency_key=idempotency_key,
        request_sha256=request_sha256,
        images_total=0,
        callback_url=callback_url,
        webhook_status=WebhookStatus.PENDING if callback_url else None,
        people=people,
        people_status=PeopleStatus.PENDING if people else None,
    )
    session.add(job)
    return job


def add_part(session: Session, job_id: str, upload: Upload, images: list[dict]) -> range:
    """Append a part and its images to an open job; return the positions its images took.

    Parts come in order: part n is taken only once parts 0..n-1 are there, so images stay in
    part order and a client that resumes knows exactly what is missing.
    """
    parts = session.scalar(select(func.count()).where(Upload.job_id == job_id))
    if upload.position != parts:
        refused = PartRefused("part_out_of_order", f"the job has parts 0..{parts - 1}; send part {parts} next")
        raise _unless_gone(session, job_id, refused)
    first = session.scalar(
        update(Job)
        .where(Job.id == job_id, Job.open.is_(True), Job.status.in_(IN_FLIGHT))
        .values(images_total=Job.images_total + len(images), active_at=utcnow())
        .returning(Job.images_total)
    )
    if first is None:
        raise _unless_gone(
            session, job_id, PartRefused("job_closed", "the job is closed, canceled or ended; it takes no more parts")
        )
    first -= len(images)
    upload.job_id, upload.image_count = job_id, len(images)
    session.add(upload)
    session.flush()
    rows = [
        {**image, "job_id": job_id, "upload_id": upload.id, "position": first + i} for i, image in enumerate(images)
    ]
    if rows:
        session.execute(insert(Image), rows)
    return range(first, first + len(rows))


def _unless_gone(session: Session, job_id: str, refused: PartRefused) -> PartRefused:
    """Return the refusal of a part, or that its job is gone (deleted while the part arrived: not a conflict)."""
    if session.scalar(select(Job.id).where(Job.id == job_id)) is None:
        return PartRefused("job_gone", f"no job {job_id}")
    return refused


def remove_part(session: Session, upload: Upload) -> None:
    """Undo add_part: remove a part and its images, and take its images off the job's total."""
    session.delete(upload)
    session.execute(
        update(Job).where(Job.id == upload.job_id).values(images_total=Job.images_total - upload.image_count)
    )


def close(session: Session, job_id: str, by: ClosedBy = ClosedBy.CLIENT) -> JobStatus | None:
    """Close an open job (no more parts); return its final status if that ended it."""
    session.execute(
        update(Job).where(Job.id == job_id, Job.open.is_(True)).values(open=False, closed_at=utcnow(), closed_by=by)
    )
    return finish_if_complete(session, job_id)


def close_idle(session: Session, idle_since: datetime) -> list[tuple[str, JobStatus | None]]:
    """Close every open job that has had no part since a moment; return each id with its final status."""
    job_ids = list(session.scalars(select(Job.id).where(Job.open.is_(True), Job.active_at < idle_since)))
    return [(job_id, close(session, job_id, ClosedBy.TIMEOUT)) for job_id in job_ids]


def mark_running(session: Session, job_id: str) -> bool:
    """Move a queued job to running; return False unless it is now running (gone, canceled, ended)."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, started_at=utcnow())
    )
    return is_running(session, job_id)


def is_running(session: Session, job_id: str) -> bool:
    """Return whether a job is running now (False if it is gone, canceled or ended)."""
    return session.scalar(select(Job.status).where(Job.id == job_id)) == JobStatus.RUNNING


def finish_if_complete(session: Session, job_id: str) -> JobStatus | PeopleStatus | None:
    """End a closed job once no image is pending; return its new status, if it changed.

    A people job that would succeed is not ended here: it returns GROUPING (every time it is
    asked, so a resumed job queues its grouping again), and `end_grouped` ends it.
    """
    # The row lock orders this against a concurrent close or last task: without it, each could
    # read the other's change as not yet made, and neither would end the job.
    job = session.execute(
        select(Job.open, Job.status, Job.people).where(Job.id == job_id).with_for_update()
    ).one_or_none()
    if job is None or job.open or job.status not in IN_FLIGHT or _pending(session, job_id):
        return None
    total, failed = session.execute(
        select(func.count(), func.count().filter(Image.status == ImageStatus.FAILED)).where(Image.job_id == job_id)
    ).one()
    status, error = _outcome(total, failed)
    if status == JobStatus.SUCCEEDED and job.people:
        session.execute(update(Job).where(Job.id == job_id).values(people_status=PeopleStatus.GROUPING))
        return PeopleStatus.GROUPING
    changed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(IN_FLIGHT))
        .values(
            status=status, finished_at=utcnow(), error=error, people_status=PeopleStatus.DONE if job.people else None
        )
    ).rowcount
    return status if changed else None


def is_grouping(session: Session, job_id: str) -> bool:
    """Return whether a job's images are done and its faces wait to be grouped."""
    job = session.execute(select(Job.status, Job.people_status).where(Job.id == job_id)).one_or_none()
    return job is not None and job.status in IN_FLIGHT and job.people_status == PeopleStatus.GROUPING


def end_grouped(session: Session, job_id: str) -> JobStatus | None:
    """End a people job whose faces are being grouped in this transaction; None if canceled or deleted meanwhile."""
    changed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(IN_FLIGHT), Job.people_status == PeopleStatus.GROUPING)
        .values(status=JobStatus.SUCCEEDED, finished_at=utcnow(), people_status=PeopleStatus.DONE)
    ).rowcount
    return JobStatus.SUCCEEDED if changed else None


def _pending(session: Session, job_id: str) -> bool:
    """Return whether any image of a job is still pending."""
    return (
        session.scalar(select(Image.id).where(Image.job_id == job_id, Image.status == ImageStatus.PENDING).limit(1))
        is not None
    )


def _outcome(total: int, failed: int) -> tuple[JobStatus, str | None]:
    """Return the final status of a job with these counts, and why it failed."""
    if total == 0:
        return JobStatus.FAILED, "the job was closed without any image"
    if failed == total:
        return JobStatus.FAILED, "every image failed"
    return JobStatus.SUCCEEDED, None


def cancel(session: Session, job_id: str) -> bool:
    """Stop a queued or running job (open or not); return whether this call canceled it."""
    return bool(
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(IN_FLIGHT))
            .values(status=JobStatus.CANCELED, open=False, finished_at=utcnow())
        ).rowcount
    )


def delete_jobs(session: Session, job_ids: list[str]) -> None:
    """Delete jobs with their uploads, images and faces (the database cascades)."""
    for start in range(0, len(job_ids), 500):
        session.execute(delete(Job).where(Job.id.in_(job_ids[start : start + 500])))


def ended_before(session: Session, moment: datetime) -> list[str]:
    """Return the ids of jobs that ended (or were canceled) and were created before a moment (retention)."""
    return list(session.scalars(select(Job.id).where(Job.created_at < moment, Job.status.in_(ENDED))))


def unfinished(session: Session) -> list[str]:
    """Return the ids of queued and running jobs (recovery after a restart)."""
    return list(session.scalars(select(Job.id).where(Job.status.in_(IN_FLIGHT))))


def in_flight(owner: int):
    """Return the condition selecting one key's queued or running jobs (quotas)."""
    return (Job.api_key_id == owner) & Job.status.in_(IN_FLIGHT)
