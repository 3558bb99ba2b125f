"""The API's /metrics: behind its token, whoru_* names only, no job ids, and values that follow real jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from tests.conftest import stack_env
from tests.utils.jobs import PHOTOS, keyed_client, post_files, put_part, wait_job
from tests.utils.scrape import Scrape
from tests.utils.services import ROOT, free_port, start_embedded_redis
from tests.utils.waiting import answers, wait_until
from whoru.api import create_app

TOKEN = "a-metrics-token"
PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()


@pytest.fixture()
def metered(stack):
    """Return a client of an API on the stack with metrics on."""
    return keyed_client(
        create_app({"TESTING": True, "environ": {**stack.env, "WHORU_METRICS_TOKEN": TOKEN}}), stack.database_url
    )


def scrape(client) -> Scrape:
    """Scrape /metrics with the token."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return Scrape(response.get_data(as_text=True))


def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token(metered):
    assert metered.get("/metrics").status_code == 401
    assert metered.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert (
        metered.get(
            "/metrics", headers={"Authorization": f"Bearer {metered.environ_base['HTTP_AUTHORIZATION']}"}
        ).status_code
        == 401
    )


def test_a_job_moves_the_metrics_and_leaves_no_id(metered):
    before = scrape(metered)
    job = post_files(metered, [("a.jpg", PHOTO), ("b.jpg", PHOTO)]).get_json()
    wait_job(metered, job["id"])
    metered.get("/v1/jobs/00000000-0000-0000-0000-000000000000")
    response = metered.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    after = Scrape(response.get_data(as_text=True))
    assert all(name.startswith("whoru_") for name in after.names())
    assert job["id"] not in response.get_data(as_text=True) and "a.jpg" not in response.get_data(as_text=True)
    posted = {"endpoint": "/v1/jobs", "method": "POST", "status": "202"}
    assert after.value("whoru_http_requests_total", **posted) == before.value("whoru_http_requests_total", **posted) + 1
    missing = {"endpoint": "/v1/jobs/<job_id>", "method": "GET", "status": "404"}
    assert after.value("whoru_http_requests_total", **missing) >= 1
    assert after.value("whoru_http_request_duration_seconds_count", endpoint="/v1/jobs", method="POST") >= 1
    assert after.value("whoru_jobs", status="succeeded") == before.value("whoru_jobs", status="succeeded") + 1
    assert {"whoru_images_pending", "whoru_oldest_pending_image_age_seconds"} <= after.names()


def test_pending_images_and_their_age(database_url, tmp_path):
    # A Redis that no worker reads: the images stay pending.
    server, redis_url = start_embedded_redis(tmp_path)
    env = stack_env(database_url, redis_url, tmp_path / "storage", WHORU_METRICS_TOKEN=TOKEN)
    client = keyed_client(create_app({"TESTING": True, "environ": env}), database_url)
    try:
        before = scrape(client)
        job = client.post("/v1/jobs", json={"open": True}).get_json()
        put_part(client, job["id"], 0, PHOTO)
        after = scrape(client)
        assert after.value("whoru_images_pending") == before.value("whoru_images_pending") + 1
        assert after.value("whoru_oldest_pending_image_age_seconds") > 0
        assert after.value("whoru_jobs", status="running") + after.value("whoru_jobs", status="queued") >= 1
        client.post(f"/v1/jobs/{job['id']}/cancel")
        assert scrape(client).value("whoru_images_pending") == before.value("whoru_images_pending")
    finally:
        server.shutdown()


def test_every_gunicorn_worker_is_counted(stack, tmp_path):
    port = free_port()
    env = {**stack.env, "WHORU_METRICS_TOKEN": TOKEN, "WHORU_PORT": str(port), "WHORU_API_WORKERS": "2"}
    api = subprocess.Popen(
        [sys.executable, "-m", "whoru.cli", "api"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=(tmp_path / "api.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", api)
        # At once, so that both workers take some.
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda _: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close(), range(40)
                )
            )
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        seen = {
            Scrape(urllib.request.urlopen(request, timeout=5).read().decode()).value(
                "whoru_http_requests_total", endpoint="/healthz"
            )
            for _ in range(6)
        }
        folder = Path(psutil.Process(api.pid).environ()["PROMETHEUS_MULTIPROC_DIR"])
        # Whichever worker answers a scrape, it sums the files of both.
        assert len(seen) == 1 and seen.pop() >= 40
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(30)
    assert not folder.exists()


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    """Wait until a URL answers, while its server runs."""
    wait_until(lambda: answers(url, process), 60, describe=lambda: f"{url} did not answer")
