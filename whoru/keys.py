"""API keys: created once and shown once, stored only as a SHA-256, revocable."""

from __future__ import annotations

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
    session.add(ApiKey(name=name, key_hash=hash_key(key)))
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise ValueError(f"a key named {name!r} already exists") from error
    return key


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
