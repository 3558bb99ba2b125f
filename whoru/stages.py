"""Wall-clock time per named stage of a task, for its log line and the workers' metrics."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class Stages:
    """Milliseconds spent in each stage, summed over a task."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the enclosed block as part of stage `name`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] += (time.perf_counter() - started) * 1000

    def json(self) -> str:
        """Return the stage times as compact JSON for a log line."""
        return json.dumps({name: round(ms, 1) for name, ms in self.ms.items()}, separators=(",", ":"))
