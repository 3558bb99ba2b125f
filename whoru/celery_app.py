"""The Celery app the API sends with and workers run, configured from settings; it must stay light."""

from __future__ import annotations

from collections.abc import Sequence

from celery import Celery
from celery.signals import setup_logging

from whoru.logs import configure_logging
from whoru.settings import Settings, get_settings

SOFT_SHUTDOWN_S = 4.0


@setup_logging.connect
def _one_log_format(**_kwargs) -> None:
    """Log the worker's lines in whoru's format instead of Celery's own (a receiver here replaces Celery's setup)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


def make_celery(settings: Settings, include: Sequence[str] = ()) -> Celery:
    """Return a Celery app whose tasks survive worker crashes and are never lost on Redis.

    A worker names the modules that hold its tasks in `include`; the API sends tasks by name and needs none.
    """
    app = Celery("whoru", broker=settings.broker_url, include=list(include))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A cold stop (SIGQUIT, as `whoru serve` sends) lets tasks run this long, then hands the rest
        # back unacknowledged; it stays within serve's grace (cli/serve.py, STOP_GRACE_S).
        worker_soft_shutdown_timeout=SOFT_SHUTDOWN_S,
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=max(1, settings.task_time_limit - 30),
        # Redis redelivers unacknowledged tasks after the visibility timeout; it must exceed the
        # longest a task may run, or a slow task would run twice at once.
        broker_transport_options={"visibility_timeout": settings.task_time_limit * 2 + 60},
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_concurrency=settings.worker_concurrency,
        worker_max_memory_per_child=1_500_000,
        # A new pool process loads the detector and the model before it reports up; Celery's
        # 4 s default would kill every replacement of a crashed process.
        worker_proc_alive_timeout=180,
        # Run by the beat each `whoru worker` embeds; with many workers the sweep runs several
        # times over, which is harmless: closing a job is one conditional UPDATE.
        beat_schedule={
            "close-idle-open-jobs": {"task": "whoru.jobs.close_idle", "schedule": settings.close_idle_every}
        },
    )
    app.conf.whoru_settings = settings
    return app


def celery_from_env() -> Celery:
    """Return the app for `celery -A whoru.celery_app:app` style entry points."""
    return make_celery(get_settings())
