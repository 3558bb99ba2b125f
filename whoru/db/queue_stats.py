"""The queue as the database sees it, for the API's metrics; callers own the session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from whoru.db.schema import Image, Job, Upload
from whoru.db.statuses import IN_FLIGHT, ImageStatus


def jobs_by_status(session: Session) -> dict[str, int]:
    """Return how many jobs are in each status."""
    return dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())


def images_pending(session: Session) -> int:
    """Return how many images of queued or running jobs wait to be processed."""
    return session.scalar(
        select(func.count())
        .select_from(Image)
        .join(Job)
        .where(Job.status.in_(IN_FLIGHT), Image.status == ImageStatus.PENDING)
    )


def oldest_pending_arrival(session: Session) -> datetime | None:
    """Return when the part holding the oldest pending image of a queued or running job arrived."""
    pending = exists().where(Image.upload_id == Upload.id, Image.status == ImageStatus.PENDING)
    return session.scalar(select(func.min(Upload.created_at)).join(Job).where(Job.status.in_(IN_FLIGHT), pending))
