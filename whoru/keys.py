"""API keys: created once and shown once, stored only as a SHA-256, revocable."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from whoru.db.schema import ApiKey, utcnow


def hash_key(key: str) -> str:
    """Return the stored form of a key (keys are 256-bit random, so a plain SHA-256 suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str) -> str:
    """Store a new key under a unique name and return the key itself (it is never stored)."""
    key = "whoru_" + secrets.token_urlsafe(32)
    revoked = session.scalar(select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_not(None)))
    if revoked is not None:
        # Names identify live keys; a revoked key keeps its record under a name that says so.
        revoked.name = f"{name} (revoked #{revoked.id})"
    session.add(ApiKey(name=name, key_hash=hash_key(key), webhook_secret=new_webhook_secret()))
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise ValueError(f"a key named {name!r} already exists") from error
    return key


def new_webhook_secret() -> str:
    """Return a Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_secret(session: Session, name: str) -> str | None:
    """Return the webhook secret of a live key, by name."""
    return session.scalar(select(ApiKey.webhook_secret).where(ApiKey.name == name, ApiKey.revoked_at.is_(None)))


def owner_secret(session: Session, key_id: int | None) -> str | None:
    """Return the webhook secret of the key that owns a job, if it has one."""
    return session.scalar(select(ApiKey.webhook_secret).where(ApiKey.id == key_id)) if key_id else None


def rotate_webhook_secret(session: Session, name: str) -> str:
    """Give a live key a new webhook secret and return it; callbacks are signed with it from now on."""
    record = session.scalar(select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None)))
    if record is None:
        raise ValueError(f"no live key named {name!r}")
    record.webhook_secret = new_webhook_secret()
    return record.webhook_secret


def find_key(session: Session, key: str) -> ApiKey | None:
    """Return the live key record matching a presented key, or None."""
    record = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    return record if record is not None and record.revoked_at is None else None


def list_keys(session: Session) -> list[ApiKey]:
    """Return every key record, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, name: str) -> None:
    """Revoke a key by name; its jobs stay, unreachable to anyone."""
    record = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if record is None:
        raise ValueError(f"no key named {name!r}")
    record.revoked_at = record.revoked_at or utcnow()


def ensure_local_key(session: Session, path: Path) -> str:
    """Return the local key saved at path, creating it (owner-only permissions) on first use."""
    if path.exists() and find_key(session, path.read_text().strip()):
        return path.read_text().strip()
    taken, suffix = {record.name for record in list_keys(session)}, 0
    while (name := "local" + (f"-{suffix}" if suffix else "")) in taken:
        suffix += 1
    key = create_key(session, name)
    session.commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    return key
