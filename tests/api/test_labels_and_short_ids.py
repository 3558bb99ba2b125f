"""Jobs you can find again: a label set when the job is made and changed with PATCH, Try it jobs that
the list can hide, and ids shortened, as git does, to a prefix of 8 or more characters."""

from __future__ import annotations

import io

from tests.utils.jobs import PHOTOS, open_job, post_files, put_part, wait_job
from whoru.db import lifecycle
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.db.schema import Job

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()


def test_a_label_is_set_when_opening_shown_and_changed_by_patch(client):
    job = client.post("/v1/jobs", json={"open": True, "label": "  holiday 2026 "}).get_json()
    assert job["label"] == "holiday 2026" and job["try_it"] is False
    changed = client.patch(f"/v1/jobs/{job['id']}", json={"label": "summer 2026"})
    assert changed.status_code == 200 and changed.get_json()["label"] == "summer 2026"
    assert client.get(f"/v1/jobs/{job['id']}").get_json()["label"] == "summer 2026"
    assert client.patch(f"/v1/jobs/{job['id']}", json={"label": None}).get_json()["label"] is None
    for bad in ({"label": 3}, {"label": "x" * 501}, {"status": "succeeded"}, {}):
        assert client.patch(f"/v1/jobs/{job['id']}", json=bad).status_code == 400, bad
    assert client.post("/v1/jobs", json={"open": True, "label": ["no"]}).status_code == 400


def test_the_one_request_form_takes_a_label(client):
    data = {"file": [(io.BytesIO(PHOTO), "a.jpg")], "label": "one photo"}
    response = client.post("/v1/jobs", data=data, content_type="multipart/form-data")
    assert response.status_code == 202 and response.get_json()["label"] == "one photo"


def test_try_it_jobs_are_marked_and_the_list_can_hide_or_show_only_them(client):
    tried = client.post("/v1/jobs", json={"open": True, "try_it": True, "label": "me.jpg"}).get_json()
    kept = open_job(client)
    assert tried["try_it"] is True
    assert tried["id"] in listed(client, "") and kept["id"] in listed(client, "")
    assert tried["id"] not in listed(client, "?try_it=false") and kept["id"] in listed(client, "?try_it=false")
    assert listed(client, "?try_it=true") == [tried["id"]]
    assert client.get("/v1/jobs?try_it=maybe").status_code == 400
    assert client.post("/v1/jobs", json={"open": True, "try_it": "yes"}).status_code == 400


def test_an_eight_character_prefix_names_a_job_everywhere(client):
    job_id = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    wait_job(client, job_id)
    prefix = job_id[:8]
    assert client.get(f"/v1/jobs/{prefix}").get_json()["id"] == job_id
    assert client.get(f"/v1/jobs/{prefix}/results").get_json()["images"][0]["name"] == "a.jpg"
    assert client.get(f"/v1/jobs/{prefix}/results.csv").status_code == 200
    assert client.patch(f"/v1/jobs/{prefix}", json={"label": "short"}).get_json()["id"] == job_id
    short = client.get(f"/v1/jobs/{job_id[:7]}")
    assert short.status_code == 404 and "at least 8 characters" in short.get_json()["error"]["message"]


def test_an_ambiguous_prefix_is_refused_naming_both_jobs(client, stack):
    first = open_job(client)["id"]
    # A second job of the same key whose id shares the first's 9 characters (random ids rarely do).
    second = first[:9] + ("0000" if first[9:13] != "0000" else "1111") + first[13:]
    engine = make_engine(stack.database_url)
    with make_sessionmaker(engine)() as session:
        owner = session.get(Job, first).api_key_id
        lifecycle.open_job(session, second, owner, ("default", "v"))
        session.commit()
    engine.dispose()
    response = client.get(f"/v1/jobs/{first[:8]}")
    assert response.status_code == 409
    message = response.get_json()["error"]["message"]
    assert first in message and second in message and "ambiguous" in message
    assert client.get(f"/v1/jobs/{first[:13]}").get_json()["id"] == first


def test_duplicates_lists_unfinished_jobs_sent_the_same_first_part(client):
    body = PHOTO
    first, second, other = open_job(client)["id"], open_job(client)["id"], open_job(client)["id"]
    for job_id, data in ((first, body), (second, body), (other, body + b"\0")):
        assert put_part(client, job_id, 0, data, name="a.jpg").status_code == 201
    assert [job["id"] for job in client.get(f"/v1/jobs/{second}/duplicates").get_json()["jobs"]] == [first]
    client.post(f"/v1/jobs/{first}/cancel")
    assert client.get(f"/v1/jobs/{second}/duplicates").get_json()["jobs"] == []


def listed(client, query: str) -> list[str]:
    """Return the ids of the first page of jobs a list query gives."""
    return [job["id"] for job in client.get(f"/v1/jobs{query}").get_json()["jobs"]]
