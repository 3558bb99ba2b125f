"""Child processes that do not outlive the process that started them."""

from __future__ import annotations

import ctypes
import signal
import sys


def stop_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send this process sig when its parent dies, even by SIGKILL (elsewhere, nothing).

    Given to `subprocess.Popen` as `preexec_fn`, it runs in a child before that executes; a forked
    worker process calls it itself.
    """
    if sys.platform == "linux":
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
