"""Worker pool processes run every thread, the runtimes' pools included, at WHORU_WORKER_NICE."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from whoru.settings import Settings


def thread_nice_values(pid: int) -> list[int]:
    """Return the nice value of each thread of a process (Linux keeps one per thread)."""
    values = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        values.append(int(fields[16]))
    return values


def test_every_pool_thread_runs_at_the_worker_nice_value(stack):
    increment = Settings.from_env(stack.env).worker_nice
    expected = min(19, os.nice(0) + increment)  # relative to the nice value the tests run at
    pool = psutil.Process(stack.worker.process.pid).children(recursive=True)
    assert pool and increment > 0
    for process in pool:
        values = thread_nice_values(process.pid)
        assert values and set(values) == {expected}, (process.pid, values)
