"""Hostile or broken uploads get a clear 4xx or a per-image code, and the service keeps serving."""

from __future__ import annotations

import csv
import io
import stat
import zipfile

import pytest
from urllib3 import encode_multipart_formdata

from tests.conftest import stack_env
from tests.utils.jobs import PHOTOS, all_results, keyed_client, make_zip, post_files, wait_job
from whoru.api import create_app

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()


@pytest.fixture()
def small_limits(stack, tmp_path):
    """A client whose API has tiny upload limits, on the shared stack's database and broker."""
    env = stack_env(
        stack.database_url,
        stack.env["WHORU_REDIS_URL"],
        tmp_path / "storage",
        WHORU_MAX_UPLOAD_BYTES="200000",
        WHORU_MAX_PARTS="3",
        WHORU_MAX_ZIP_ENTRIES="5",
    )
    return keyed_client(create_app({"TESTING": True, "environ": env}), stack.database_url), tmp_path


def test_oversized_upload_is_refused_before_the_body_is_read(small_limits):
    client, folder = small_limits
    response = post_files(client, [("big.jpg", b"\xff" * 300_000)])
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "request_entity_too_large"
    assert not any((folder / "storage").rglob("*.bin"))


def test_too_many_parts_is_413(small_limits):
    client, _ = small_limits
    response = post_files(client, [(f"{i}.jpg", PHOTO[:100]) for i in range(4)])
    assert response.status_code == 413


def test_a_zip_of_too_many_entries_is_413(small_limits):
    client, _ = small_limits
    response = post_files(client, [("many.zip", make_zip({f"{i}.jpg": PHOTO[:100] for i in range(6)}))])
    assert (response.status_code, response.get_json()["error"]["code"]) == (413, "too_many_entries")


def test_hostile_zip_entries_are_reported_per_entry(client, stack):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ok.jpg", PHOTO)
        archive.writestr("../escape.jpg", PHOTO)
        archive.writestr("/etc/abs.jpg", PHOTO)
        archive.writestr("C:/windows.jpg", PHOTO)
        link = zipfile.ZipInfo("link.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("inner.zip", make_zip({"a.jpg": PHOTO}))
        archive.writestr("tiny.png", _png(1, 1))
        archive.writestr("=HYPERLINK(1).jpg", PHOTO)
    job_id = post_files(client, [("hostile.zip", buffer.getvalue())]).get_json()["id"]
    job = wait_job(client, job_id)
    assert job["status"] == "succeeded"
    results = {i["name"]: i for i in all_results(client, job_id, page_size=50)}
    codes = {name.removeprefix("hostile.zip/"): (i["error"] or {}).get("code") for name, i in results.items()}
    assert codes == {
        "ok.jpg": None,
        "../escape.jpg": "unsafe_path",
        "/etc/abs.jpg": "unsafe_path",
        "C:/windows.jpg": "unsafe_path",
        "link.jpg": "symlink",
        "inner.zip": "nested_archive",
        "tiny.png": None,
        "=HYPERLINK(1).jpg": None,
    }
    assert results["hostile.zip/tiny.png"]["status"] == "no_face" and results["hostile.zip/tiny.png"]["faces"] == []
    storage = stack.env["WHORU_STORAGE_DIR"]
    assert not list(__import__("pathlib").Path(storage).parent.glob("escape.jpg"))
    csv_text = client.get(f"/v1/jobs/{job_id}/results.csv").get_data(as_text=True)
    # Under its zip's name, a member's name cannot open a cell with a formula.
    assert "hostile.zip/=HYPERLINK(1).jpg" in {row["image"] for row in csv.DictReader(io.StringIO(csv_text))}


def test_a_zip_that_is_not_a_zip_is_400(client):
    response = post_files(client, [("broken.zip", b"PK\x03\x04 but nothing else")])
    assert response.status_code == 400


def test_giant_and_truncated_images_fail_alone(client):
    giant = _png(20_000, 20_000)
    truncated = PHOTO[: len(PHOTO) // 2]
    job_id = post_files(client, [("giant.png", giant), ("cut.jpg", truncated), ("ok.jpg", PHOTO)]).get_json()["id"]
    wait_job(client, job_id)
    codes = {i["name"]: (i["error"] or {}).get("code") for i in all_results(client, job_id)}
    assert codes == {"giant.png": "too_many_pixels", "cut.jpg": "corrupt_image", "ok.jpg": None}
    assert client.get("/healthz").status_code == 200


def _png(width: int, height: int) -> bytes:
    """Return a small-on-disk grayscale PNG of the given size."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def test_per_key_limits_answer_429(stack, tmp_path):
    env = stack_env(
        stack.database_url,
        stack.env["WHORU_REDIS_URL"],
        tmp_path / "storage",
        WHORU_KEY_MAX_JOBS_IN_FLIGHT="1",
        WHORU_KEY_MAX_IMAGES_PER_JOB="3",
    )
    client = keyed_client(create_app({"TESTING": True, "environ": env}), stack.database_url)
    too_big = post_files(client, [("many.zip", make_zip({f"{i}.jpg": PHOTO for i in range(4)}))])
    assert too_big.status_code == 429 and int(too_big.headers["Retry-After"]) > 0
    assert too_big.get_json()["error"]["code"] == "too_many_requests"
    first = post_files(client, [(f"{i}.jpg", PHOTO) for i in range(3)])
    assert first.status_code == 202
    job_id = first.get_json()["id"]
    wait_job(client, job_id)
    _set_status(stack.database_url, job_id, "running")
    assert post_files(client, [("x.jpg", PHOTO)]).status_code == 429
    _set_status(stack.database_url, job_id, "succeeded")
    assert post_files(client, [("x.jpg", PHOTO)]).status_code == 202


def test_per_key_upload_bytes_answer_429_before_storing(stack, tmp_path):
    env = stack_env(
        stack.database_url,
        stack.env["WHORU_REDIS_URL"],
        tmp_path / "storage",
        WHORU_KEY_MAX_UPLOAD_BYTES=str(3 * len(PHOTO)),
    )
    client = keyed_client(create_app({"TESTING": True, "environ": env}), stack.database_url)
    first = post_files(client, [("a.jpg", PHOTO)])
    assert first.status_code == 202
    job_id = first.get_json()["id"]
    wait_job(client, job_id)
    _set_status(stack.database_url, job_id, "running")
    stored = sorted((tmp_path / "storage").rglob("*.bin"))
    refused = post_files(client, [("b.jpg", PHOTO), ("c.jpg", PHOTO)])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "bytes of uploads waiting" in refused.get_json()["error"]["message"]
    assert sorted((tmp_path / "storage").rglob("*.bin")) == stored
    _set_status(stack.database_url, job_id, "succeeded")
    assert post_files(client, [("b.jpg", PHOTO), ("c.jpg", PHOTO)]).status_code == 202


def test_per_key_upload_bytes_hold_for_chunked_uploads_without_content_length(stack, tmp_path):
    env = stack_env(
        stack.database_url,
        stack.env["WHORU_REDIS_URL"],
        tmp_path / "storage",
        WHORU_KEY_MAX_UPLOAD_BYTES=str(5 * len(PHOTO) // 2),
    )
    app = create_app({"TESTING": True, "environ": env})
    app.wsgi_app = _as_chunked(app.wsgi_app)
    client = keyed_client(app, stack.database_url)
    job_id = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    wait_job(client, job_id)
    _set_status(stack.database_url, job_id, "running")
    stored = sorted((tmp_path / "storage").rglob("*.bin"))
    refused = _post_chunked(client, [("b.jpg", PHOTO), ("c.jpg", PHOTO)])
    assert refused.status_code == 429 and "bytes of uploads waiting" in refused.get_json()["error"]["message"]
    assert sorted((tmp_path / "storage").rglob("*.bin")) == stored
    assert _post_chunked(client, [("b.jpg", PHOTO)]).status_code == 202


def _as_chunked(wsgi_app):
    """Wrap an app so every request reaches it as gunicorn hands over a chunked one: no Content-Length."""

    def without_length(environ, start_response):
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
        return wsgi_app(environ, start_response)

    return without_length


def _post_chunked(client, files: list[tuple[str, bytes]]):
    """POST files as a multipart body through the chunked-request wrapper."""
    body, content_type = encode_multipart_formdata([("file", (name, content, "image/jpeg")) for name, content in files])
    return client.post("/v1/jobs", data=body, content_type=content_type)


def _set_status(database_url: str, job_id: str, status: str) -> None:
    """Force a job's status, as if it were still in flight or had ended."""
    from sqlalchemy import create_engine, update

    from whoru.db.schema import Job

    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(update(Job).where(Job.id == job_id).values(status=status))
    engine.dispose()
