"""Queries about jobs, their parts and images (status changes go through lifecycle); callers own the session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from whoru.db.schema import Face, Image, Job, Upload
from whoru.db.statuses import IN_FLIGHT, ImageStatus

# Names looked up in one query: SQLite takes at most 32,766 bound values.
NAME_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class Counts:
    """How far a job has got."""

    images_total: int
    images_done: int
    images_failed: int
    faces: int


def jobs_starting_with(session: Session, owner: int, prefix: str, limit: int) -> list[str]:
    """Return the ids of up to limit of one key's jobs whose id starts with a prefix (of id characters only)."""
    query = (
        select(Job.id)
        .where(Job.api_key_id == owner, Job.id.startswith(prefix, autoescape=True))
        .order_by(Job.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def counts(session: Session, job_id: str) -> Counts:
    """Return the image and face counts of a job."""
    rows = session.execute(
        select(Image.status, func.count(), func.coalesce(func.sum(Image.face_count), 0))
        .where(Image.job_id == job_id)
        .group_by(Image.status)
    ).all()
    by_status = {status: (n, faces) for status, n, faces in rows}
    done = sum(by_status.get(s, (0, 0))[0] for s in (ImageStatus.DONE, ImageStatus.NO_FACE))
    failed = by_status.get(ImageStatus.FAILED, (0, 0))[0]
    return Counts(sum(n for n, _ in by_status.values()), done, failed, int(sum(f for _, f in by_status.values())))


def list_jobs(session: Session, owner: int, limit: int, before: tuple | None, try_it: bool | None = None) -> list[Job]:
    """Return one key's jobs newest first, after a (created_at, id) cursor, only try-it ones or none if asked."""
    query = select(Job).where(Job.api_key_id == owner).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if try_it is not None:
        query = query.where(Job.try_it.is_(try_it))
    if before is not None:
        created, job_id = before
        query = query.where((Job.created_at < created) | ((Job.created_at == created) & (Job.id < job_id)))
    return list(session.scalars(query))


def same_first_part(session: Session, job: Job) -> list[Job]:
    """Return the owner's other queued or running jobs whose part 0 has the same SHA-256 as this job's."""
    first = select(Upload.sha256).where(Upload.job_id == job.id, Upload.position == 0).scalar_subquery()
    query = (
        select(Job)
        .join(Upload, (Upload.job_id == Job.id) & (Upload.position == 0))
        .where(Job.api_key_id == job.api_key_id, Job.id != job.id, Job.status.in_(IN_FLIGHT), Upload.sha256 == first)
        .order_by(Job.created_at.desc())
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class ImageFilter:
    """Which images a page shows: a status, and faces that match every face field given."""

    status: str | None = None
    gender: str | None = None
    age_bin: str | None = None
    ethnicity: str | None = None
    person: str | None = None

    def conditions(self) -> list:
        """Return the SQL conditions on Image that this filter stands for."""
        conditions = [] if self.status is None else [Image.status == self.status]
        on_face = [
            getattr(Face, name) == value
            for name, value in (
                ("gender", self.gender),
                ("age_bin", self.age_bin),
                ("ethnicity", self.ethnicity),
                ("person", self.person),
            )
            if value is not None
        ]
        if on_face:
            # One face must match them all: "a woman aged 21-40", not a woman and someone 21-40.
            conditions.append(select(Face.id).where(Face.image_id == Image.id, *on_face).exists())
        return conditions


def images_page(
    session: Session, job_id: str, after: int, limit: int, only: ImageFilter = ImageFilter()
) -> list[Image]:
    """Return up to limit images with their faces, in submission order after a position, that pass a filter."""
    query = (
        select(Image)
        .where(Image.job_id == job_id, Image.position > after, *only.conditions())
        .order_by(Image.position)
        .limit(limit)
        .options(selectinload(Image.faces))
    )
    return list(session.scalars(query))


def pending_positions(session: Session, job_id: str) -> list[int]:
    """Return the positions of images not yet finished, in order."""
    query = (
        select(Image.position)
        .where(Image.job_id == job_id, Image.status == ImageStatus.PENDING)
        .order_by(Image.position)
    )
    return list(session.scalars(query))


def owned_job(session: Session, job_id: str, owner: int) -> Job | None:
    """Return a job if this key made it."""
    return session.scalar(select(Job).where(Job.id == job_id, Job.api_key_id == owner))


def job_by_idempotency_key(session: Session, owner: int, key: str) -> Job | None:
    """Return the job a key made under an Idempotency-Key, if any."""
    return session.scalar(select(Job).where(Job.api_key_id == owner, Job.idempotency_key == key))


def job_exists(session: Session, job_id: str) -> bool:
    """Return whether a job's rows are still there (not deleted)."""
    return session.scalar(select(Job.id).where(Job.id == job_id)) is not None


def model_name(session: Session, job_id: str) -> str | None:
    """Return the name of the model a job chose."""
    return session.scalar(select(Job.model_name).where(Job.id == job_id))


def groups_people(session: Session, job_id: str) -> bool:
    """Return whether a job groups its faces by person."""
    return bool(session.scalar(select(Job.people).where(Job.id == job_id)))


def parts(session: Session, job_id: str) -> list[Upload]:
    """Return a job's parts in order."""
    return list(session.scalars(select(Upload).where(Upload.job_id == job_id).order_by(Upload.position)))


def part(session: Session, job_id: str, n: int) -> Upload | None:
    """Return part n of a job, if the server has it."""
    return session.scalar(select(Upload).where(Upload.job_id == job_id, Upload.position == n))


def pending_images(session: Session, job_id: str, first: int, last: int) -> list[Image]:
    """Return the pending images in a range of positions, with their uploads."""
    query = (
        select(Image)
        .where(Image.job_id == job_id, Image.position.between(first, last), Image.status == ImageStatus.PENDING)
        .order_by(Image.position)
        .options(selectinload(Image.upload))
    )
    return list(session.scalars(query))


def name_taken_by_other_part(session: Session, job_id: str, position: int, names: list[str]) -> tuple | None:
    """Return (name, part) for one of the names that a part of the job other than `position` already gave, if any.

    Part `position` itself, stored by a racing retry, is no clash: the commit answers that one as a replay.
    """
    for start in range(0, len(names), NAME_LOOKUP_CHUNK):
        taken = session.execute(
            select(Image.name, Upload)
            .join(Upload, Image.upload_id == Upload.id)
            .where(Image.job_id == job_id, Image.name.in_(names[start : start + NAME_LOOKUP_CHUNK]))
            .where(Upload.position != position)
            .limit(1)
        ).first()
        if taken is not None:
            return tuple(taken)
    return None
