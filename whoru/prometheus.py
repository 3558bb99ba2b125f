"""Prometheus plumbing shared by the API and the workers.

Both fork (gunicorn workers, Celery's prefork pool) and a scrape must add up every process, so
both use prometheus-client's multiprocess mode: each process writes its values to files under
PROMETHEUS_MULTIPROC_DIR, and the process that answers the scrape sums them. One port per
process would give Prometheus targets that come and go: Celery replaces pool processes (after
WHORU_TASK_TIME_LIMIT, worker_max_memory_per_child, a crash) and gunicorn its workers. Without
the variable (tests, one process) values stay in memory.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, multiprocess

from whoru.prometheus_dir import ENV

# whoru's metrics only: the default registry would add process_* and python_* series.
REGISTRY = CollectorRegistry()


def scrape_registry() -> CollectorRegistry:
    """Return what a scrape reads: every process's files in multiprocess mode, else this process's metrics."""
    if not os.environ.get(ENV):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def process_exited(pid: int) -> None:
    """Drop the live gauges of a process that has exited (its counters keep counting in the sum)."""
    if os.environ.get(ENV):
        multiprocess.mark_process_dead(pid)
