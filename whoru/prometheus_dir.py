"""Start prometheus-client's multiprocess mode for a process and the processes it forks.

Runs before prometheus_client is imported (it picks file-backed values at import), so this
module must not import it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_multiprocess_dir(remove_at_exit: bool = True) -> str:
    """Point this process and its children at a fresh, empty metrics folder; return it."""
    # Always a fresh folder: counters left by an earlier run would be added to this one's.
    folder = tempfile.mkdtemp(prefix="whoru-metrics-")
    os.environ[ENV] = folder
    if remove_at_exit:
        atexit.register(_remove, folder, os.getpid())
    return folder


def _remove(folder: str, owner: int) -> None:
    """Delete the folder, from the process that made it only (forked children inherit atexit)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)
