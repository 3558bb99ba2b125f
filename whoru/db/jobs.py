"""Queries about jobs and their images, shared by the API and the worker; callers own the session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from whoru.db.schema import Image, Job, Upload, utcnow

FINAL_IMAGE_STATUSES = ("done", "no_face", "failed")
IN_FLIGHT_JOB_STATUSES = ("queued", "running")


@dataclass(frozen=True)
class Counts:
    """How far a job has got."""

    images_total: int
    images_done: int
    images_failed: int
    faces: int


def add_job(session: Session, job: Job, uploads: list[tuple[Upload, list[dict]]]) -> None:
    """Insert a job, its uploads and their images (bulk) in the caller's transaction."""
    session.add(job)
    position = 0
    for upload, images in uploads:
        upload.job_id = job.id
        session.add(upload)
        session.flush()
        rows = [{**image, "job_id": job.id, "upload_id": upload.id, "position": position + i} for i, image in enumerate(images)]
        position += len(rows)
        if rows:
            session.execute(insert(Image), rows)
    job.images_total = position


def counts(session: Session, job_id: str) -> Counts:
    """Return the image and face counts of a job."""
    rows = session.execute(
        select(Image.status, func.count(), func.coalesce(func.sum(Image.face_count), 0))
        .where(Image.job_id == job_id)
        .group_by(Image.status)
    ).all()
    by_status = {status: (n, faces) for status, n, faces in rows}
    done = sum(by_status.get(s, (0, 0))[0] for s in ("done", "no_face"))
    failed = by_status.get("failed", (0, 0))[0]
    return Counts(sum(n for n, _ in by_status.values()), done, failed, int(sum(f for _, f in by_status.values())))


def list_jobs(session: Session, owner: int, limit: int, before: tuple | None) -> list[Job]:
    """Return one key's jobs newest first, after a (created_at, id) cursor."""
    query = select(Job).where(Job.api_key_id == owner).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if before is not None:
        created, job_id = before
        query = query.where((Job.created_at < created) | ((Job.created_at == created) & (Job.id < job_id)))
    return list(session.scalars(query))


def images_page(session: Session, job_id: str, after: int, limit: int) -> list[Image]:
    """Return up to limit images with their faces, in submission order after a position."""
    query = (
        select(Image)
        .where(Image.job_id == job_id, Image.position > after)
        .order_by(Image.position)
        .limit(limit)
        .options(selectinload(Image.faces))
    )
    return list(session.scalars(query))


def pending_positions(session: Session, job_id: str) -> list[int]:
    """Return the positions of images not yet finished, in order."""
    query = select(Image.position).where(Image.job_id == job_id, Image.status == "pending").order_by(Image.position)
    return list(session.scalars(query))


def mark_running(session: Session, job_id: str) -> bool:
    """Move a queued job to running; return False unless it is now running (gone, canceled, ended)."""
    session.execute(update(Job).where(Job.id == job_id, Job.status == "queued").values(status="running", started_at=utcnow()))
    return is_running(session, job_id)


def is_running(session: Session, job_id: str) -> bool:
    """Return whether a job is running now (False if it is gone, canceled or ended)."""
    return session.scalar(select(Job.status).where(Job.id == job_id)) == "running"


def ended_before(session: Session, moment) -> list[str]:
    """Return the ids of jobs that ended (or were canceled) and were created before a moment."""
    query = select(Job.id).where(Job.created_at < moment, Job.status.in_(("succeeded", "failed", "canceled")))
    return list(session.scalars(query))


def delete_jobs(session: Session, job_ids: list[str]) -> None:
    """Delete jobs with their uploads, images and faces (the database cascades)."""
    for start in range(0, len(job_ids), 500):
        session.execute(delete(Job).where(Job.id.in_(job_ids[start : start + 500])))


def finish_if_complete(session: Session, job_id: str) -> str | None:
    """End a running job once no image is pending; return its new status, if it changed."""
    if session.scalar(select(func.count()).where(Image.job_id == job_id, Image.status == "pending")):
        return None
    total = counts(session, job_id)
    status = "failed" if total.images_total and total.images_failed == total.images_total else "succeeded"
    error = "every image failed" if status == "failed" else None
    changed = session.execute(
        update(Job).where(Job.id == job_id, Job.status == "running").values(status=status, finished_at=utcnow(), error=error)
    ).rowcount
    return status if changed else None
