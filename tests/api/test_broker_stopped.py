"""A broker that accepts connections but never answers (Redis stopped with SIGSTOP): the API says 503 in seconds."""

from __future__ import annotations

import signal
import threading

import pytest
import requests
from werkzeug.serving import make_server

from tests.utils.jobs import PHOTOS, keyed_client
from tests.utils.services import start_embedded_redis, stop_embedded_redis
from whoru.api import create_app

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()
DEADLINE_S = 3


@pytest.fixture()
def stopped_broker(stack, tmp_path):
    """Yield the URL of an API whose Redis is stopped (SIGSTOP) after it has been used once, and a key for it."""
    server, redis_url = start_embedded_redis(tmp_path)
    app = create_app({"TESTING": True, "environ": {**stack.env, "WHORU_REDIS_URL": redis_url}})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{http.server_port}"
    assert requests.get(f"{url}/readyz", timeout=DEADLINE_S).status_code == 200
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield url, keyed_client(app, stack.database_url)
    finally:
        server.process.send_signal(signal.SIGCONT)
        http.shutdown()
        stop_embedded_redis(server)


def test_readyz_answers_503_at_once(stopped_broker):
    url, _ = stopped_broker
    answer = requests.get(f"{url}/readyz", timeout=DEADLINE_S)
    assert answer.status_code == 503 and answer.json()["checks"]["broker"].startswith("error")


def test_a_new_job_answers_503_at_once_and_is_not_kept(stopped_broker):
    url, client = stopped_broker
    headers = {"Authorization": client.environ_base["HTTP_AUTHORIZATION"]}
    answer = requests.post(f"{url}/v1/jobs", files={"file": ("one.jpg", PHOTO)}, headers=headers, timeout=DEADLINE_S)
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "broker_unavailable"
    assert client.get("/v1/jobs").get_json()["jobs"] == []
