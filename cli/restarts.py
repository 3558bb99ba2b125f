"""Keep a child process running: start it again when it exits, waiting longer after each quick death."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

from whoru.logs import get_logger

log = get_logger("serve")


class Restarts:
    """A child started again after it exits: after 1 s, then 2, 4 ... up to `cap` while it dies within `healthy` s."""

    def __init__(
        self,
        name: str,
        child: subprocess.Popen,
        start: Callable[[], subprocess.Popen],
        first: float = 1.0,
        cap: float = 30.0,
        healthy: float = 60.0,
    ):
        self.name, self.child, self.start = name, child, start
        self.first, self.cap, self.healthy = first, cap, healthy
        self.wait, self.started, self.due = first, time.monotonic(), None

    def check(self) -> subprocess.Popen:
        """Schedule a restart if the child has exited, start it once its wait is over; return the current child."""
        now = time.monotonic()
        if self.due is None and self.child.poll() is not None:
            if now - self.started >= self.healthy:
                self.wait = self.first
            self.due = now + self.wait
            log.warning(
                "the %s process exited with status %s; starting it again in %.0f s",
                self.name,
                self.child.returncode,
                self.wait,
            )
            self.wait = min(self.wait * 2, self.cap)
        if self.due is not None and now >= self.due:
            self.child, self.started, self.due = self.start(), now, None
            log.info("the %s process started again pid=%d", self.name, self.child.pid)
        return self.child
