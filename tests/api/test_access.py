"""API keys: every /v1 endpoint needs one, and a job is visible only to the key that created it."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from tests.utils.jobs import PHOTOS, keyed_client, post_files, wait_job
from whoru.cli.main import main
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.keys import ensure_local_key, revoke_key

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()
ENDPOINTS = [
    ("get", "/v1/jobs"),
    ("get", "/v1/jobs/{id}"),
    ("get", "/v1/jobs/{id}/results"),
    ("get", "/v1/jobs/{id}/results.csv"),
    ("post", "/v1/jobs/{id}/cancel"),
    ("delete", "/v1/jobs/{id}"),
    ("post", "/v1/jobs"),
]


@pytest.fixture()
def job_id(client):
    """Return a finished job of the `client` key."""
    job_id = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    wait_job(client, job_id)
    return job_id


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer whoru_wrong", "Basic dXNlcjpwYXNz"])
def test_missing_or_wrong_keys_get_401(app, job_id, header):
    anonymous = app.test_client()
    for method, path in ENDPOINTS:
        headers = {"Authorization": header} if header else {}
        response = getattr(anonymous, method)(path.format(id=job_id), headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert anonymous.get("/v1/openapi.json").status_code == 200
    assert anonymous.get("/healthz").status_code == 200


def test_another_key_sees_nothing_of_a_job(app, stack, client, job_id):
    stranger = keyed_client(app, stack.database_url)
    for method, path in ENDPOINTS[1:-1]:
        response = getattr(stranger, method)(path.format(id=job_id))
        assert response.status_code == 404, (method, path)
    assert stranger.get("/v1/jobs").get_json()["jobs"] == []
    assert [j["id"] for j in client.get("/v1/jobs").get_json()["jobs"]][0] == job_id
    assert client.get(f"/v1/jobs/{job_id}").status_code == 200


def test_a_revoked_key_gets_401(app, stack):
    client = keyed_client(app, stack.database_url, name="soon-revoked")
    assert client.get("/v1/jobs").status_code == 200
    engine = make_engine(stack.database_url)
    with make_sessionmaker(engine)() as session:
        revoke_key(session, "soon-revoked")
        session.commit()
    engine.dispose()
    assert client.get("/v1/jobs").status_code == 401


def test_keys_cli_creates_lists_and_revokes(stack):
    env = {"WHORU_DATABASE_URL": stack.database_url}
    runner = CliRunner()
    created = runner.invoke(main, ["keys", "create", "ci-robot"], env=env)
    assert created.exit_code == 0 and created.output.startswith("whoru_")
    secret = created.output.split("webhook signing secret: ", 1)[1].strip()
    assert secret.startswith("whsec_")
    assert runner.invoke(main, ["keys", "create", "ci-robot"], env=env).exit_code != 0
    listed = runner.invoke(main, ["keys", "list"], env=env).output
    assert "ci-robot" in listed and "active" in listed
    assert created.output.splitlines()[0] not in listed and secret not in listed
    assert runner.invoke(main, ["keys", "revoke", "ci-robot"], env=env).exit_code == 0
    assert "revoked" in runner.invoke(main, ["keys", "list"], env=env).output


def test_local_key_file_is_owner_only_and_reused(stack, tmp_path):
    engine = make_engine(stack.database_url)
    with make_sessionmaker(engine)() as session:
        first = ensure_local_key(session, tmp_path / "var" / "api-key")
        again = ensure_local_key(session, tmp_path / "var" / "api-key")
    engine.dispose()
    assert first == again
    assert stat.S_IMODE((tmp_path / "var" / "api-key").stat().st_mode) == 0o600


def test_page_tokens_are_bound_to_their_job_and_key(app, stack, client):
    photos = [("a.jpg", PHOTO), ("b.jpg", PHOTO)]
    first, second = (post_files(client, photos).get_json()["id"] for _ in range(2))
    for job_id in (first, second):
        wait_job(client, job_id)
    token = client.get(f"/v1/jobs/{first}/results?page_size=1").get_json()["next_page_token"]
    assert client.get(f"/v1/jobs/{first}/results?page_size=1&page_token={token}").status_code == 200
    assert client.get(f"/v1/jobs/{second}/results?page_size=1&page_token={token}").status_code == 400
    list_token = client.get("/v1/jobs?page_size=1").get_json()["next_page_token"]
    stranger = keyed_client(app, stack.database_url)
    assert stranger.get(f"/v1/jobs?page_size=1&page_token={list_token}").status_code == 400
