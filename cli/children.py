"""Child processes that do not outlive the process that started them."""

from __future__ import annotations

import ctypes
import signal
import sys


def stop_with_parent() -> None:
    """Ask Linux to send this child SIGTERM when its parent dies, even by SIGKILL (elsewhere, nothing).

    Given to `subprocess.Popen` as `preexec_fn`, so it runs in the child before it executes.
    """
    if sys.platform == "linux":
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
