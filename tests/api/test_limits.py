"""Per-key limits refuse with 429 and Retry-After exactly past their bound, counting only what they should."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException

from whoru.api.limits import limit_images, limit_jobs_in_flight, limit_upload_bytes
from whoru.db.lifecycle import add_part, cancel, close, mark_running, open_job
from whoru.db.schema import ApiKey, Upload
from whoru.settings import Settings


@pytest.fixture()
def settings(tmp_path) -> Settings:
    """Return settings with small per-key limits."""
    return Settings.from_env(
        {
            "WHORU_HOME": str(tmp_path),
            "WHORU_KEY_MAX_JOBS_IN_FLIGHT": "2",
            "WHORU_KEY_MAX_IMAGES_PER_JOB": "10",
            "WHORU_KEY_MAX_UPLOAD_BYTES": "1000",
        }
    )


@pytest.fixture(autouse=True)
def request_context():
    """Run each check inside a request, as the API does."""
    with Flask(__name__).test_request_context():
        yield


def refusal(check, *args) -> tuple[int, str, str]:
    """Run a check that must refuse; return its status, Retry-After and error code."""
    with pytest.raises(HTTPException) as refused:
        check(*args)
    response = refused.value.response
    return response.status_code, response.headers["Retry-After"], response.get_json()["error"]["code"]


def keys(session) -> tuple[int, int]:
    """Add two API keys; return their ids."""
    mine, theirs = ApiKey(name="mine", key_hash="a" * 64), ApiKey(name="theirs", key_hash="b" * 64)
    session.add_all([mine, theirs])
    session.flush()
    return mine.id, theirs.id


def job_with_bytes(session, job_id: str, owner: int, size: int) -> None:
    """Add an open job of a key holding one stored part of size bytes."""
    open_job(session, job_id, owner, ("default", "v1"))
    session.flush()
    add_part(session, job_id, Upload(position=0, filename="p.jpg", path="p", kind="image", bytes=size), [])


def test_images_per_job_are_refused_only_past_the_limit(settings):
    limit_images(4, 6, settings)
    assert refusal(limit_images, 4, 7, settings) == (429, "30", "too_many_requests")


def test_jobs_in_flight_count_only_this_keys_queued_and_running_jobs(sessions, settings):
    with sessions() as session:
        mine, theirs = keys(session)
        for job_id, owner in (("a", mine), ("ended", mine), ("canceled", mine), ("t1", theirs), ("t2", theirs)):
            open_job(session, job_id, owner, ("default", "v1"))
        session.flush()
        close(session, "ended")
        cancel(session, "canceled")
        limit_jobs_in_flight(session, mine, settings)
        open_job(session, "b", mine, ("default", "v1"))
        session.flush()
        mark_running(session, "b")
        assert refusal(limit_jobs_in_flight, session, mine, settings)[0] == 429
        assert refusal(limit_jobs_in_flight, session, theirs, settings)[0] == 429
        cancel(session, "t1")
        limit_jobs_in_flight(session, theirs, settings)


def test_upload_bytes_count_this_keys_unfinished_uploads_and_the_incoming_ones(sessions, settings):
    with sessions() as session:
        mine, theirs = keys(session)
        job_with_bytes(session, "open", mine, 600)
        job_with_bytes(session, "theirs", theirs, 900)
        limit_upload_bytes(session, mine, settings, 400)
        assert refusal(limit_upload_bytes, session, mine, settings, 401)[0] == 429
        cancel(session, "open")
        limit_upload_bytes(session, mine, settings, 1000)
        assert refusal(limit_upload_bytes, session, theirs, settings, 101)[0] == 429
