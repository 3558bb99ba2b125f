"""gunicorn hooks of `whoru api` with metrics on: clean up after each worker, and the metrics folder at exit."""

from __future__ import annotations

import os
import shutil

from whoru.prometheus import process_exited
from whoru.prometheus_dir import ENV


def child_exit(_server, worker) -> None:
    """Drop the live values of a worker that exited."""
    process_exited(worker.pid)


def on_exit(_server) -> None:
    """Remove the metrics folder `whoru api` made for this run."""
    shutil.rmtree(os.environ[ENV], ignore_errors=True)
