"""A job's webhook delivery, recorded attempt by attempt; callers own the session and commit."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from whoru.db.schema import Job
from whoru.db.statuses import ENDED, WebhookStatus


def due(session: Session, job_id: str) -> Job | None:
    """Return the job if it has ended and its webhook is still to be delivered."""
    return session.scalar(
        select(Job).where(Job.id == job_id, Job.status.in_(ENDED), Job.webhook_status == WebhookStatus.PENDING)
    )


def record_attempt(session: Session, job_id: str, status: int | None, error: str | None) -> None:
    """Count one delivery attempt with the receiver's HTTP status (or why there was none); 2xx delivers."""
    values = {"webhook_attempts": Job.webhook_attempts + 1, "webhook_last_status": status, "webhook_last_error": error}
    if error is None:
        values["webhook_status"] = WebhookStatus.DELIVERED
    session.execute(update(Job).where(Job.id == job_id, Job.webhook_status == WebhookStatus.PENDING).values(**values))


def give_up(session: Session, job_id: str, reason: str) -> None:
    """Mark a pending delivery failed for good."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.webhook_status == WebhookStatus.PENDING)
        .values(webhook_status=WebhookStatus.FAILED, webhook_last_error=reason)
    )


def undelivered(session: Session) -> list[str]:
    """Return the ids of ended jobs whose webhook is still pending (recovery after a restart)."""
    return list(
        session.scalars(select(Job.id).where(Job.status.in_(ENDED), Job.webhook_status == WebhookStatus.PENDING))
    )
