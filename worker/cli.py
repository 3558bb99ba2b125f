"""`whoru worker`: a Celery worker with the face pipeline."""

from __future__ import annotations

import click

from whoru.settings import Settings
from worker.celery_app import make_celery


@click.command("worker")
@click.option("--concurrency", type=int, envvar="WHORU_WORKER_CONCURRENCY", help="Worker processes (default: settings).")
@click.option("--loglevel", default="INFO", show_default=True, envvar="WHORU_LOG_LEVEL", help="Celery log level.")
@click.option("--name", default="whoru@%h", show_default=True, envvar="WHORU_WORKER_NAME", help="Celery node name.")
def worker_command(concurrency: int | None, loglevel: str, name: str) -> None:
    """Run a worker; start as many as you like, on as many machines as you like."""
    settings = Settings.from_env()
    app = make_celery(settings)
    argv = ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency or settings.worker_concurrency}",
            "--pool=prefork", "-n", name, "--without-gossip", "--without-mingle"]
    app.worker_main(argv)
