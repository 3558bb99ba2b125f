"""Cancel, delete, retention of uploads and purging of old jobs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, update

from tests.utils.jobs import PHOTOS, all_results, keyed_client, post_files, wait_job
from whoru.db.schema import Job
from whoru.storage.keys import job_prefix, preview_key

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()


def test_uploads_are_deleted_when_the_job_ends(client, stack):
    job_id = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    folder = Path(stack.env["WHORU_STORAGE_DIR"]) / job_prefix(job_id)
    wait_job(client, job_id)
    assert not folder.exists()
    assert all_results(client, job_id)[0]["status"] == "done"


def test_delete_removes_the_job_and_its_rows(client):
    job_id = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    wait_job(client, job_id)
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404
    assert client.get(f"/v1/jobs/{job_id}/results").status_code == 404
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 404


def test_canceled_results_so_far_stay_readable(client):
    files = [(f"p{i}.jpg", PHOTO) for i in range(20)]
    job_id = post_files(client, files).get_json()["id"]
    client.post(f"/v1/jobs/{job_id}/cancel")
    job = wait_job(client, job_id)
    assert job["status"] == "canceled"
    images = all_results(client, job_id, page_size=50)
    assert len(images) == 20
    assert {i["status"] for i in images} <= {"done", "pending"}, [i for i in images if i["status"] == "failed"][:2]


def test_purge_removes_only_old_ended_jobs(client, stack):
    old = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    fresh = post_files(client, [("b.jpg", PHOTO)]).get_json()["id"]
    wait_job(client, old)
    wait_job(client, fresh)
    engine = create_engine(stack.env["WHORU_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(Job.id == old)
            .values(created_at=Job.created_at - __import__("datetime").timedelta(days=40))
        )
    engine.dispose()
    env = {**os.environ, **stack.env}
    result = subprocess.run(
        [sys.executable, "-m", "whoru.cli", "purge", "--older-than", "30"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert client.get(f"/v1/jobs/{old}").status_code == 404
    assert client.get(f"/v1/jobs/{fresh}").status_code == 200
    storage = Path(stack.env["WHORU_STORAGE_DIR"])
    assert not (storage / preview_key(old, 0)).exists() and (storage / preview_key(fresh, 0)).exists()


def test_idempotency_key_replays_the_same_job(app, stack, client):
    headers = {"Idempotency-Key": "upload-42"}
    first = client.post("/v1/jobs", data={"file": [(io.BytesIO(PHOTO), "a.jpg")]}, headers=headers)
    again = client.post("/v1/jobs", data={"file": [(io.BytesIO(PHOTO), "a.jpg")]}, headers=headers)
    assert first.status_code == 202 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    other_body = client.post("/v1/jobs", data={"file": [(io.BytesIO(PHOTO), "b.jpg")]}, headers=headers)
    assert other_body.status_code == 422
    other_key = keyed_client(app, stack.database_url)
    elsewhere = other_key.post("/v1/jobs", data={"file": [(io.BytesIO(PHOTO), "a.jpg")]}, headers=headers)
    assert elsewhere.status_code == 202 and elsewhere.get_json()["id"] != first.get_json()["id"]
    for response in (first, elsewhere):
        wait_job(client if response is first else other_key, response.get_json()["id"])
