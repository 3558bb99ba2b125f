"""`whoru submit` sends a job part by part: folders past the server's request limit, a killed
client resumed, zip archives as they are, and names that never collide."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.utils.jobs import PHOTOS
from tests.utils.waiting import alive, wait_until

PHOTO_FILES = sorted(PHOTOS.glob("*.jpg"))
MAX_REQUEST = 1_200_000


def submit(*args: str, served) -> subprocess.Popen:
    """Start `whoru submit` with arguments, as a user of that service would."""
    return subprocess.Popen(
        [sys.executable, "-m", "whoru.cli", "submit", *args],
        cwd=served.folder,
        env=served.env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def make_folder(folder, copies: int):
    """Fill a folder (with a subfolder) with copies of the fixture photos; return it."""
    for i in range(copies):
        source = PHOTO_FILES[i % len(PHOTO_FILES)]
        target = folder / f"set{i % 3}" / f"{i:03d}-{source.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return folder


def api(url: str, path: str, key: str) -> dict:
    """GET a JSON document from the API."""
    request = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture()
def small_server(serve):
    """A server that refuses any request over 1.2 MB."""
    return serve(WHORU_MAX_UPLOAD_BYTES=str(MAX_REQUEST))


def test_a_folder_larger_than_one_request_goes_as_several_parts(small_server, tmp_path):
    folder = make_folder(tmp_path / "photos", 90)
    assert sum(p.stat().st_size for p in folder.rglob("*.jpg")) > 2 * MAX_REQUEST
    out = tmp_path / "out.csv"
    run = submit(
        str(folder),
        "--server",
        small_server.url,
        "--part-mb",
        "1",
        "--wait",
        "--quiet",
        "--csv",
        str(out),
        served=small_server,
    )
    _, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    job_id = err.split("job ", 1)[1].split()[0]
    key = small_server.key
    parts = api(small_server.url, f"/v1/jobs/{job_id}/parts", key)["parts"]
    assert len(parts) >= 3 and all(part["bytes"] <= MAX_REQUEST for part in parts)
    rows = list(csv.DictReader(out.open()))
    assert {row["image"] for row in rows} == {p.relative_to(folder).as_posix() for p in folder.rglob("*.jpg")}


def test_a_killed_submit_resumes_without_sending_parts_again(small_server, tmp_path):
    folder = make_folder(tmp_path / "photos", 180)
    key = small_server.key
    first = submit(str(folder), "--server", small_server.url, "--part-mb", "1", "--quiet", served=small_server)
    job_id = _job_id_from(first)
    had = _kill_after_parts(first, small_server.url, job_id, key, 2)
    assert api(small_server.url, f"/v1/jobs/{job_id}", key)["open"] is True
    second = submit(
        str(folder),
        "--server",
        small_server.url,
        "--part-mb",
        "1",
        "--quiet",
        "--resume",
        job_id,
        "--wait",
        served=small_server,
    )
    _, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    parts = api(small_server.url, f"/v1/jobs/{job_id}/parts", key)["parts"]
    assert f"{had} parts were already on the server, {len(parts) - had} sent" in err
    images = _all_images(small_server.url, job_id, key)
    assert sorted(image["name"] for image in images) == sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*.jpg")
    )
    assert all(image["status"] in ("done", "no_face") for image in images)
    log = (small_server.folder / "serve.log").read_text()
    assert all(log.count(f"job={job_id} part={part['n']} stored") == 1 for part in parts)


def test_a_changed_folder_is_reported_on_resume(small_server, tmp_path):
    folder = make_folder(tmp_path / "photos", 180)
    key = small_server.key
    first = submit(str(folder), "--server", small_server.url, "--part-mb", "1", "--quiet", served=small_server)
    job_id = _job_id_from(first)
    _kill_after_parts(first, small_server.url, job_id, key, 2)
    shutil.copyfile(PHOTO_FILES[0], folder / "set0" / "000-a-new-photo.jpg")
    again = submit(str(folder), "--server", small_server.url, "--part-mb", "1", "--resume", job_id, served=small_server)
    _, err = again.communicate(timeout=300)
    assert again.returncode != 0 and "the files changed since the first run" in err


def test_a_zip_named_on_the_command_line_is_sent_as_it_is(serve, tmp_path):
    served = serve()
    archive = shutil.make_archive(str(tmp_path / "holiday"), "zip", make_folder(tmp_path / "photos", 4))
    (tmp_path / "notes.txt").write_text("not a photo")
    out = tmp_path / "out.json"
    run = submit(
        archive,
        str(tmp_path / "notes.txt"),
        "--server",
        served.url.removeprefix("http://"),
        "--wait",
        "--quiet",
        "--json",
        str(out),
        "--model",
        "fast",
        served=served,
    )
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert "notes.txt: not an image or a zip archive" in err and "0 images, 1 zip archives; 1 files skipped" in err
    document = json.loads(out.read_text())
    assert document["job"]["model"]["name"] == "fast"
    assert sorted(image["name"] for image in document["images"]) == sorted(
        f"holiday.zip/set{i % 3}/{i:03d}-{PHOTO_FILES[i % len(PHOTO_FILES)].name}" for i in range(4)
    )


def test_zips_with_non_ascii_and_quoted_names_keep_their_names(serve, tmp_path):
    served = serve()
    names = ["名前.zip", 'a"b.zip']
    archive = shutil.make_archive(str(tmp_path / "archive"), "zip", make_folder(tmp_path / "photos", 1))
    for name in names:
        shutil.copyfile(archive, tmp_path / name)
    out = tmp_path / "out.json"
    run = submit(
        *(str(tmp_path / name) for name in names),
        "--server",
        served.url,
        "--wait",
        "--quiet",
        "--json",
        str(out),
        served=served,
    )
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    job = json.loads(out.read_text())["job"]
    parts = api(served.url, f"/v1/jobs/{job['id']}/parts", served.key)["parts"]
    assert sorted(part["name"] for part in parts) == sorted(names)


def test_two_folders_keep_their_names_and_clashing_files_are_refused(serve, tmp_path):
    served = serve()
    for name, photo in (("dA", PHOTO_FILES[0]), ("dB", PHOTO_FILES[1])):
        (tmp_path / name).mkdir()
        shutil.copyfile(photo, tmp_path / name / "img.jpg")
    out = tmp_path / "out.csv"
    run = submit(
        str(tmp_path / "dA"), str(tmp_path / "dB"), "--server", served.url, "--csv", str(out), "--quiet", served=served
    )
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert {row["image"] for row in csv.DictReader(out.open())} == {"dA/img.jpg", "dB/img.jpg"}
    clash = submit(
        str(tmp_path / "dA" / "img.jpg"), str(tmp_path / "dB" / "img.jpg"), "--server", served.url, served=served
    )
    _, err = clash.communicate(timeout=60)
    assert clash.returncode != 0 and "'img.jpg'" in err and "job " not in err


def _job_id_from(process: subprocess.Popen) -> str:
    """Read the job id from the `job <id> open` line, which comes before the first part."""
    for line in process.stderr:
        if line.startswith("job ") and line.rstrip().endswith(" open"):
            return line.split()[1]
    raise AssertionError("whoru submit never said which job it opened")


def _kill_after_parts(process: subprocess.Popen, url: str, job_id: str, key: str, parts: int) -> int:
    """SIGKILL the client once the server has `parts` parts; return how many it has then."""
    wait_until(
        lambda: alive(process) and len(api(url, f"/v1/jobs/{job_id}/parts", key)["parts"]) >= parts,
        120,
        0.01,
        lambda: f"the server never had {parts} parts",
    )
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    # A part whose body had fully arrived is still committed after the client is gone; give that request time to end.
    time.sleep(0.5)
    return len(api(url, f"/v1/jobs/{job_id}/parts", key)["parts"])


def _all_images(url: str, job_id: str, key: str) -> list[dict]:
    """Return every image result of a job."""
    images, token = [], ""
    while True:
        page = api(url, f"/v1/jobs/{job_id}/results?page_size=1000" + (f"&page_token={token}" if token else ""), key)
        images += page["images"]
        token = page["next_page_token"]
        if not token:
            return images
