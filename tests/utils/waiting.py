"""Waiting in tests: for an event, by polling it, always with a deadline."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], timeout: float, interval: float = 0.1, describe: Callable[[], str] = lambda: ""
) -> T:
    """Return the predicate's first true value, asked every interval; fail with describe() once timeout seconds pass.

    A predicate that finds the wait hopeless (the process it waits on has died) raises at once.
    """
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout} s: {describe()}")
        time.sleep(interval)
    return value


def alive(process: subprocess.Popen, output: Callable[[], str] = lambda: "") -> bool:
    """Return True while a process runs; raise once it has exited, so that a wait on it ends at once."""
    if process.poll() is not None:
        raise RuntimeError(f"process exited with {process.returncode}:\n{output()[-3000:]}")
    return True


def answers(url: str, process: subprocess.Popen | None = None) -> bool:
    """Return whether a URL answers, while its server's process (if given) still runs."""
    if process is not None:
        alive(process)
    try:
        urllib.request.urlopen(url, timeout=2).close()
        return True
    except OSError:
        return False
