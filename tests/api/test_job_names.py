"""Every image of a job has a name of its own: a zip's members are named under the zip, a client's
packed zip keeps its members' names, and two parts that would still share a name are refused, naming
both, before anything is stored. Real worker, Redis, SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

from tests.utils.jobs import PHOTOS, all_results, content_digest, make_zip, open_job, post_files, put_part, wait_job

ONE = (PHOTOS / "fr_obama_small.jpg").read_bytes()
THREE = (PHOTOS / "dlib_2008_001322.jpg").read_bytes()


def test_a_zip_and_a_photo_of_one_name_are_two_images_in_the_one_request_form(client):
    response = post_files(client, [("dup.zip", make_zip({"ulfd_16.jpg": ONE})), ("ulfd_16.jpg", THREE)])
    assert response.status_code == 202, response.get_json()
    job_id = wait_job(client, response.get_json()["id"])["id"]
    images = all_results(client, job_id)
    assert [(image["position"], image["name"], len(image["faces"])) for image in images] == [
        (0, "dup.zip/ulfd_16.jpg", 1),
        (1, "ulfd_16.jpg", 3),
    ]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/v1/jobs/{job_id}/results.csv").get_data(as_text=True))))
    assert {(row["position"], row["image"]) for row in rows} == {("0", "dup.zip/ulfd_16.jpg"), ("1", "ulfd_16.jpg")}
    assert sorted(row["face"] for row in rows if row["position"] == "1") == ["0", "1", "2"]


def test_two_zips_with_one_member_name_give_two_names(client):
    job = open_job(client)
    assert put_part(client, job["id"], 0, make_zip({"x.jpg": ONE}), name="a.zip").status_code == 201
    assert put_part(client, job["id"], 1, make_zip({"x.jpg": THREE}), name="b.zip").status_code == 201
    client.post(f"/v1/jobs/{job['id']}/close")
    wait_job(client, job["id"])
    assert [(i["name"], len(i["faces"])) for i in all_results(client, job["id"])] == [
        ("a.zip/x.jpg", 1),
        ("b.zip/x.jpg", 3),
    ]


def test_a_packed_part_keeps_its_members_names(client):
    job = open_job(client)
    assert (
        put_part(client, job["id"], 0, make_zip({"party/x.jpg": ONE}), name="part-00000.zip", packed=True).status_code
        == 201
    )
    assert put_part(client, job["id"], 1, make_zip({"x.jpg": ONE}), name="party.zip").status_code == 201
    client.post(f"/v1/jobs/{job['id']}/close")
    wait_job(client, job["id"])
    assert [i["name"] for i in all_results(client, job["id"])] == ["party/x.jpg", "party.zip/x.jpg"]
    refused = client.put(
        f"/v1/jobs/{open_job(client)['id']}/parts/0?packed=yes",
        data=ONE,
        headers={"Content-Digest": content_digest(ONE)},
        content_type="application/octet-stream",
    )
    assert refused.status_code == 400 and "packed" in refused.get_json()["error"]["message"]


def test_a_part_that_repeats_a_name_is_refused_naming_both_parts_and_nothing_is_kept(client):
    job = open_job(client)
    assert put_part(client, job["id"], 0, make_zip({"a/x.jpg": ONE}), name="first.zip", packed=True).status_code == 201
    clash = put_part(
        client, job["id"], 1, make_zip({"a/x.jpg": THREE, "a/y.jpg": THREE}), name="second.zip", packed=True
    )
    assert clash.status_code == 409
    message = clash.get_json()["error"]["message"]
    assert "'a/x.jpg'" in message and "part 0 (first.zip)" in message and "part 1 (second.zip)" in message
    assert [part["n"] for part in client.get(f"/v1/jobs/{job['id']}/parts").get_json()["parts"]] == [0]
    assert client.get(f"/v1/jobs/{job['id']}").get_json()["counts"]["images_total"] == 1
    assert (
        put_part(client, job["id"], 1, make_zip({"a/y.jpg": THREE}), name="second.zip", packed=True).status_code == 201
    )


def test_two_zips_of_one_name_in_one_request_are_refused_before_a_job_exists(client):
    before = client.get("/v1/jobs").get_json()["jobs"]
    response = post_files(client, [("dup.zip", make_zip({"x.jpg": ONE})), ("dup.zip", make_zip({"x.jpg": THREE}))])
    assert response.status_code == 409
    message = response.get_json()["error"]["message"]
    assert "'dup.zip/x.jpg'" in message and "part 0 (dup.zip)" in message and "part 1 (dup.zip)" in message
    assert client.get("/v1/jobs").get_json()["jobs"] == before
