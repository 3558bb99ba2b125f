"""Open jobs filled part by part, against a real worker, Redis and database (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import signal
import warnings
import zipfile

import pytest

from tests.conftest import stack_env
from tests.utils.jobs import PHOTOS, all_results, content_digest, keyed_client, make_zip, open_job, put_part, wait_job
from tests.utils.services import Worker, start_embedded_redis, stop_embedded_redis
from tests.utils.waiting import wait_until
from whoru.api import create_app

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()
GROUP = (PHOTOS / "dlib_2008_001322.jpg").read_bytes()


def wait_counts(client, job_id: str, done: int, timeout: float = 120) -> dict:
    """Poll a job until at least `done` images are finished."""

    def finished() -> dict | None:
        job = client.get(f"/v1/jobs/{job_id}").get_json()
        return job if job["counts"]["images_done"] + job["counts"]["images_failed"] >= done else None

    return wait_until(finished, timeout, 0.2, lambda: f"job {job_id}: {client.get(f'/v1/jobs/{job_id}').get_json()}")


def test_parts_are_processed_while_the_job_is_still_open(client):
    job = open_job(client)
    assert job["open"] is True
    assert job["status"] == "queued"
    assert job["counts"]["images_total"] == 0
    first = put_part(client, job["id"], 0, make_zip({"a/one.jpg": PHOTO, "a/two.jpg": GROUP}), packed=True)
    assert first.status_code == 201
    part = first.get_json()
    assert (part["n"], part["name"], part["images"]) == (0, "part.zip", 2)
    assert part["bytes"] > 0
    assert first.headers["Location"] == f"/v1/jobs/{job['id']}/parts"
    during = wait_counts(client, job["id"], 2)
    assert during["open"] is True
    assert during["status"] == "running"
    assert during["finished_at"] is None
    assert put_part(client, job["id"], 1, PHOTO, name="three.jpg").status_code == 201
    assert client.get(f"/v1/jobs/{job['id']}").get_json()["counts"]["images_total"] == 3
    closed = client.post(f"/v1/jobs/{job['id']}/close")
    assert closed.status_code == 200
    assert closed.get_json()["open"] is False
    done = wait_job(client, job["id"])
    assert done["status"] == "succeeded"
    assert done["closed_by"] == "client"
    assert done["closed_at"]
    assert [image["name"] for image in all_results(client, job["id"])] == ["a/one.jpg", "a/two.jpg", "three.jpg"]
    parts = client.get(f"/v1/jobs/{job['id']}/parts").get_json()["parts"]
    assert [(p["n"], p["images"]) for p in parts] == [(0, 2), (1, 1)]
    assert parts[1]["content_digest"] == content_digest(PHOTO)


def test_a_part_sent_again_changes_nothing_and_another_body_is_a_conflict(client):
    job_id = open_job(client)["id"]
    body = make_zip({"x.jpg": PHOTO, "y.jpg": PHOTO})
    assert put_part(client, job_id, 0, body).status_code == 201
    again = put_part(client, job_id, 0, body)
    assert again.status_code == 200
    assert again.get_json()["images"] == 2
    other = put_part(client, job_id, 0, make_zip({"z.jpg": PHOTO}))
    assert other.status_code == 409
    assert client.get(f"/v1/jobs/{job_id}").get_json()["counts"]["images_total"] == 2
    client.post(f"/v1/jobs/{job_id}/close")
    assert [i["name"] for i in all_results(client, wait_job(client, job_id)["id"])] == [
        "part.zip/x.jpg",
        "part.zip/y.jpg",
    ]


def test_a_digest_mismatch_keeps_nothing(client, stack):
    job_id = open_job(client)["id"]
    storage = stack.env["WHORU_STORAGE_DIR"]
    before = _stored_files(storage)
    wrong = put_part(client, job_id, 0, PHOTO, digest=content_digest(b"something else"))
    assert wrong.status_code == 400
    assert "nothing was kept" in wrong.get_json()["error"]["message"]
    missing = client.put(f"/v1/jobs/{job_id}/parts/0", data=PHOTO)
    assert missing.status_code == 400
    assert "Content-Digest" in missing.get_json()["error"]["message"]
    assert client.get(f"/v1/jobs/{job_id}/parts").get_json()["parts"] == []
    assert _stored_files(storage) == before
    assert put_part(client, job_id, 0, PHOTO).status_code == 201


def test_parts_come_in_order_and_not_after_close(client):
    job_id = open_job(client)["id"]
    skipped = put_part(client, job_id, 1, PHOTO)
    assert skipped.status_code == 409
    assert "send part 0" in skipped.get_json()["error"]["message"]
    assert put_part(client, job_id, 0, PHOTO).status_code == 201
    assert client.post(f"/v1/jobs/{job_id}/close").status_code == 200
    late = put_part(client, job_id, 1, PHOTO)
    assert late.status_code == 409
    assert wait_job(client, job_id)["counts"]["images_total"] == 1


def test_cancel_and_delete_an_open_job(client, stack):
    job_id = open_job(client)["id"]
    assert put_part(client, job_id, 0, make_zip({f"{i}.jpg": GROUP for i in range(6)})).status_code == 201
    canceled = client.post(f"/v1/jobs/{job_id}/cancel").get_json()
    assert canceled["status"] == "canceled"
    assert canceled["open"] is False
    assert put_part(client, job_id, 1, PHOTO).status_code == 409
    other = open_job(client)["id"]
    assert put_part(client, other, 0, PHOTO).status_code == 201
    assert client.delete(f"/v1/jobs/{other}").status_code == 204
    assert client.get(f"/v1/jobs/{other}").status_code == 404
    assert put_part(client, other, 1, PHOTO).status_code == 404
    # A task that was analysing the photo may write its preview after the API removed the job's
    # files; it removes what it wrote once it finds the job gone.
    wait_until(
        lambda: not any(other in path for path in _stored_files(stack.env["WHORU_STORAGE_DIR"])),
        timeout=60,
        describe=lambda: f"still stored: {_stored_files(stack.env['WHORU_STORAGE_DIR'])}",
    )


def test_closing_an_empty_job_fails_it(client):
    job_id = open_job(client)["id"]
    closed = client.post(f"/v1/jobs/{job_id}/close").get_json()
    assert closed["status"] == "failed"
    assert "without any image" in closed["error"]


def test_open_needs_a_true_open_option(client):
    assert client.post("/v1/jobs", json={"open": False}).status_code == 400
    assert client.post("/v1/jobs", json={"open": True, "colour": "red"}).status_code == 400


def test_per_key_quotas_hold_across_parts(stack, tmp_path):
    env = stack_env(
        stack.database_url,
        stack.env["WHORU_REDIS_URL"],
        tmp_path / "storage",
        WHORU_KEY_MAX_IMAGES_PER_JOB="3",
        WHORU_KEY_MAX_UPLOAD_BYTES=str(4 * len(PHOTO) + 2000),
    )
    client = keyed_client(create_app({"TESTING": True, "environ": env}), stack.database_url)
    job_id = open_job(client)["id"]
    assert put_part(client, job_id, 0, make_zip({"a.jpg": PHOTO, "b.jpg": PHOTO})).status_code == 201
    too_many = put_part(client, job_id, 1, make_zip({"c.jpg": PHOTO, "d.jpg": PHOTO}))
    assert too_many.status_code == 429
    assert "limit per job is 3" in too_many.get_json()["error"]["message"]
    assert put_part(client, job_id, 1, PHOTO).status_code == 201
    other = open_job(client)["id"]
    too_big = put_part(client, other, 0, make_zip({"e.jpg": PHOTO, "f.jpg": PHOTO}))
    assert too_big.status_code == 429
    assert "bytes of uploads waiting" in too_big.get_json()["error"]["message"]
    assert [p["n"] for p in client.get(f"/v1/jobs/{job_id}/parts").get_json()["parts"]] == [0, 1]
    for job in (job_id, other):
        client.post(f"/v1/jobs/{job}/close")
        wait_job(client, job)


@pytest.fixture()
def short_timeout(database_url, tmp_path):
    """An API and a worker of their own whose open jobs time out after two seconds without a part."""
    server, redis_url = start_embedded_redis(tmp_path)
    env = stack_env(database_url, redis_url, tmp_path / "storage", WHORU_OPEN_JOB_TIMEOUT="2")
    worker = Worker(env, tmp_path / "worker.log").start()
    yield keyed_client(create_app({"TESTING": True, "environ": env}), database_url), worker
    worker.stop(signal.SIGKILL)
    stop_embedded_redis(server)


def test_the_server_closes_an_idle_open_job(short_timeout):
    client, worker = short_timeout
    job_id = open_job(client)["id"]
    assert put_part(client, job_id, 0, PHOTO).status_code == 201
    empty = open_job(client)["id"]
    job = wait_job(client, job_id, timeout=60)
    assert job["status"] == "succeeded"
    assert job["open"] is False
    assert job["closed_by"] == "timeout"
    assert job["counts"]["images_done"] == 1
    idle = wait_job(client, empty, timeout=60)
    assert idle["status"] == "failed"
    assert idle["closed_by"] == "timeout"
    assert f"job={job_id} closed by the server" in worker.output()


def _stored_files(storage: str) -> list[str]:
    """Return every file under the storage folder."""
    from pathlib import Path

    return sorted(str(path) for path in Path(storage).rglob("*") if path.is_file())


def test_two_zip_members_of_one_name_are_two_images(client):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out.writestr("img.jpg", PHOTO)
        out.writestr("img.jpg", GROUP)
    job_id = open_job(client)["id"]
    assert put_part(client, job_id, 0, archive.getvalue()).get_json()["images"] == 2
    client.post(f"/v1/jobs/{job_id}/close")
    wait_job(client, job_id)
    images = all_results(client, job_id)
    assert [image["name"] for image in images] == ["part.zip/img.jpg", "part.zip/img.jpg"]
    assert [len(image["faces"]) for image in images] == [1, 3]
