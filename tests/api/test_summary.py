"""A job's summary counts what its results say, and result filters pick the images a page would."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.utils.jobs import PHOTOS, all_results, keyed_client, make_zip, post_files, wait_job


@pytest.fixture(scope="module")
def finished(app, stack):
    """Return a client and a finished job of the shared photos (0 to 3 faces each) and one broken file."""
    client = keyed_client(app, stack.database_url)
    entries = {path.name: path.read_bytes() for path in sorted(PHOTOS.glob("*.jpg"))}
    entries["broken.jpg"] = b"not a jpeg"
    job_id = post_files(client, [("photos.zip", make_zip(entries))]).get_json()["id"]
    wait_job(client, job_id)
    return client, job_id, all_results(client, job_id, page_size=100)


def filtered(client, job_id: str, query: str) -> list[str]:
    """Return the names of the images a filtered listing gives, following its page tokens."""
    names, token = [], None
    while True:
        page = client.get(
            f"/v1/jobs/{job_id}/results?page_size=1&{query}" + (f"&page_token={token}" if token else "")
        ).get_json()
        names += [image["name"] for image in page["images"]]
        token = page["next_page_token"]
        if not token:
            return names


def test_the_summary_counts_what_the_results_hold(finished):
    client, job_id, images = finished
    faces = [face for image in images for face in image["faces"]]
    summary = client.get(f"/v1/jobs/{job_id}/summary").get_json()
    assert summary["faces"] == len(faces) == 6
    assert {row["label"]: row["count"] for row in summary["images"]} == {
        "pending": 0,
        "done": 3,
        "no_face": 1,
        "failed": 1,
    }
    for key, field in (
        ("genders", lambda f: f["gender"]["label"]),
        ("ethnicities", lambda f: f["ethnicity"]["label"]),
        ("age_bins", lambda f: f["age_bin"]),
    ):
        counted = Counter(field(face) for face in faces)
        assert {row["label"]: row["count"] for row in summary[key] if row["count"]} == counted, key
    decades = Counter(int(round(face["age"])) // 10 for face in faces)
    assert [row["count"] for row in summary["age_decades"]] == [decades.get(d, 0) for d in range(max(decades) + 1)]
    assert summary["age_decades"][1]["label"] == "10-19"


def test_each_filter_picks_the_images_with_a_matching_face(finished):
    client, job_id, images = finished
    for name, field in (
        ("gender", lambda f: f["gender"]["label"]),
        ("ethnicity", lambda f: f["ethnicity"]["label"]),
        ("age_bin", lambda f: f["age_bin"]),
    ):
        for value in {field(face) for image in images for face in image["faces"]}:
            expected = [image["name"] for image in images if any(field(face) == value for face in image["faces"])]
            assert filtered(client, job_id, f"{name}={value}") == expected, (name, value)
    assert filtered(client, job_id, "status=failed") == ["photos.zip/broken.jpg"]
    assert filtered(client, job_id, "status=no_face") == ["photos.zip/mtcnn_no-faces.jpg"]


def test_face_filters_must_hold_for_one_face(finished):
    client, job_id, images = finished
    face = next(face for image in images for face in image["faces"])
    query = f"gender={face['gender']['label']}&age_bin={face['age_bin']}"
    expected = [
        image["name"]
        for image in images
        if any(f["gender"] == face["gender"] and f["age_bin"] == face["age_bin"] for f in image["faces"])
    ]
    assert filtered(client, job_id, query) == expected
    assert filtered(client, job_id, "status=failed&gender=male") == []


def test_a_bad_filter_value_is_refused(finished):
    client, job_id, _ = finished
    response = client.get(f"/v1/jobs/{job_id}/results?gender=robot")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"]


def test_another_key_gets_404_for_the_summary(finished, app, stack):
    _, job_id, _ = finished
    assert keyed_client(app, stack.database_url).get(f"/v1/jobs/{job_id}/summary").status_code == 404
