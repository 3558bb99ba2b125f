"""Both stores behave alike (put, open seekable, read, delete; S3 on moto's real server); job files go by key."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from tests.utils.s3 import AWS_ENV, keys, s3_client, start_moto_server
from whoru.settings import Settings
from whoru.storage import open_store
from whoru.storage.folder import FileStore
from whoru.storage.keys import job_prefix, part_key, preview_key, remove_deleted_job_files, remove_job_files
from whoru.upload_entries import ZipLimits, open_upload

LIMITS = ZipLimits(max_entries=100, max_total_bytes=10**9, max_ratio=200, max_entry_bytes=10**8)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """Yield the URL of a moto S3 server with a bucket `photos`."""
    process, url = start_moto_server(tmp_path_factory.mktemp("moto") / "moto.log")
    s3_client(url).create_bucket(Bucket="photos")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_ENV.items():
            patch.setenv(name, value)
        yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.slow)])
def store(request, tmp_path):
    """Return a folder store and an S3 store (each on a fresh prefix)."""
    if request.param == "file":
        return open_store(Settings.from_env({"WHORU_STORAGE_DIR": str(tmp_path / "storage")}))
    endpoint = request.getfixturevalue("endpoint")
    return open_store(
        Settings.from_env(
            {
                "WHORU_STORAGE_URL": f"s3://photos/{tmp_path.name}",
                "WHORU_S3_ENDPOINT_URL": endpoint,
                "WHORU_STORAGE_DIR": str(tmp_path / "scratch"),
            }
        )
    )


def spooled(store, data: bytes):
    """Return a local file in the store's spool folder holding data."""
    store.incoming.mkdir(parents=True, exist_ok=True)
    path = store.incoming / "part-test"
    path.write_bytes(data)
    return path


def test_put_open_read_delete(store):
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = spooled(store, data)
    store.put_file("jobs/j/00000.bin", path)
    assert not path.exists()
    with store.open("jobs/j/00000.bin") as file:
        file.seek(1024 * 1024 + 5)
        assert file.read(10) == data[1024 * 1024 + 5 : 1024 * 1024 + 15]
        file.seek(-7, io.SEEK_END)
        assert file.read() == data[-7:]
    store.put_bytes("previews/j/0.jpg", b"jpeg")
    assert store.read("previews/j/0.jpg") == b"jpeg" and store.read("previews/j/1.jpg") is None
    store.delete_prefix("jobs/j/")
    with pytest.raises(FileNotFoundError):
        store.open("jobs/j/00000.bin")
    store.delete("previews/j/0.jpg")
    assert store.read("previews/j/0.jpg") is None


def test_zip_members_are_read_through_the_store(store):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.jpg", b"first" * 1000)
        archive.writestr("b/c.jpg", os.urandom(2 * 1024 * 1024))
    store.put_file("jobs/z/00000.bin", spooled(store, buffer.getvalue()))
    with zipfile.ZipFile(buffer) as archive:
        expected = [archive.read(info) for info in archive.infolist()]
    with open_upload(store, "jobs/z/00000.bin", "zip", LIMITS) as source:
        assert [source.read(1), source.read(0)] == [expected[1], expected[0]]


def test_a_large_part_goes_up_in_parts_under_the_prefix(store, tmp_path):
    if not hasattr(store, "bucket"):
        pytest.skip("multipart uploads are an S3 matter")
    data = os.urandom(40 * 1024 * 1024)
    store.put_file("jobs/big/00000.bin", spooled(store, data))
    assert keys(store.client.meta.endpoint_url, "photos", f"{tmp_path.name}/jobs/big/") == [
        f"{tmp_path.name}/jobs/big/00000.bin"
    ]
    head = store.client.head_object(Bucket="photos", Key=f"{tmp_path.name}/jobs/big/00000.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].strip('"').endswith("-3")


def test_a_storage_url_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="WHORU_STORAGE_URL"):
        Settings.from_env({"WHORU_STORAGE_URL": "ftp://example.com/photos"})


def test_the_store_keeps_a_prefix_only_when_the_block_succeeds(tmp_path):
    store = FileStore(tmp_path)
    with store.kept_if_committed(job_prefix("kept")):
        store.put_bytes(part_key("kept", 0), b"part")
    with pytest.raises(KeyboardInterrupt), store.kept_if_committed(job_prefix("lost")):
        store.put_bytes(part_key("lost", 0), b"part")
        raise KeyboardInterrupt
    assert store.read(part_key("kept", 0)) == b"part" and store.read(part_key("lost", 0)) is None
    assert not (tmp_path / "jobs" / "lost").exists()


def test_the_folder_store_names_files_by_key_and_writes_whole_files(tmp_path):
    store = FileStore(tmp_path)
    assert (part_key("j", 7), preview_key("j", 3)) == ("jobs/j/00007.bin", "previews/j/3.jpg")
    store.put_bytes(preview_key("j", 3), b"old")
    store.put_bytes(preview_key("j", 3), b"new")
    assert os.listdir(tmp_path / "previews" / "j") == ["3.jpg"], "no partial file is left beside it"
    location = store.location(part_key("j", 0))
    assert location == str(tmp_path / "jobs" / "j" / "00000.bin")
    store.incoming.mkdir(parents=True)
    (store.incoming / "spool").write_bytes(b"part")
    store.put_file(location, store.incoming / "spool")
    assert store.read(part_key("j", 0)) == b"part" and not (store.incoming / "spool").exists()
    store.delete(location)
    assert store.read(location) is None
    store.delete(location)


def test_an_ended_job_loses_its_uploads_and_a_deleted_one_its_previews_too(tmp_path):
    store = FileStore(tmp_path)
    for job_id in ("ended", "deleted"):
        store.put_bytes(part_key(job_id, 0), b"part")
        store.put_bytes(preview_key(job_id, 0), b"jpeg")
    remove_job_files(store, "ended")
    remove_deleted_job_files(store, "deleted")
    assert [store.read(part_key("ended", 0)), store.read(preview_key("ended", 0))] == [None, b"jpeg"]
    assert [store.read(part_key("deleted", 0)), store.read(preview_key("deleted", 0))] == [None, None]
