"""A job's callback_url is checked when the job is created: 400 for anything the workers must not call."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import create_engine, update

from tests.utils.jobs import PHOTOS, keyed_client
from tests.utils.receiver import SECRET
from whoru.api import create_app
from whoru.db.schema import ApiKey

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()


@pytest.fixture()
def signing(stack):
    """Return a client of an API that signs webhooks and keeps the rule against private addresses."""
    app = create_app({"TESTING": True, "environ": {**stack.env, "WHORU_WEBHOOK_SECRET": SECRET}})
    return keyed_client(app, stack.database_url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/",
        "http://[::1]/",
        "http://localhost/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[64:ff9b::a00:7]/",
        "http://[2002:a9fe:a9fe::1]/",
        "http://[2002:c0a8:1::1]/",
    ],
)
def test_a_private_callback_is_refused(signing, url):
    response = signing.post("/v1/jobs", json={"open": True, "callback_url": url})
    assert response.status_code == 400 and "non-public" in response.get_json()["error"]["message"]


@pytest.fixture()
def loopback_only(stack):
    """Return a client of an API that allows loopback callbacks only, as `whoru serve` runs it."""
    app = create_app(
        {
            "TESTING": True,
            "environ": {**stack.env, "WHORU_WEBHOOK_SECRET": SECRET, "WHORU_WEBHOOK_ALLOW_LOOPBACK": "true"},
        }
    )
    return keyed_client(app, stack.database_url)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:a9fe:a9fe::1]/",
    ],
)
def test_loopback_only_still_refuses_the_rest_of_the_network(loopback_only, url):
    response = loopback_only.post("/v1/jobs", json={"open": True, "callback_url": url})
    assert response.status_code == 400 and "non-public" in response.get_json()["error"]["message"]


def test_loopback_only_allows_a_receiver_on_this_machine(loopback_only):
    response = loopback_only.post("/v1/jobs", json={"open": True, "callback_url": "http://127.0.0.1:8000/hook"})
    assert response.status_code == 201
    loopback_only.delete(f"/v1/jobs/{response.get_json()['id']}")


def test_a_private_callback_in_a_form_is_refused_and_nothing_is_kept(signing):
    data = {"file": [(io.BytesIO(PHOTO), "a.jpg")], "callback_url": "http://127.0.0.1/hook"}
    response = signing.post("/v1/jobs", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert signing.get("/v1/jobs").get_json()["jobs"] == []


@pytest.mark.parametrize("url", ["ftp://example.com/", 7, "not a url"])
def test_a_callback_that_is_not_http_is_refused(signing, url):
    assert signing.post("/v1/jobs", json={"open": True, "callback_url": url}).status_code == 400


def test_unknown_options_are_still_refused(signing):
    assert signing.post("/v1/jobs", json={"open": True, "colour": "red"}).status_code == 400


def test_a_callback_needs_a_signing_secret(client, stack):
    engine = create_engine(stack.database_url)
    with engine.begin() as connection:
        connection.execute(update(ApiKey).where(ApiKey.name == client.key_name).values(webhook_secret=None))
    engine.dispose()
    response = client.post("/v1/jobs", json={"open": True, "callback_url": "https://example.com/hook"})
    assert response.status_code == 400 and "rotate-webhook-secret" in response.get_json()["error"]["message"]
