"""The OpenAPI document describes every route, and real answers of a real job validate against it."""

from __future__ import annotations

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.testing import MockRequest

from tests.utils.jobs import PHOTOS, keyed_client, make_zip, open_job, post_files, put_part, wait_job
from tests.utils.receiver import SECRET
from whoru.api import create_app

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()


@pytest.fixture()
def check(client):
    """Return a function that validates a test-client response against the served document."""
    spec = OpenAPI.from_dict(client.get("/v1/openapi.json").get_json())

    def validate(response):
        request = response.request
        spec.validate_response(
            MockRequest("http://localhost", request.method.lower(), request.path), WerkzeugOpenAPIResponse(response)
        )
        return response

    return validate


def test_every_route_is_documented(app, client):
    documented = client.get("/v1/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        # The web page and its files are not part of the API.
        if rule.endpoint in ("static", "api-docs.openapi_json") or rule.endpoint.startswith("web."):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        methods = rule.methods - {"HEAD", "OPTIONS"}
        assert path in documented and methods <= {m.upper() for m in documented[path]}, rule.rule


def test_the_answers_of_a_whole_job_match_the_document(client, check):
    job_id = check(client.post("/v1/jobs", json={"open": True})).get_json()["id"]
    check(put_part(client, job_id, 0, make_zip({"a.jpg": PHOTO, "broken.jpg": b"not a jpeg"})))
    check(put_part(client, job_id, 0, make_zip({"other.jpg": PHOTO})))
    check(put_part(client, job_id, 2, PHOTO))
    check(put_part(client, job_id, 1, PHOTO, digest="sha-256=:AAAA:"))
    check(client.get(f"/v1/jobs/{job_id}/parts"))
    check(client.post(f"/v1/jobs/{job_id}/close"))
    wait_job(client, job_id)
    results = check(client.get(f"/v1/jobs/{job_id}/results?page_size=1")).get_json()
    assert results["images"][0]["faces"] and results["next_page_token"]
    check(client.get(f"/v1/jobs/{job_id}/results?page_size=1&page_token={results['next_page_token']}"))
    check(client.get(f"/v1/jobs/{job_id}/results?page_size=0"))
    check(client.get(f"/v1/jobs/{job_id}/results?status=failed&gender=male&age_bin=21-40&ethnicity=white"))
    check(client.get(f"/v1/jobs/{job_id}/results?gender=robot"))
    check(client.get(f"/v1/jobs/{job_id}/summary"))
    check(client.get(f"/v1/jobs/{job_id}/images/0/preview"))
    check(client.get(f"/v1/jobs/{job_id}/images/99/preview"))
    check(client.get(f"/v1/jobs/{job_id}"))
    check(client.get("/v1/jobs?page_size=2"))
    one = check(post_files(client, [("b.jpg", PHOTO)])).get_json()
    check(client.post(f"/v1/jobs/{one['id']}/cancel"))
    check(client.delete(f"/v1/jobs/{one['id']}"))
    check(client.get(f"/v1/jobs/{one['id']}"))
    check(client.post("/v1/jobs", json={"open": "yes"}))
    check(client.get("/healthz"))
    check(client.get("/readyz"))
    other = open_job(client)
    assert check(client.post(f"/v1/jobs/{other['id']}/close")).get_json()["status"] == "failed"


def test_a_job_with_a_callback_matches_the_document(stack, check):
    environ = {**stack.env, "WHORU_WEBHOOK_SECRET": SECRET, "WHORU_WEBHOOK_ALLOW_PRIVATE": "true"}
    hooked = keyed_client(create_app({"TESTING": True, "environ": environ}), stack.database_url)
    job = check(hooked.post("/v1/jobs", json={"open": True, "callback_url": "http://127.0.0.1:9/hook"})).get_json()
    assert job["webhook"] == {"status": "pending", "attempts": 0, "last_status": None, "last_error": None}
    check(hooked.get(f"/v1/jobs/{job['id']}"))
    check(hooked.post("/v1/jobs", json={"open": True, "callback_url": "ftp://example.com/"}))
    check(hooked.delete(f"/v1/jobs/{job['id']}"))


def test_the_answers_of_a_people_job_match_the_document(client, check):
    job_id = check(client.post("/v1/jobs", json={"open": True, "people": True})).get_json()["id"]
    check(
        put_part(client, job_id, 0, make_zip({"a.jpg": PHOTO, "b.jpg": (PHOTOS / "dlib_2008_001009.jpg").read_bytes()}))
    )
    check(client.get(f"/v1/jobs/{job_id}/people"))
    check(client.post(f"/v1/jobs/{job_id}/close"))
    assert wait_job(client, job_id)["people_status"] == "done"
    check(client.get(f"/v1/jobs/{job_id}/results?person=p1"))
    check(client.get(f"/v1/jobs/{job_id}/results?person=nobody"))
    check(client.get(f"/v1/jobs/{job_id}/summary"))
    page = check(client.get(f"/v1/jobs/{job_id}/people?page_size=1")).get_json()
    check(client.get(f"/v1/jobs/{job_id}/people?page_token={page['next_page_token']}"))
    check(client.get(f"/v1/jobs/{job_id}/people.csv"))
    check(client.get(f"/v1/jobs/{job_id}"))
