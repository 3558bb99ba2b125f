"""One database session per request, from an engine built when the app is created."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from whoru.db.engine import make_engine, make_sessionmaker


def init_app(app: Flask) -> None:
    """Build the engine from settings and close each request's session at teardown."""
    engine = make_engine(app.config["SETTINGS"].database_url)
    app.extensions["whoru_engine"] = engine
    app.extensions["whoru_sessions"] = make_sessionmaker(engine)
    app.teardown_appcontext(_close_session)


def new_session() -> Session:
    """Return a session the caller must close (for streamed responses)."""
    return current_app.extensions["whoru_sessions"]()


def get_session() -> Session:
    """Return this request's session."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def _close_session(_error: BaseException | None) -> None:
    """Close this request's session, rolling back anything uncommitted."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
