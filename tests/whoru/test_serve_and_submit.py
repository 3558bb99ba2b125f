"""`whoru serve` brings the whole service up; `whoru submit` drives it; SIGTERM leaves nothing behind."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import MODEL, ROOT
from tests.utils.jobs import PHOTOS
from tests.utils.people import photos
from tests.utils.services import free_port
from whoru.cli.serve import wait_ready

TRUTH = json.loads((PHOTOS / "faces.json").read_text())


@pytest.fixture()
def served(serve):
    """Run `whoru serve` with only embedded defaults in an empty folder."""
    return serve()


def test_submit_waits_and_writes_csv_and_json_then_serve_stops_cleanly(served, tmp_path):
    url, process, folder = served.url, served.process, served.folder
    assert (folder / "var" / "whoru.db").exists()
    assert (folder / "var" / "api-key").read_text().startswith("whoru_")
    children = psutil.Process(process.pid).children(recursive=True)
    assert len(children) >= 3
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "out.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "whoru.cli",
            "submit",
            str(PHOTOS),
            "--server",
            url,
            "--wait",
            "--csv",
            str(out_csv),
            "--json",
            str(out_json),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
        env=served.env,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out_csv.open()))
    per_image = {name: sum(1 for r in rows if r["image"] == name and r["face"] != "") for name in TRUTH}
    for name, truth in TRUTH.items():
        assert abs(per_image[name] - truth["faces"]) <= 1, name
    assert {r["image"] for r in rows} == set(TRUTH)
    document = json.loads(out_json.read_text())
    assert document["job"]["status"] == "succeeded"
    assert [i["name"] for i in document["images"]] == sorted(TRUTH)
    submit_people_and_read_the_people_csv(served, tmp_path)
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    for child in children:
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, child


def submit_people_and_read_the_people_csv(served, tmp_path) -> None:
    """Submit a people job with --people-csv, then fetch the same table again with `whoru results`."""
    folder = tmp_path / "people"
    folder.mkdir()
    for name, data in photos():
        (folder / name).write_bytes(data)
    first, again = tmp_path / "people.csv", tmp_path / "again.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "whoru.cli",
            "submit",
            str(folder),
            "--server",
            served.url,
            "--people",
            "--wait",
            "--people-csv",
            str(first),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=served.folder,
        env=served.env,
    )
    assert result.returncode == 0, result.stderr
    assert [row["person"] for row in csv.DictReader(first.open())] == ["p1", "p2", "p3", "p4"]
    job_id = result.stdout.split()[1]
    result = subprocess.run(
        [sys.executable, "-m", "whoru.cli", "results", job_id, "--server", served.url, "--people-csv", str(again)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=served.folder,
        env=served.env,
    )
    assert result.returncode == 0, result.stderr
    assert again.read_text() == first.read_text()


def test_submit_reports_an_unreachable_server(tmp_path):
    # A key of its own: without one, submit stops first on the missing key, wherever the home is.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "whoru.cli",
            "submit",
            str(PHOTOS),
            "--server",
            f"http://127.0.0.1:{free_port()}",
            "--api-key",
            "any",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WHORU_HOME": str(tmp_path)},
    )
    assert result.returncode != 0 and "cannot reach the server" in result.stderr


def test_sigterm_during_a_job_hands_its_task_back_quietly_and_the_next_start_finishes_it(serve, tmp_path):
    # One task for all 40 photos, so that the stop finds it running.
    served = serve(WHORU_TASK_IMAGES="40")
    photo = PHOTOS / "dlib_2008_001322.jpg"
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        (folder / f"p{i:02d}.jpg").write_bytes(photo.read_bytes())
    sent = subprocess.run(
        [sys.executable, "-m", "whoru.cli", "submit", str(folder), "--server", served.url, "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        env=served.env,
    )
    assert sent.returncode == 0, sent.stderr
    job_id = sent.stdout.split()[1]
    _wait_until_running(served, job_id)
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(60) == 0
    log = (served.folder / "serve.log").read_text()
    pending = _pending_images(served)
    assert "Traceback" not in log and "WorkerLostError" not in log and " ERROR " not in log
    if pending:
        # The task was stopped, not finished: it was handed back, in one line.
        assert log.count("handed back at shutdown") == 1 and f"job={job_id}" in log
    again = serve(again=served, WHORU_TASK_IMAGES="40")
    waited = subprocess.run(
        [sys.executable, "-m", "whoru.cli", "wait", job_id, "--server", again.url, "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        env=again.env,
    )
    assert waited.returncode == 0, waited.stderr
    assert "succeeded: 40 images done" in waited.stderr


def _wait_until_running(served, job_id: str, timeout: float = 120) -> None:
    """Poll `whoru status` until the job is running."""
    deadline = time.monotonic() + timeout
    while (
        json.loads(
            subprocess.run(
                [sys.executable, "-m", "whoru.cli", "status", job_id, "--json", "--server", served.url],
                capture_output=True,
                text=True,
                timeout=60,
                env=served.env,
            ).stdout
        )["status"]
        != "running"
    ):
        assert time.monotonic() < deadline, f"job {job_id} never ran"
        time.sleep(0.2)


def _pending_images(served) -> int:
    """Return how many images the stopped service left pending, read from its database file."""
    with sqlite3.connect(served.folder / "var" / "whoru.db") as database:
        return database.execute("SELECT count(*) FROM images WHERE status = 'pending'").fetchone()[0]


# It starts the whole service through make: a real stack.
@pytest.mark.slow
def test_make_run_serves_on_the_port_and_host_given(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHORU_")}
    env.update(WHORU_HOME=str(tmp_path / "var"), WHORU_MODEL=str(MODEL), WHORU_WORKER_CONCURRENCY="1")
    # 127.0.0.2 is loopback too, but not serve's default address: answering there proves HOST went through.
    make = subprocess.Popen(
        ["make", "run", f"PORT={port}", "HOST=127.0.0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(f"http://127.0.0.2:{port}", {"make run": make})
    finally:
        started = psutil.Process(make.pid).children(recursive=True)
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(60)
        _, alive = psutil.wait_procs(started, timeout=60)
    assert alive == []
