"""What one API key has in flight, the figures its quotas are checked against."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from whoru.db.lifecycle import in_flight
from whoru.db.schema import Job, Upload


def jobs_in_flight(session: Session, owner: int) -> int:
    """Return how many of a key's jobs are queued or running."""
    return session.scalar(select(func.count()).where(in_flight(owner)))


def upload_bytes_in_flight(session: Session, owner: int) -> int:
    """Return the bytes of the stored uploads of a key's queued and running jobs."""
    return session.scalar(
        select(func.coalesce(func.sum(Upload.bytes), 0)).join(Job, Upload.job_id == Job.id).where(in_flight(owner))
    )
