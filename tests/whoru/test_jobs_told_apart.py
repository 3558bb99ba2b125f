"""Jobs a user can tell apart, through the CLI against `whoru serve`: unique image names for a zip and a
folder, labels, short ids, `whoru wait`, output files that are never overwritten by surprise, and
errors and hints that name the fix."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import urllib.request
import zipfile

from tests.utils.jobs import PHOTOS
from tests.utils.services import free_port
from whoru.client.http import Client
from whoru.client.packing import build, plan, scan

ONE = PHOTOS / "fr_obama_small.jpg"
THREE = PHOTOS / "dlib_2008_001322.jpg"
WAITED_PHOTOS = 150


def whoru(*args: str, served, **kwargs) -> subprocess.CompletedProcess:
    """Run a `whoru` command as a user of that service would, with pipes (not a terminal) for its output."""
    return subprocess.run(
        [sys.executable, "-m", "whoru.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=served.folder,
        env=served.env,
        **kwargs,
    )


def zipped(path, members: dict[str, object]):
    """Write a zip of files under member names; return its path."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, source in members.items():
            archive.write(source, name)
    return path


def test_a_zip_and_a_folder_with_a_same_named_photo_give_two_names_and_positions(serve, tmp_path):
    served = serve()
    dup = zipped(tmp_path / "dup.zip", {"ulfd_16.jpg": ONE})
    party = tmp_path / "photos" / "party"
    party.mkdir(parents=True)
    shutil.copyfile(THREE, party / "ulfd_16.jpg")
    shutil.copyfile(ONE, party / "dlib_2008_001322.jpg")
    out = tmp_path / "dup.csv"
    run = whoru("submit", str(dup), str(party), "--server", served.url, "--wait", "--csv", str(out), served=served)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(out.open()))
    faces = {}
    for row in rows:
        faces.setdefault((row["position"], row["image"]), []).append(row["face"])
    assert faces == {
        ("0", "dup.zip/ulfd_16.jpg"): ["0"],
        ("1", "party/dlib_2008_001322.jpg"): ["0"],
        ("2", "party/ulfd_16.jpg"): ["0", "1", "2"],
    }


def test_two_zips_with_one_member_name_give_two_names_and_two_zips_of_one_name_are_refused(serve, tmp_path):
    served = serve()
    a, b = zipped(tmp_path / "a.zip", {"x.jpg": ONE}), zipped(tmp_path / "b.zip", {"x.jpg": THREE})
    out = tmp_path / "out.json"
    run = whoru("submit", str(a), str(b), "--server", served.url, "--json", str(out), "--quiet", served=served)
    assert run.returncode == 0, run.stderr
    images = json.loads(out.read_text())["images"]
    assert [(image["name"], len(image["faces"])) for image in images] == [("a.zip/x.jpg", 1), ("b.zip/x.jpg", 3)]
    (tmp_path / "other").mkdir()
    again = zipped(tmp_path / "other" / "a.zip", {"x.jpg": THREE})
    clash = whoru("submit", str(a), str(again), "--server", served.url, served=served)
    assert clash.returncode != 0 and "'a.zip/x.jpg'" in clash.stderr and "job " not in clash.stderr


def test_a_label_short_ids_and_wait_on_a_running_job(serve, tmp_path):
    served = serve(WHORU_TASK_IMAGES="4")
    folder = tmp_path / "party"
    folder.mkdir()
    for i in range(12):
        shutil.copyfile(THREE, folder / f"p{i:02d}.jpg")
    sent = whoru("submit", str(folder), "--server", served.url, "--label", "holiday 2026", "--quiet", served=served)
    assert sent.returncode == 0, sent.stderr
    job_id = sent.stdout.split()[1]
    prefix = job_id[:8]
    out = tmp_path / "out.csv"
    waited = whoru("wait", prefix, "--server", served.url, "--csv", str(out), served=served)
    assert waited.returncode == 0, waited.stderr
    assert f"job {job_id} succeeded: 12 images done" in waited.stderr
    assert len({row["position"] for row in csv.DictReader(out.open())}) == 12
    # Piped, progress comes as plain lines: no carriage returns or escape codes in a log.
    assert "process " in waited.stderr and "\r" not in waited.stderr and "\x1b" not in waited.stderr
    status = whoru("status", prefix, "--server", served.url, served=served)
    assert (
        status.returncode == 0 and status.stdout.startswith(f"{job_id}  succeeded") and "holiday 2026" in status.stdout
    )
    results = whoru("results", prefix, "--server", served.url, served=served)
    assert results.returncode == 0 and results.stdout.startswith("position,image,face")
    ended = whoru("submit", str(folder), "--server", served.url, "--resume", prefix, served=served)
    assert ended.returncode != 0 and f"whoru wait {prefix}" in ended.stderr

    second = whoru("submit", str(ONE), "--server", served.url, "--quiet", served=served)
    assert second.returncode == 0, second.stderr
    listed = whoru("jobs", "--server", served.url, served=served).stdout.splitlines()
    assert listed[0].endswith(f"  {ONE}") and listed[1].endswith("  holiday 2026")
    _relabel(served, job_id, "summer 2026")
    assert whoru("jobs", "--server", served.url, served=served).stdout.splitlines()[1].endswith("  summer 2026")

    twin = _job_sharing_a_prefix(served, job_id)
    for command in ("status", "results", "wait"):
        refused = whoru(command, prefix, "--server", served.url, served=served)
        assert refused.returncode != 0 and job_id in refused.stderr and twin in refused.stderr, command


def test_outputs_are_kept_without_force_and_hints_name_what_the_user_typed(serve, tmp_path):
    served = serve(WHORU_TASK_IMAGES="1")
    out = tmp_path / "out.csv"
    out.write_text("keep me")
    refused = whoru("submit", str(THREE), "--server", served.url, "--csv", str(out), served=served)
    assert refused.returncode != 0 and "already exists" in refused.stderr and "--force" in refused.stderr
    assert out.read_text() == "keep me"
    assert whoru("jobs", "--server", served.url, served=served).stdout == ""  # refused before anything was sent
    folder = tmp_path / "many"
    folder.mkdir()
    # Enough photos that the job is still running when the first progress line comes, on a fast machine too.
    for i in range(WAITED_PHOTOS):
        shutil.copyfile(THREE, folder / f"p{i:03d}.jpg")
    waiting = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "whoru.cli",
            "submit",
            str(folder),
            "--server",
            served.url,
            "--csv",
            str(out),
            "--json",
            "mine.json",
            "--force",
        ],
        cwd=served.folder,
        env={**served.env, "PYTHONUNBUFFERED": "1"},
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    job_id = waiting.stdout.readline().split()[1]  # `job <id> <status>` once every part is sent
    # Interrupted once it waits: its first `process` line (plain, off a terminal) says so.
    assert any(line.startswith("process ") for line in waiting.stderr)
    waiting.send_signal(signal.SIGINT)
    _, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 130, err
    assert f"whoru wait {job_id[:8]} --server {served.url} --csv {out} --json mine.json" in err
    assert out.read_text() == "keep me"
    kept = whoru("results", job_id, "--server", served.url, "--partial", "--csv", str(out), served=served)
    assert kept.returncode != 0 and out.read_text() == "keep me"
    forced = whoru("wait", job_id, "--server", served.url, "--csv", str(out), "--force", "--quiet", served=served)
    assert forced.returncode == 0, forced.stderr
    assert len(out.read_text().splitlines()) == 1 + WAITED_PHOTOS * 3


def test_the_same_files_sent_while_a_job_of_them_is_unfinished_are_warned_about(serve, tmp_path):
    served = serve()
    folder = tmp_path / "party"
    folder.mkdir()
    for i in range(3):
        shutil.copyfile(THREE, folder / f"p{i}.jpg")
    # A submission interrupted after its first part went up: its job stays open, unfinished.
    first = _first_part_sent(served, folder, tmp_path)
    second = whoru("submit", str(folder), "--server", served.url, "--quiet", served=served)
    assert second.returncode == 0, second.stderr
    assert f"warning: job {first} " in second.stderr and "was sent the same files" in second.stderr
    other = whoru("submit", str(folder / "p0.jpg"), "--server", served.url, "--quiet", served=served)
    assert other.returncode == 0 and "warning" not in other.stderr


def test_errors_name_the_fix(serve, tmp_path):
    gone = f"http://127.0.0.1:{free_port()}"
    unreachable = subprocess.run(
        [sys.executable, "-m", "whoru.cli", "status", "12345678", "--server", gone, "--api-key", "any"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WHORU_HOME": str(tmp_path)},
    )
    assert f"cannot reach the server at {gone}/v1/jobs/12345678" in unreachable.stderr
    assert "whoru serve" in unreachable.stderr and "--server" in unreachable.stderr
    served = serve()
    bad_key = whoru("jobs", "--server", served.url, "--api-key", "whoru_wrong", served=served)
    assert bad_key.returncode != 0
    assert all(fix in bad_key.stderr for fix in ("--api-key", "WHORU_API_KEY", "whoru keys create"))
    where = whoru("keys", "path", served=served)
    assert (
        where.stdout.strip()
        == str(served.folder / "var" / "api-key")
        == os.path.join(served.env["WHORU_HOME"], "api-key")
    )


def _relabel(served, job_id: str, label: str) -> None:
    """Change a job's label with PATCH /v1/jobs/{id}, as any HTTP client would."""
    request = urllib.request.Request(
        f"{served.url}/v1/jobs/{job_id}",
        data=json.dumps({"label": label}).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {served.key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.load(response)["label"] == label


def _job_sharing_a_prefix(served, job_id: str) -> str:
    """Add a job of the same key whose id starts with the same 9 characters; return its id."""
    twin = job_id[:9] + ("0000" if job_id[9:13] != "0000" else "1111") + job_id[13:]
    with sqlite3.connect(served.folder / "var" / "whoru.db") as database:
        database.execute(
            "INSERT INTO jobs (id, status, open, created_at, active_at, model_name, model_version, images_total,"
            " api_key_id, webhook_attempts, try_it) SELECT ?, 'queued', 1, created_at, active_at, model_name,"
            " model_version, 0, api_key_id, 0, 0 FROM jobs WHERE id = ?",
            (twin, job_id),
        )
    return twin


def _first_part_sent(served, folder, scratch) -> str:
    """Open a job and send it the first part `whoru submit` makes of a folder, as an interrupted submit leaves it."""
    client = Client(served.url, served.key)
    job_id = client.open_job()["id"]
    part = next(plan(scan([folder]).items, 1 << 30))
    with build(part, scratch) as (path, sha256):
        client.put_part(job_id, 0, path, sha256, part.name, packed=True)
    return job_id
