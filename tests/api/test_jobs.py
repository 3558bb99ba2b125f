"""The API with a real worker, real Redis and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json

from tests.utils.jobs import PHOTOS, all_results, make_zip, post_files, wait_job

TRUTH = json.loads((PHOTOS / "faces.json").read_text())


def test_single_image_succeeds_with_its_faces(client):
    response = post_files(client, [("obama.jpg", (PHOTOS / "fr_obama_small.jpg").read_bytes())])
    assert response.status_code == 202
    job = response.get_json()
    assert response.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert int(response.headers["Retry-After"]) > 0
    assert job["status"] == "queued"
    done = wait_job(client, job["id"])
    assert done["status"] == "succeeded"
    assert done["counts"] == {"images_total": 1, "images_done": 1, "images_failed": 0, "faces": 1}
    assert done["started_at"]
    assert done["finished_at"]
    [image] = all_results(client, job["id"])
    assert image["name"] == "obama.jpg"
    assert image["status"] == "done"
    [face] = image["faces"]
    assert face["gender"]["label"] in ("male", "female")
    assert 0.5 <= face["gender"]["probability"] <= 1
    assert set(face["ethnicity"]["probabilities"]) == {"white", "black", "asian", "indian", "others"}
    assert abs(sum(face["ethnicity"]["probabilities"].values()) - 1) < 1e-3
    assert 0 < face["box"]["w"] <= image["width"]
    assert len(face["landmarks"]) == 5


def test_zip_with_folders_and_a_corrupt_file(client):
    photos = {f"group/{name}": (PHOTOS / name).read_bytes() for name in TRUTH}
    photos["group/nested/broken.jpg"] = b"\xff\xd8\xff\xe0 this is not really a jpeg"
    response = post_files(client, [("batch.zip", make_zip(photos))])
    assert response.status_code == 202
    job = wait_job(client, response.get_json()["id"])
    assert job["status"] == "succeeded"
    assert job["counts"]["images_total"] == len(photos)
    assert job["counts"]["images_failed"] == 1
    images = {image["name"]: image for image in all_results(client, job["id"])}
    assert list(images) == [f"batch.zip/{name}" for name in photos]
    assert images["batch.zip/group/nested/broken.jpg"]["status"] == "failed"
    assert images["batch.zip/group/nested/broken.jpg"]["error"]["code"] == "corrupt_image"
    for name, truth in TRUTH.items():
        assert abs(len(images[f"batch.zip/group/{name}"]["faces"]) - truth["faces"]) <= 1, name
    assert images["batch.zip/group/mtcnn_no-faces.jpg"]["status"] == "no_face"


def test_paging_returns_every_image_once_in_order(client):
    files = [(f"img{i}.jpg", (PHOTOS / "fr_obama_small.jpg").read_bytes()) for i in range(5)]
    job_id = post_files(client, files).get_json()["id"]
    wait_job(client, job_id)
    first = client.get(f"/v1/jobs/{job_id}/results?page_size=2").get_json()
    assert [i["name"] for i in first["images"]] == ["img0.jpg", "img1.jpg"]
    assert first["next_page_token"]
    assert [i["name"] for i in all_results(client, job_id, page_size=2)] == [name for name, _ in files]
    last = client.get(f"/v1/jobs/{job_id}/results?page_size=5").get_json()
    assert last["next_page_token"] is None
    assert client.get(f"/v1/jobs/{job_id}/results?page_size=0").status_code == 400
    assert client.get(f"/v1/jobs/{job_id}/results?page_token=@@@").status_code == 400


def test_csv_has_a_row_per_face_and_per_faceless_image(client):
    files = [(name, (PHOTOS / name).read_bytes()) for name in TRUTH] + [("notes.jpg", b"plain text")]
    job_id = post_files(client, files).get_json()["id"]
    job = wait_job(client, job_id)
    response = client.get(f"/v1/jobs/{job_id}/results.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == [
        "position",
        "image",
        "face",
        "x",
        "y",
        "w",
        "h",
        "detection_score",
        "age",
        "age_bin",
        "age_low",
        "age_high",
        "gender",
        "gender_probability",
        "ethnicity",
        "p_white",
        "p_black",
        "p_asian",
        "p_indian",
        "p_others",
        "person",
        "taken_at",
        "status",
        "error",
        "model_version",
    ]
    face_rows = [r for r in rows if r["face"] != ""]
    assert len(face_rows) == job["counts"]["faces"]
    empty = {r["image"]: r for r in rows if r["face"] == ""}
    assert empty["mtcnn_no-faces.jpg"]["status"] == "no_face"
    assert empty["notes.jpg"]["status"] == "failed"
    assert empty["notes.jpg"]["error"].startswith("not_an_image")
    assert all(r["model_version"] == job["model"]["version"] for r in rows)
    for row in face_rows:
        assert float(row["age"]) >= 0
        assert row["gender"] in ("male", "female")
        assert abs(sum(float(row[f"p_{e}"]) for e in ("white", "black", "asian", "indian", "others")) - 1) < 2e-3


def test_job_that_only_has_broken_images_fails(client):
    job_id = post_files(client, [("a.jpg", b"nope"), ("b.png", b"")]).get_json()["id"]
    job = wait_job(client, job_id)
    assert job["status"] == "failed"
    assert job["counts"]["images_failed"] == 2
    codes = {i["name"]: i["error"]["code"] for i in all_results(client, job_id)}
    assert codes == {"a.jpg": "not_an_image", "b.png": "empty_file"}


def test_cancel_stops_a_queued_job(client, stack):
    files = [(f"img{i}.jpg", (PHOTOS / "dlib_2008_001322.jpg").read_bytes()) for i in range(40)]
    job_id = post_files(client, files).get_json()["id"]
    canceled = client.post(f"/v1/jobs/{job_id}/cancel").get_json()
    assert canceled["status"] == "canceled"
    assert canceled["finished_at"]
    job = wait_job(client, job_id, until=("canceled",))
    assert job["counts"]["images_done"] < 40
    again = client.post(f"/v1/jobs/{job_id}/cancel")
    assert again.status_code == 409
    assert "already ended" in again.get_json()["error"]["message"]


def test_a_finished_job_cannot_be_canceled(client):
    job_id = post_files(client, [("a.jpg", (PHOTOS / "fr_obama_small.jpg").read_bytes())]).get_json()["id"]
    assert wait_job(client, job_id)["status"] == "succeeded"
    refused = client.post(f"/v1/jobs/{job_id}/cancel")
    assert refused.status_code == 409
    assert client.get(f"/v1/jobs/{job_id}").get_json()["status"] == "succeeded"


def test_requests_without_images_are_refused_before_a_job_exists(client):
    before = client.get("/v1/jobs?page_size=1000").get_json()["jobs"]
    response = client.post("/v1/jobs", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "no_file"
    response = post_files(client, [("readme.txt", b"hello")])
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "no_images"
    response = post_files(client, [("docs.zip", make_zip({"a.txt": b"x"}))])
    assert response.status_code == 400
    assert len(client.get("/v1/jobs?page_size=1000").get_json()["jobs"]) == len(before)


def test_listing_and_unknown_jobs(client):
    ids = [
        post_files(client, [("x.jpg", (PHOTOS / "fr_obama_small.jpg").read_bytes())]).get_json()["id"] for _ in range(3)
    ]
    page = client.get("/v1/jobs?page_size=2").get_json()
    assert [j["id"] for j in page["jobs"]] == ids[::-1][:2]
    second = client.get(f"/v1/jobs?page_size=2&page_token={page['next_page_token']}").get_json()
    assert second["jobs"][0]["id"] == ids[0]
    missing = client.get("/v1/jobs/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    for job_id in ids:
        wait_job(client, job_id)


def test_health_readiness_and_openapi(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "broker": "ok"}
    spec = client.get("/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/results",
        "/v1/jobs/{job_id}/results.csv",
        "/healthz",
        "/readyz",
    ):
        assert path in spec["paths"]
