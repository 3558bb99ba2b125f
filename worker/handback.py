"""A planned stop hands running tasks back to the queue and says so: one INFO line per task, no traceback.

`whoru serve` stops its worker with SIGQUIT: Celery lets tasks finish for worker_soft_shutdown_timeout,
then stops the rest; their messages, never acknowledged, go back to Redis and run at the next start.
"""

from __future__ import annotations

from celery.signals import task_received, worker_shutting_down

from whoru.logs import get_logger

log = get_logger("worker")
# The main process's requests not yet acknowledged (received, running, or stopped by the shutdown), by id.
_unacknowledged: dict = {}


@task_received.connect
def _remember(request=None, **_kwargs) -> None:
    """Keep a received request; forget those acknowledged since, so this holds only tasks in flight."""
    for task_id in [task_id for task_id, known in _unacknowledged.items() if known.acknowledged]:
        del _unacknowledged[task_id]
    _unacknowledged[request.id] = request


@worker_shutting_down.connect
def _say_what_goes_back(how: str = "", **_kwargs) -> None:
    """Log each task this worker hands back at a cold (planned) stop, once Celery has stopped them."""
    if how != "Cold":
        return
    for request in _unacknowledged.values():
        if not request.acknowledged:
            log.info(
                "job=%s task=%s args=%s handed back at shutdown; it runs again at the next start",
                request.args[0] if request.args else "-",
                request.name,
                list(request.args[1:]),
            )
