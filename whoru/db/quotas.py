"""What one API key has in flight, the figures its quotas are checked against."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from whoru.db.lifecycle import in_flight
from whoru.db.schema import ApiKey, Job, Upload


def jobs_in_flight(session: Session, owner: int) -> int:
    """Return how many of a key's jobs are queued or running."""
    return session.scalar(select(func.count()).where(in_flight(owner)))


def upload_bytes_in_flight(session: Session, owner: int) -> int:
    """Return the bytes of the stored uploads of a key's queued and running jobs."""
    return session.scalar(
        select(func.coalesce(func.sum(Upload.bytes), 0)).join(Job, Upload.job_id == Job.id).where(in_flight(owner))
    )


def hold_key(session: Session, owner: int) -> None:
    """Lock a key's row until the transaction ends: a quota check and the insert it allows then happen as one."""
    # An UPDATE, not SELECT ... FOR UPDATE: SQLite has no row locks, and its first write takes the
    # database's write lock, which orders concurrent requests the same way.
    session.execute(update(ApiKey).where(ApiKey.id == owner).values(revoked_at=ApiKey.revoked_at))
