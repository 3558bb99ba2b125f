"""One log line per event, in one format for every process, with the job id when there is one.

`WHORU_LOG_FORMAT=text` (the default) writes `time level logger message`; `json` writes one JSON
object a line (`time`, `level`, `logger`, `message`, and `job`) for log collectors. A line about
a job passes its id as a field, `log.info("closed", extra=job_field(job_id))`, which the text
format writes as `job=<id>` before the message. Celery's per-task lines go below INFO.
"""

from __future__ import annotations

import json
import logging

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(job_prefix)s%(message)s"
# Celery says "Task ... received" and "... succeeded in 0.05s" for every task, Alembic what it checks at every start.
QUIET_BELOW_DEBUG = (
    "celery.app.trace",
    "celery.worker.strategy",
    "celery.worker.consumer.mingle",
    "alembic.runtime.migration",
)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if job := getattr(record, "job", None):
            line["job"] = job
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


class TextFormatter(logging.Formatter):
    """Format a record as one text line, `job=<id>` before the message when the record has a job."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a text line."""
        job = getattr(record, "job", None)
        record.job_prefix = f"job={job} " if job else ""
        return super().format(record)


def job_field(job_id: str) -> dict[str, str]:
    """Return the `extra` that names the job a log line is about."""
    return {"job": job_id}


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send every logger's lines to stderr in one format, at the given level."""
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_BELOW_DEBUG:
        logging.getLogger(name).setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)


def get_logger(name: str) -> logging.Logger:
    """Return a logger under the whoru namespace."""
    return logging.getLogger(f"whoru.{name}")
