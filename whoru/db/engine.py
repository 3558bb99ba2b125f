"""Build the engine and session factory from settings (never at import time)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str) -> Engine:
    """Return an engine that survives database restarts and SQLite's single writer."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(database_url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(connection, _record) -> None:
    """Let readers and one writer work at once (WAL) and wait, not fail, on locks."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory; callers own each session and its transaction."""
    return sessionmaker(engine, expire_on_commit=False)


def ping(session: Session) -> None:
    """Raise unless the database answers a trivial query."""
    session.execute(text("SELECT 1"))
