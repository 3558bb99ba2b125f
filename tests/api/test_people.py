"""People jobs against the real stack: faces grouped by person across images, embeddings kept only while needed."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, update

from tests.utils.jobs import all_results, keyed_client, post_files, wait_job
from tests.utils.people import photos
from whoru.db.schema import Face, Job
from whoru.db.schema import Image as ImageRow


def stored_embeddings(database_url: str, job_id: str) -> int:
    """Return how many faces of a job have an identity embedding stored."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(
            select(func.count())
            .select_from(Face)
            .join(ImageRow, Face.image_id == ImageRow.id)
            .where(ImageRow.job_id == job_id, Face.embedding.is_not(None))
        )
    engine.dispose()
    return count


def submit_people(client, model: str = "default") -> tuple[dict, dict[str, dict]]:
    """Submit the photos as a people job; return the ended job and its images by name."""
    files = [(io.BytesIO(data), name) for name, data in photos()]
    response = client.post(
        "/v1/jobs", data={"people": "true", "model": model, "file": files}, content_type="multipart/form-data"
    )
    assert response.status_code == 202, response.get_json()
    job = wait_job(client, response.get_json()["id"])
    return job, {image["name"]: image for image in all_results(client, job["id"], page_size=10)}


def centre_x(face: dict) -> float:
    """Return the horizontal centre of a face's box."""
    return face["box"]["x"] + face["box"]["w"] / 2


@pytest.fixture(scope="module")
def grouped(app, stack):
    """Return a client and its people job, ended, with its images by name."""
    client = keyed_client(app, stack.database_url)
    job, images = submit_people(client)
    return client, job, images


def assert_grouped(job: dict, images: dict[str, dict]) -> None:
    """Check that each person's faces share one label across the pictures, and that nobody shares another's."""
    assert job["status"] == "succeeded" and job["people"] is True and job["people_status"] == "done"
    group = sorted(images["group.jpg"]["faces"], key=centre_x)
    mirrored = sorted(images["mirrored.jpg"]["faces"], key=centre_x, reverse=True)
    assert len(group) == len(mirrored) == 3
    assert [face["person"] for face in group] == [face["person"] for face in mirrored]
    portrait = {face["person"] for name in ("portrait.jpg", "darker.jpg") for face in images[name]["faces"]}
    assert len(portrait) == 1 and not portrait & {face["person"] for face in group}
    assert len({face["person"] for face in group}) == 3


def test_the_same_persons_faces_share_a_label_across_images_and_others_do_not(grouped):
    _, job, images = grouped
    assert_grouped(job, images)
    assert images["portrait.jpg"]["taken_at"] == "2012-06-01T10:30:00" and images["group.jpg"]["taken_at"] is None


def test_a_fast_job_runs_faceres_beside_its_model_and_groups_the_same(client):
    job, images = submit_people(client, "fast")
    assert job["model"]["name"] == "fast"
    assert_grouped(job, images)


def test_people_page_gives_each_persons_figures(grouped):
    client, job, images = grouped
    page = client.get(f"/v1/jobs/{job['id']}/people?page_size=3").get_json()
    rest = client.get(f"/v1/jobs/{job['id']}/people?page_token={page['next_page_token']}").get_json()
    people = page["people"] + rest["people"]
    assert [person["person"] for person in people] == ["p1", "p2", "p3", "p4"] and rest["next_page_token"] is None
    assert all(person["faces"] == person["images"] == 2 for person in people)
    portrait = next(face["person"] for face in images["portrait.jpg"]["faces"])
    dated = next(person for person in people if person["person"] == portrait)
    age = next(face["age"] for face in images["portrait.jpg"]["faces"])
    assert dated["birth_year"]["median"] == pytest.approx(2012 - age, abs=0.051)
    assert all(person["birth_year"] is None for person in people if person is not dated)
    assert "embedding" not in str(page)
    summary = client.get(f"/v1/jobs/{job['id']}/summary").get_json()
    assert summary["people"] == 4 and sum(row["count"] for row in summary["people_genders"]) == 4


def test_person_filter_and_csv_columns(grouped):
    client, job, images = grouped
    portrait = next(face["person"] for face in images["portrait.jpg"]["faces"])
    page = client.get(f"/v1/jobs/{job['id']}/results?person={portrait}").get_json()
    assert sorted(image["name"] for image in page["images"]) == ["darker.jpg", "portrait.jpg"]
    assert client.get(f"/v1/jobs/{job['id']}/results?person=someone").status_code == 400
    rows = list(csv.DictReader(io.StringIO(client.get(f"/v1/jobs/{job['id']}/results.csv").get_data(as_text=True))))
    assert {row["person"] for row in rows if row["image"] in ("portrait.jpg", "darker.jpg")} == {portrait}
    assert {row["taken_at"] for row in rows if row["image"] == "portrait.jpg"} == {"2012-06-01T10:30:00"}
    people = list(csv.DictReader(io.StringIO(client.get(f"/v1/jobs/{job['id']}/people.csv").get_data(as_text=True))))
    assert [row["person"] for row in people] == ["p1", "p2", "p3", "p4"]


def test_embeddings_are_stored_for_people_jobs_only_and_deleted_with_the_job(client, stack):
    job, _ = submit_people(client)
    assert stored_embeddings(stack.database_url, job["id"]) == job["counts"]["faces"] == 8
    plain = wait_job(client, post_files(client, photos()).get_json()["id"])
    assert plain["people"] is False and plain["people_status"] is None and plain["counts"]["faces"] == 8
    assert stored_embeddings(stack.database_url, plain["id"]) == 0
    assert all(face["person"] is None for image in all_results(client, plain["id"]) for face in image["faces"])
    assert client.get(f"/v1/jobs/{plain['id']}/people").status_code == 409
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert stored_embeddings(stack.database_url, job["id"]) == 0


def test_purge_removes_the_embeddings(client, stack):
    job, _ = submit_people(client)
    assert stored_embeddings(stack.database_url, job["id"]) == 8
    engine = create_engine(stack.database_url)
    with engine.begin() as connection:
        connection.execute(
            update(Job).where(Job.id == job["id"]).values(created_at=Job.created_at - timedelta(days=40))
        )
    engine.dispose()
    result = subprocess.run(
        [sys.executable, "-m", "whoru.cli", "purge", "--older-than", "30"],
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert stored_embeddings(stack.database_url, job["id"]) == 0


def test_people_must_be_a_boolean(client):
    response = client.post("/v1/jobs", json={"open": True, "people": "yes"})
    assert response.status_code == 400 and "people" in response.get_json()["error"]["message"]
