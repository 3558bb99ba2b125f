"""Previews: one small upright JPEG per decoded image, to the owner only, gone with the job, off on request."""

from __future__ import annotations

import io
import signal
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import stack_env
from tests.utils.jobs import PHOTOS, all_results, keyed_client, make_zip, post_files, wait_job
from tests.utils.services import Worker, start_embedded_redis
from tests.utils.waiting import wait_until
from whoru.api import create_app
from whoru.storage.keys import preview_key

PHOTO = (PHOTOS / "dlib_2008_001322.jpg").read_bytes()


def rotated_photo() -> bytes:
    """Return the photo stored sideways with an EXIF orientation that puts it upright, and 1600 px wide."""
    image = Image.open(io.BytesIO(PHOTO)).resize((1600, 1200)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_each_decoded_image_has_an_upright_preview_at_most_640_px(client, stack):
    zipped = make_zip({"sideways.jpg": rotated_photo(), "broken.jpg": b"not a jpeg"})
    job_id = post_files(client, [("a.zip", zipped)]).get_json()["id"]
    wait_job(client, job_id)
    sideways, broken = all_results(client, job_id)
    response = client.get(f"/v1/jobs/{job_id}/images/{sideways['position']}/preview")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "private" in response.headers["Cache-Control"]
    preview = Image.open(io.BytesIO(response.data))
    assert (sideways["width"], sideways["height"]) == (1600, 1200)
    assert preview.size == (640, 480)
    assert client.get(f"/v1/jobs/{job_id}/images/{broken['position']}/preview").status_code == 404


def test_a_preview_is_for_its_owner_only(client, app, stack):
    job_id = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    wait_job(client, job_id)
    assert client.get(f"/v1/jobs/{job_id}/images/0/preview").status_code == 200
    assert keyed_client(app, stack.database_url).get(f"/v1/jobs/{job_id}/images/0/preview").status_code == 404
    assert app.test_client().get(f"/v1/jobs/{job_id}/images/0/preview").status_code == 401


def test_previews_are_deleted_with_the_job(client, stack):
    job_id = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    wait_job(client, job_id)
    path = Path(stack.env["WHORU_STORAGE_DIR"]) / preview_key(job_id, 0)
    assert path.is_file()
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert not path.parent.exists()


@pytest.fixture()
def previews_off(database_url, tmp_path):
    """Yield a client of a deployment of its own (own Redis, own worker) with WHORU_PREVIEWS=false."""
    server, redis_url = start_embedded_redis(tmp_path)
    env = stack_env(database_url, redis_url, tmp_path / "storage", WHORU_PREVIEWS="false")
    worker = Worker(env, tmp_path / "worker.log").start()
    yield keyed_client(create_app({"TESTING": True, "environ": env}), database_url), tmp_path / "storage"
    worker.stop(signal.SIGKILL)
    server.shutdown()


def test_previews_can_be_turned_off(previews_off):
    client, storage = previews_off
    job_id = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    wait_job(client, job_id)
    assert all_results(client, job_id)[0]["faces"]
    assert client.get(f"/v1/jobs/{job_id}/images/0/preview").status_code == 404
    assert not (storage / "previews").exists()


def test_a_job_deleted_while_running_leaves_no_previews(client, stack):
    job_id = post_files(client, [(f"p{i}.jpg", PHOTO) for i in range(12)]).get_json()["id"]
    folder = (Path(stack.env["WHORU_STORAGE_DIR"]) / preview_key(job_id, 0)).parent
    wait_until(folder.exists, 120, 0.05, lambda: f"no preview of job {job_id} was written")
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    # A task caught mid-way may write previews after the delete; it removes them once it finds the job gone.
    # The one worker process runs tasks in the order they were queued: once a later job has ended, so has that task.
    wait_job(client, post_files(client, [("later.jpg", PHOTO)]).get_json()["id"])
    assert not folder.exists()
