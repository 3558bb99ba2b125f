"""Liveness and readiness probes."""

from __future__ import annotations

from flask_smorest import Blueprint

from whoru.api import queue
from whoru.api.database import get_session
from whoru.db.engine import ping

bp = Blueprint("health", __name__, description="Probes")


@bp.get("/healthz")
@bp.doc(security=[], responses={"200": {"description": "Alive"}})
def healthz():
    """Answer while the process serves requests."""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.doc(
    security=[], responses={"200": {"description": "Ready"}, "503": {"description": "Database or broker unreachable"}}
)
def readyz():
    """Answer 200 only when the database and the broker are reachable."""
    checks = {"database": _check(lambda: ping(get_session())), "broker": _check(queue.ping_broker)}
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503


def _check(probe) -> str:
    """Run a probe and return 'ok' or the error text."""
    try:
        probe()
        return "ok"
    except Exception as error:  # noqa: BLE001 - readiness reports any failure
        return f"error: {error.__class__.__name__}: {error}"[:300]
