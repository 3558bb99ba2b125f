"""`whoru api`: the HTTP API under gunicorn."""

from __future__ import annotations

import os
import sys

import click

from whoru.prometheus_dir import use_multiprocess_dir
from whoru.settings import get_settings

# gunicorn's default line plus the time the server spent on the request, in microseconds.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)sus'


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="WHORU_HOST", help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, envvar="WHORU_PORT", help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, envvar="WHORU_API_WORKERS", help="gunicorn worker processes.")
def api_command(host: str, port: int, workers: int) -> None:
    """Serve the API (no face work happens here)."""
    settings = get_settings()
    # Every status poll would be an access line; they are off unless WHORU_ACCESS_LOG is true.
    access = ["--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT] if settings.access_log else []
    # No control socket: by default every gunicorn on a machine would share one under ~/.gunicorn.
    # A short graceful timeout: status polls keep connections alive, which gunicorn would otherwise
    # wait 30 s for when stopped.
    # The worker class reads request heads in its event loop, so stalled clients hold no thread.
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--worker-class",
        "whoru.api.gunicorn_worker.HeadFirstWorker",
        "--timeout",
        "3600",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "--no-control-socket",
        *access,
        "whoru.api:create_app()",
    ]
    if settings.metrics_token:
        # gunicorn's workers are forked: /metrics, answered by any one of them, sums all (whoru.prometheus).
        # execv drops atexit handlers, so gunicorn's on_exit hook removes the folder.
        use_multiprocess_dir(remove_at_exit=False)
        argv[-1:-1] = ["--config", "python:api.gunicorn_hooks"]
    os.execv(sys.executable, argv)
