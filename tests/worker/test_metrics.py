"""A real worker's metrics port: after real jobs, its images, faces, stages, retries and failures show."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.conftest import MODEL, stack_env
from tests.utils.jobs import PHOTOS, keyed_client, post_files, wait_job
from tests.utils.receiver import SECRET, Receiver
from tests.utils.scrape import Scrape
from tests.utils.services import Worker, free_port, start_embedded_redis
from tests.utils.waiting import wait_until
from whoru.api import create_app

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()


@pytest.fixture()
def metered(database_url, tmp_path):
    """Yield an API client, a worker with a metrics port, and a function that scrapes that port."""
    server, redis_url = start_embedded_redis(tmp_path)
    port = free_port()
    env = stack_env(
        database_url,
        redis_url,
        tmp_path / "storage",
        WHORU_METRICS_PORT=str(port),
        WHORU_WEBHOOK_SECRET=SECRET,
        WHORU_WEBHOOK_ALLOW_PRIVATE="true",
    )
    worker = Worker(env, tmp_path / "worker.log").start()
    app = create_app({"TESTING": True, "environ": env})

    def scrape() -> Scrape:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            return Scrape(response.read().decode())

    yield keyed_client(app, database_url), app, scrape
    worker.stop()
    server.shutdown()


def wait_value(scrape, name: str, at_least: float, timeout: float = 60, **labels: str) -> Scrape:
    """Scrape until a metric reaches a value (pool processes write them as tasks end)."""

    def reached() -> Scrape | None:
        metrics = scrape()
        return metrics if metrics.value(name, **labels) >= at_least else None

    return wait_until(reached, timeout, 0.2, lambda: f"{name}{labels} stayed at {scrape().value(name, **labels)}")


def test_a_job_shows_in_the_worker_metrics(metered):
    client, _, scrape = metered
    job = post_files(client, [("a.jpg", PHOTO), ("b.jpg", PHOTO), ("c.jpg", b"not a jpeg")]).get_json()
    job = wait_job(client, job["id"])
    metrics = wait_value(scrape, "whoru_task_duration_seconds_count", 2, task="whoru.images.process")
    assert all(name.startswith("whoru_") for name in metrics.names())
    assert metrics.value("whoru_images_processed_total", status="done") == 2
    assert metrics.value("whoru_images_processed_total", status="failed") == 1
    assert (
        metrics.value("whoru_images_failed_total", code="corrupt_image")
        + metrics.value("whoru_images_failed_total", code="not_an_image")
        == 1
    )
    assert metrics.value("whoru_faces_processed_total") == job["counts"]["faces"] == 2
    for stage in ("read", "decode", "detect", "align", "classify", "db_write"):
        assert metrics.value("whoru_stage_duration_seconds_count", stage=stage) >= 1, stage
    card = json.loads((MODEL / "card.json").read_text())
    assert metrics.value("whoru_model_info", name=card["name"], version=card["version"]) == 1


def test_retries_and_failures_are_counted(metered):
    client, app, scrape = metered
    with Receiver(statuses=[500]) as receiver:
        job = client.post("/v1/jobs", json={"open": True, "callback_url": receiver.url}).get_json()
        client.post(f"/v1/jobs/{job['id']}/close")
        receiver.wait_for(2)
    wait_value(scrape, "whoru_task_retries_total", 1, task="whoru.webhooks.deliver")
    with app.app_context():
        app.extensions["whoru_celery"].send_task("whoru.images.process", args=["no-such-job"])
    wait_value(scrape, "whoru_task_failures_total", 1, task="whoru.images.process", exception="TypeError")
