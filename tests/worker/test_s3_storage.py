"""The whole service with S3 storage (moto's real server on loopback): nothing lands on local disk
but spooled request bodies, and uploads and previews come and go as they do in a folder."""

from __future__ import annotations

import io
import stat
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import stack_env
from tests.utils.jobs import PHOTOS, all_results, keyed_client, make_zip, open_job, post_files, put_part, wait_job
from tests.utils.s3 import AWS_ENV, keys, s3_client, start_moto_server
from tests.utils.services import ROOT, Worker, start_embedded_redis
from tests.utils.waiting import wait_until
from whoru.api import create_app

PHOTO = (PHOTOS / "fr_obama_small.jpg").read_bytes()
BUCKET = "whoru-test"


@pytest.fixture(scope="module")
def s3_stack(database_url, tmp_path_factory):
    """Yield a client, the environment and a key lister of a deployment that keeps everything in S3."""
    folder = tmp_path_factory.mktemp("s3")
    moto, endpoint = start_moto_server(folder / "moto.log")
    s3_client(endpoint).create_bucket(Bucket=BUCKET)
    server, redis_url = start_embedded_redis(folder)
    env = stack_env(
        database_url,
        redis_url,
        folder / "scratch",
        WHORU_STORAGE_URL=f"s3://{BUCKET}/deploy",
        WHORU_S3_ENDPOINT_URL=endpoint,
        **AWS_ENV,
    )
    worker = Worker(env, folder / "worker.log").start()
    client = keyed_client(create_app({"TESTING": True, "environ": env}), database_url)
    # The API in this process finds its credentials the standard AWS way too.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_ENV.items():
            patch.setenv(name, value)
        yield client, env, lambda prefix: keys(endpoint, BUCKET, f"deploy/{prefix}")
    worker.stop()
    server.shutdown()
    moto.terminate()
    moto.wait(10)


def uploads_removed(listed, job_id: str) -> bool:
    """Wait until an ended job's uploads are gone: the worker removes them just after it records the end."""
    return wait_until(lambda: listed(f"jobs/{job_id}/") == [], 30, 0.2, lambda: f"left: {listed(f'jobs/{job_id}/')}")


def test_a_single_image(s3_stack):
    client, env, listed = s3_stack
    job_id = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    assert wait_job(client, job_id)["status"] == "succeeded"
    assert all_results(client, job_id)[0]["faces"]
    assert uploads_removed(listed, job_id) and listed(f"previews/{job_id}/") == [f"deploy/previews/{job_id}/0.jpg"]
    preview = client.get(f"/v1/jobs/{job_id}/images/0/preview")
    assert preview.status_code == 200 and preview.data[:2] == b"\xff\xd8"
    local = ROOT.joinpath(env["WHORU_STORAGE_DIR"])
    assert not (local / "jobs").exists() and not (local / "previews").exists()


def test_a_zip_with_hostile_entries(s3_stack):
    client, _, _ = s3_stack
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ok.jpg", PHOTO)
        archive.writestr("deep/er/two.jpg", PHOTO)
        archive.writestr("../escape.jpg", PHOTO)
        link = zipfile.ZipInfo("link.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("inner.zip", make_zip({"a.jpg": PHOTO}))
        archive.writestr("bomb.jpg", b"\0" * 5_000_000, compress_type=zipfile.ZIP_DEFLATED)
    job_id = post_files(client, [("hostile.zip", buffer.getvalue())]).get_json()["id"]
    assert wait_job(client, job_id)["status"] == "succeeded"
    codes = {
        i["name"].removeprefix("hostile.zip/"): (i["error"] or {}).get("code")
        for i in all_results(client, job_id, page_size=50)
    }
    assert codes == {
        "ok.jpg": None,
        "deep/er/two.jpg": None,
        "../escape.jpg": "unsafe_path",
        "link.jpg": "symlink",
        "inner.zip": "nested_archive",
        "bomb.jpg": "too_large",
    }


def test_parts_then_cancel_and_delete(s3_stack):
    client, _, listed = s3_stack
    job_id = open_job(client)["id"]
    assert put_part(client, job_id, 0, make_zip({"a.jpg": PHOTO, "b.jpg": PHOTO})).status_code == 201
    assert put_part(client, job_id, 1, PHOTO).status_code == 201
    assert [p["images"] for p in client.get(f"/v1/jobs/{job_id}/parts").get_json()["parts"]] == [2, 1]
    client.post(f"/v1/jobs/{job_id}/close")
    assert wait_job(client, job_id)["counts"]["images_done"] == 3
    assert uploads_removed(listed, job_id) and len(listed(f"previews/{job_id}/")) == 3
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert listed(f"previews/{job_id}/") == []

    other = open_job(client)["id"]
    put_part(client, other, 0, make_zip({f"{i}.jpg": PHOTO for i in range(6)}))
    assert client.post(f"/v1/jobs/{other}/cancel").get_json()["status"] == "canceled"
    assert listed(f"jobs/{other}/") == []


def test_retention_removes_previews(s3_stack):
    client, env, listed = s3_stack
    job_id = post_files(client, [("a.jpg", PHOTO)]).get_json()["id"]
    wait_job(client, job_id)
    assert listed(f"previews/{job_id}/")
    subprocess.run(
        [sys.executable, "-m", "whoru.cli", "purge", "--older-than", "0"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert listed(f"previews/{job_id}/") == [] and client.get(f"/v1/jobs/{job_id}").status_code == 404
