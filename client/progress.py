"""Progress for a terminal (tqdm's bars) or for a log or a pipe (a plain line now and then, no escape codes)."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

# A log gets a line at most this often, and whenever the total changes; a terminal's bar redraws in place.
LINE_EVERY_S = 10.0


class LineProgress:
    """The part of tqdm's interface the client uses, written as whole lines: `upload 3.2/10.0 MB`."""

    def __init__(self, total: float, desc: str, unit: str, disable: bool = False):
        self.total, self.n, self.desc, self.unit, self.disable = total, 0, desc, unit, disable
        self.postfix: dict = {}
        self.shown_at = 0.0

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def update(self, n: float = 1) -> None:
        """Count n more units, writing a line if the last one is old enough."""
        self.n += n
        if time.monotonic() - self.shown_at >= LINE_EVERY_S:
            self.refresh()

    def set_postfix(self, **values) -> None:
        """Keep fields to write after the counts."""
        self.postfix = values

    def refresh(self) -> None:
        """Write the current line now."""
        self.shown_at = time.monotonic()
        if self.disable:
            return
        extra = "".join(f", {name}={value}" for name, value in self.postfix.items())
        print(
            f"{self.desc} {_amount(self.n, self.unit)}/{_amount(self.total, self.unit)}{extra}",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        """Write the last line."""
        self.refresh()


def _amount(value: float, unit: str) -> str:
    """Return a count in words: bytes as MB, anything else as a whole number with its unit."""
    return f"{value / 1e6:.1f} MB" if unit == "B" else f"{int(value)} {unit}"


def progress(total: float, desc: str, unit: str, position: int, disable: bool) -> tqdm | LineProgress:
    """Return a bar when both stdout and stderr are a terminal; plain lines when either goes to a file or a pipe."""
    if sys.stdout.isatty() and sys.stderr.isatty():
        return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", position=position, disable=disable)
    return LineProgress(total, desc, unit, disable)
