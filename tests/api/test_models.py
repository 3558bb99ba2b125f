"""A job chooses its model; workers serve every model named in settings and record what they ran."""

from __future__ import annotations

import io
import json

from tests.conftest import MODEL
from tests.utils.jobs import PHOTOS, all_results, post_files, put_part, wait_job

PHOTO = (PHOTOS / "dlib_2008_001322.jpg").read_bytes()
FAST = json.loads((MODEL.parent / "fast" / "card.json").read_text())
DEFAULT = json.loads((MODEL / "card.json").read_text())


def run(client, model: str | None) -> tuple[dict, list[dict]]:
    """Run the photo through a job that names a model (or none); return the job and its faces."""
    options = {"open": True, **({"model": model} if model else {})}
    job_id = client.post("/v1/jobs", json=options).get_json()["id"]
    assert put_part(client, job_id, 0, PHOTO, name="group.jpg").status_code == 201
    client.post(f"/v1/jobs/{job_id}/close")
    return wait_job(client, job_id), all_results(client, job_id)[0]["faces"]


def test_a_job_runs_the_model_it_chose(client):
    default_job, default_faces = run(client, None)
    fast_job, fast_faces = run(client, "fast")
    assert default_job["model"] == {"name": DEFAULT["name"], "version": DEFAULT["version"]}
    assert fast_job["model"] == {"name": "fast", "version": FAST["version"]}
    assert len(default_faces) == len(fast_faces) == 3
    assert [f["box"] for f in default_faces] == [f["box"] for f in fast_faces]
    assert [f["age"] for f in default_faces] != [f["age"] for f in fast_faces]


def test_the_one_request_form_takes_a_model_field(client):
    response = client.post(
        "/v1/jobs", data={"model": "fast", "file": [(io.BytesIO(PHOTO), "g.jpg")]}, content_type="multipart/form-data"
    )
    assert response.status_code == 202 and wait_job(client, response.get_json()["id"])["model"]["name"] == "fast"


def test_an_unknown_model_is_refused_with_the_choices(client):
    refused = client.post("/v1/jobs", json={"open": True, "model": "best"})
    assert refused.status_code == 400
    assert "default" in refused.get_json()["error"]["message"] and "fast" in refused.get_json()["error"]["message"]
    assert post_files(client, [("g.jpg", PHOTO)]).status_code == 202
