"""One log line per event, with the job id when there is one."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    """Send whoru's log lines to stderr as `time level logger message`."""
    logger = logging.getLogger("whoru")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level.upper())


def get_logger(name: str) -> logging.Logger:
    """Return a logger under the whoru namespace."""
    return logging.getLogger(f"whoru.{name}")
