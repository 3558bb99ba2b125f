"""Webhooks through the real API, Redis and worker to a real receiver on loopback."""

from __future__ import annotations

import base64
import io
import ipaddress
import json
import os
import subprocess
import sys
import time

import pytest
from celery.utils.time import get_exponential_backoff_interval
from standardwebhooks import Webhook

from tests.conftest import stack_env
from tests.utils.jobs import PHOTOS, keyed_client, wait_job
from tests.utils.receiver import Receiver
from tests.utils.services import Worker, start_embedded_redis
from tests.utils.waiting import wait_until
from whoru.api import create_app
from whoru.worker.webhooks import deliver_webhook, post_to

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()


@pytest.fixture(scope="module")
def hooked(database_url, tmp_path_factory):
    """Yield a client of an API and a worker of their own that sign webhooks and may call loopback."""
    folder = tmp_path_factory.mktemp("webhooks")
    server, redis_url = start_embedded_redis(folder)
    env = stack_env(database_url, redis_url, folder / "storage", WHORU_WEBHOOK_ALLOW_PRIVATE="true")
    worker = Worker(env, folder / "worker.log").start()
    yield keyed_client(create_app({"TESTING": True, "environ": env}), database_url)
    worker.stop()
    server.shutdown()


def wait_webhook(client, job_id: str, timeout: float = 60) -> dict:
    """Poll a job until its webhook is no longer pending; return the job."""

    def settled() -> dict | None:
        job = client.get(f"/v1/jobs/{job_id}").get_json()
        return None if job["webhook"]["status"] == "pending" else job

    return wait_until(settled, timeout, 0.2, lambda: f"job {job_id}: {client.get(f'/v1/jobs/{job_id}').get_json()}")


def test_a_job_that_succeeds_is_delivered_once_signed(hooked):
    with Receiver() as receiver:
        data = {"file": [(io.BytesIO(PHOTO), "a.jpg")], "callback_url": receiver.url}
        job = hooked.post("/v1/jobs", data=data, content_type="multipart/form-data").get_json()
        assert job["callback_url"] == receiver.url
        assert job["webhook"]["status"] == "pending"
        assert wait_job(hooked, job["id"])["status"] == "succeeded"
        (request,) = receiver.wait_for(1)
        body = Webhook(hooked.webhook_secret).verify(request.body, request.headers)
        assert body["id"] == job["id"]
        assert body["status"] == "succeeded"
        assert body["counts"]["faces"] == 1
        assert request.headers["webhook-id"] == f"msg_{job['id']}"
        assert "webhook" not in body
        assert wait_webhook(hooked, job["id"])["webhook"] == {
            "status": "delivered",
            "attempts": 1,
            "last_status": 200,
            "last_error": None,
        }
        # Nothing announces a delivery that does not happen: a doubled task is given two seconds to show itself.
        time.sleep(2)
        assert len(receiver.requests) == 1


def test_a_failing_receiver_is_retried_with_the_same_id(hooked):
    with Receiver(statuses=[500, 500]) as receiver:
        job = hooked.post("/v1/jobs", json={"open": True, "callback_url": receiver.url}).get_json()
        assert hooked.post(f"/v1/jobs/{job['id']}/close").get_json()["status"] == "failed"
        requests = receiver.wait_for(3)
        assert {r.headers["webhook-id"] for r in requests} == {f"msg_{job['id']}"}
        assert all(Webhook(hooked.webhook_secret).verify(r.body, r.headers)["status"] == "failed" for r in requests)
        assert len({r.body for r in requests}) == 1
        assert wait_webhook(hooked, job["id"])["webhook"] == {
            "status": "delivered",
            "attempts": 3,
            "last_status": 200,
            "last_error": None,
        }


def test_a_canceled_job_is_delivered(hooked):
    with Receiver() as receiver:
        job = hooked.post("/v1/jobs", json={"open": True, "callback_url": receiver.url}).get_json()
        hooked.post(f"/v1/jobs/{job['id']}/cancel")
        (request,) = receiver.wait_for(1)
        assert json.loads(request.body)["status"] == "canceled"
        assert Webhook(hooked.webhook_secret).verify(request.body, request.headers)["id"] == job["id"]


def test_a_job_without_a_callback_has_no_webhook(hooked):
    job = hooked.post("/v1/jobs", json={"open": True}).get_json()
    assert job["callback_url"] is None
    assert job["webhook"] is None


def test_callbacks_are_signed_with_the_keys_rotated_secret(hooked, database_url):
    rotated = subprocess.run(
        [sys.executable, "-m", "whoru.cli", "keys", "rotate-webhook-secret", hooked.key_name],
        env={**os.environ, "WHORU_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
    )
    assert rotated.returncode == 0, rotated.stderr
    new_secret = rotated.stdout.strip()
    assert new_secret.startswith("whsec_")
    assert new_secret != hooked.webhook_secret
    with Receiver() as receiver:
        job = hooked.post("/v1/jobs", json={"open": True, "callback_url": receiver.url}).get_json()
        hooked.post(f"/v1/jobs/{job['id']}/cancel")
        (request,) = receiver.wait_for(1)
        assert Webhook(new_secret).verify(request.body, request.headers)["id"] == job["id"]
        with pytest.raises(Exception):
            Webhook(hooked.webhook_secret).verify(request.body, request.headers)


def test_a_delivery_connects_to_the_checked_address_not_to_a_second_lookup():
    """The name is resolved once, when checked; the POST goes to that address with the URL's Host.

    `.invalid` never resolves (RFC 6761), so a delivery that looked the name up again would fail.
    """
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        url = f"http://user:p%40ss@hook.invalid:{port}/path?job=1"
        status = post_to(url, ipaddress.ip_address("127.0.0.1"), b"{}", {"content-type": "application/json"})
        (received,) = receiver.wait_for(1)
    assert status == 200
    assert received.path == "/path?job=1"
    assert received.body == b"{}"
    headers = {name.lower(): value for name, value in received.headers.items()}
    assert headers["host"] == f"hook.invalid:{port}"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"user:p@ss").decode()


def test_retries_wait_the_documented_backoff():
    # Computed by the function Celery's autoretry calls, with the task's own options.
    task = deliver_webhook
    waits = [
        get_exponential_backoff_interval(task.retry_backoff, n, task.retry_backoff_max, task.retry_jitter)
        for n in range(12)
    ]
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]
