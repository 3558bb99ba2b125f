"""A log line names its job as a field: `job` in JSON, `job=<id>` before the message in text."""

from __future__ import annotations

import json
import logging

from whoru.logs import TEXT_FORMAT, JsonFormatter, TextFormatter, job_field

JOB = "0b7f7a57-2a4e-4d5e-9d43-1f7e0c3a9b21"


def _record(message: str, *args, **extra) -> logging.LogRecord:
    """Return a record as a logger call with this extra makes it."""
    return logging.getLogger("whoru.test").makeRecord(
        "whoru.test", logging.INFO, __file__, 1, message, args, None, extra=extra or None
    )


def test_json_lines_carry_the_job_as_a_field():
    line = json.loads(JsonFormatter().format(_record("part=%d stored", 3, **job_field(JOB))))
    assert line["job"] == JOB
    assert line["message"] == "part=3 stored"


def test_json_lines_without_a_job_have_no_job_field_even_if_the_message_names_one():
    line = json.loads(JsonFormatter().format(_record(f"job={JOB} in words only")))
    assert "job" not in line


def test_text_lines_put_the_job_before_the_message():
    assert (
        TextFormatter(TEXT_FORMAT).format(_record("closed", **job_field(JOB))).endswith(f"whoru.test job={JOB} closed")
    )
    assert TextFormatter(TEXT_FORMAT).format(_record("worker ready")).endswith("whoru.test worker ready")
