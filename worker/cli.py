"""`whoru worker`: a Celery worker with the face pipeline."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import click

from whoru.celery_app import make_celery
from whoru.prometheus_dir import use_multiprocess_dir
from whoru.settings import Settings

# The modules whose tasks and signal receivers a worker runs.
TASK_MODULES = [
    "whoru.worker.tasks",
    "whoru.worker.recovery",
    "whoru.worker.webhooks",
    "whoru.worker.task_metrics",
    "whoru.worker.handback",
]


@click.command("worker")
@click.option(
    "--concurrency", type=int, envvar="WHORU_WORKER_CONCURRENCY", help="Worker processes (default: settings)."
)
@click.option("--loglevel", default="INFO", show_default=True, envvar="WHORU_LOG_LEVEL", help="Celery log level.")
@click.option("--name", default="whoru@%h", show_default=True, envvar="WHORU_WORKER_NAME", help="Celery node name.")
@click.option(
    "--beat/--no-beat",
    default=True,
    show_default=True,
    envvar="WHORU_WORKER_BEAT",
    help="Embed the scheduler that closes open jobs idle for WHORU_OPEN_JOB_TIMEOUT.",
)
def worker_command(concurrency: int | None, loglevel: str, name: str, beat: bool) -> None:
    """Run a worker; start as many as you like, on as many machines as you like."""
    settings = Settings.from_env()
    if settings.metrics_port:
        use_multiprocess_dir()
    app = make_celery(settings, TASK_MODULES)
    # --quiet (before the subcommand: it is Celery's own option) leaves out the start-up banner.
    argv = [
        "--quiet",
        "worker",
        f"--loglevel={loglevel}",
        f"--concurrency={concurrency or settings.worker_concurrency}",
        "--pool=prefork",
        "-n",
        name,
        "--without-gossip",
        "--without-mingle",
    ]
    # Containers run workers as an unprivileged user; where root runs one anyway (a development
    # machine), Celery's warning about it would open every log.
    warnings.filterwarnings("ignore", message=".*superuser privileges")
    if beat:
        # The schedule file only remembers when each entry last ran: a private temporary one will do.
        argv += ["--beat", f"--schedule={Path(tempfile.mkdtemp(prefix='whoru-beat-')) / 'schedule'}"]
    app.worker_main(argv)
