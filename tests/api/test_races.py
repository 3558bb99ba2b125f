"""Requests that race each other over real HTTP: the same part sent at once, quotas under
concurrent requests, a delete during an upload, and a part whose stored object is gone."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.utils.jobs import PHOTOS, all_results, content_digest, keyed_client, make_zip, open_job, wait_job
from tests.utils.services import start_embedded_redis, stop_embedded_redis
from whoru.api import create_app, queue
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.db.lifecycle import add_part
from whoru.db.schema import Upload
from whoru.storage import open_store
from whoru.storage.keys import attempt_key

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()
TIMEOUT = 60


@pytest.fixture()
def serve_app():
    """Yield a function that serves an app over real HTTP on 127.0.0.1 and returns its URL."""
    servers = []

    def serve(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()


def bearer(client) -> dict[str, str]:
    """Return the Authorization header of a keyed test client."""
    return {"Authorization": client.environ_base["HTTP_AUTHORIZATION"]}


def put_at_once(url: str, headers: dict, bodies: list[bytes]) -> list[requests.Response]:
    """PUT part 0 with each body from its own thread, all released at the same moment."""
    start = threading.Barrier(len(bodies))

    def put(body: bytes) -> requests.Response:
        start.wait(TIMEOUT)
        return requests.put(
            url,
            data=body,
            timeout=TIMEOUT,
            headers={
                **headers,
                "Content-Digest": content_digest(body),
                "Content-Disposition": 'attachment; filename="p.zip"',
            },
        )

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(put, bodies))


def stored_part(database_url: str, job_id: str) -> bytes:
    """Return the bytes of the object that part 0 of a job names."""
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        path = session.scalar(select(Upload.path).where(Upload.job_id == job_id, Upload.position == 0))
    engine.dispose()
    return Path(path).read_bytes()


@pytest.mark.parametrize("same_body", [True, False], ids=["same-body", "different-bodies"])
def test_five_concurrent_puts_of_one_part_leave_one_whole_part_and_a_job_that_ends(
    app, client, stack, serve_app, same_body
):
    url = serve_app(app)
    for trial in range(6):
        bodies = [make_zip({f"t{trial}-{0 if same_body else i}.jpg": PHOTO}) for i in range(5)]
        job_id = open_job(client)["id"]
        answers = put_at_once(f"{url}/v1/jobs/{job_id}/parts/0", bearer(client), bodies)
        codes = sorted(answer.status_code for answer in answers)
        assert codes == ([200] * 4 if same_body else []) + [201] + ([] if same_body else [409] * 4), codes
        kept = stored_part(stack.database_url, job_id)
        assert kept in bodies
        listed = client.get(f"/v1/jobs/{job_id}/parts").get_json()["parts"]
        assert [part["sha256"] for part in listed] == [hashlib.sha256(kept).hexdigest()]
        client.post(f"/v1/jobs/{job_id}/close")
        assert wait_job(client, job_id)["status"] == "succeeded"
        assert len(all_results(client, job_id)) == 1


@pytest.fixture()
def limited(stack, serve_app, tmp_path):
    """Yield the URL of an API whose keys may have 3 jobs in flight and 1,000,000 bytes of uploads, and a key for it.

    Its tasks go to a Redis that no worker reads, so that no job ends (and frees its place) during a test.
    """
    redis, redis_url = start_embedded_redis(tmp_path)
    limits = {"WHORU_KEY_MAX_JOBS_IN_FLIGHT": "3", "WHORU_KEY_MAX_UPLOAD_BYTES": "1000000"}
    app = create_app({"TESTING": True, "environ": {**stack.env, "WHORU_REDIS_URL": redis_url, **limits}})
    yield serve_app(app), keyed_client(app, stack.database_url)
    stop_embedded_redis(redis)


def at_once(count: int, send) -> list[requests.Response]:
    """Call send(i) from count threads released at the same moment."""
    start = threading.Barrier(count)

    def go(i: int) -> requests.Response:
        start.wait(TIMEOUT)
        return send(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(go, range(count)))


def remove_jobs(client, answers: list[requests.Response]) -> None:
    """Delete the jobs that the answers created."""
    for answer in answers:
        if answer.status_code in (201, 202):
            client.delete(f"/v1/jobs/{answer.json()['id']}")


def test_ten_concurrent_opens_against_a_limit_of_three(limited):
    url, client = limited
    answers = at_once(
        10, lambda i: requests.post(f"{url}/v1/jobs", json={"open": True}, headers=bearer(client), timeout=TIMEOUT)
    )
    codes = [answer.status_code for answer in answers]
    remove_jobs(client, answers)
    assert codes.count(201) == 3 and codes.count(429) == 7, codes


def test_ten_concurrent_one_request_jobs_against_a_limit_of_three(limited):
    url, client = limited
    answers = at_once(
        10,
        lambda i: requests.post(
            f"{url}/v1/jobs", files={"file": (f"{i}.jpg", PHOTO)}, headers=bearer(client), timeout=TIMEOUT
        ),
    )
    codes = [answer.status_code for answer in answers]
    remove_jobs(client, answers)
    assert codes.count(202) == 3 and codes.count(429) == 7, codes


def test_concurrent_parts_against_the_byte_quota(limited):
    url, client = limited
    jobs = [open_job(client)["id"] for _ in range(3)]
    body = os.urandom(554_000)
    headers = {
        **bearer(client),
        "Content-Digest": content_digest(body),
        "Content-Disposition": 'attachment; filename="a.dat"',
    }
    answers = at_once(
        3, lambda i: requests.put(f"{url}/v1/jobs/{jobs[i]}/parts/0", data=body, headers=headers, timeout=TIMEOUT)
    )
    codes = sorted(answer.status_code for answer in answers)
    for job_id in jobs:
        client.delete(f"/v1/jobs/{job_id}")
    assert codes == [201, 429, 429], codes


def test_a_delete_during_a_put_answers_404_and_leaves_no_folder(app, client, stack, serve_app):
    url = serve_app(app)
    job_id = open_job(client)["id"]
    body, deleted = make_zip({"late.jpg": PHOTO}), threading.Event()

    def slow_body():
        yield body[:100]
        assert deleted.wait(TIMEOUT)
        yield body[100:]

    with ThreadPoolExecutor(1) as pool:
        put = pool.submit(
            requests.put,
            f"{url}/v1/jobs/{job_id}/parts/0",
            data=slow_body(),
            timeout=TIMEOUT,
            headers={**bearer(client), "Content-Digest": content_digest(body)},
        )
        wait_until_reading(Path(stack.env["WHORU_STORAGE_DIR"]) / "incoming")
        assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
        deleted.set()
        answer = put.result(TIMEOUT)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    assert not (Path(stack.env["WHORU_STORAGE_DIR"]) / "jobs" / job_id).exists()


def wait_until_reading(incoming: Path) -> None:
    """Return once a body is being spooled: the PUT has passed its checks and is reading its body."""
    deadline = time.monotonic() + TIMEOUT
    while not any(incoming.glob("part-*")):
        assert time.monotonic() < deadline, "the PUT never started reading its body"
        time.sleep(0.05)


def test_a_part_whose_object_is_gone_fails_its_images_and_the_job_ends(app, client, stack):
    job_id = open_job(client)["id"]
    settings = app.config["SETTINGS"]
    engine = make_engine(stack.database_url)
    with make_sessionmaker(engine)() as session:
        location = open_store(settings).location(attempt_key(job_id, 0))
        upload = Upload(position=0, filename="gone.zip", path=location, kind="zip", bytes=1, sha256="0" * 64)
        images = [
            {"entry": i, "name": f"{i}.jpg", "error_code": None, "error_message": None, "status": "pending"}
            for i in range(2)
        ]
        positions = add_part(session, job_id, upload, images)
        session.commit()
    engine.dispose()
    assert client.post(f"/v1/jobs/{job_id}/close").get_json()["status"] == "queued"
    with app.app_context():
        queue.queue_images(job_id, positions, 2)
    assert wait_job(client, job_id)["status"] == "failed"
    assert [image["error"]["code"] for image in all_results(client, job_id)] == ["upload_missing"] * 2
