"""`whoru serve` brings the whole service up; `whoru submit` drives it; SIGTERM leaves nothing behind."""

from __future__ import annotations

import csv
import json
import signal
import os
import subprocess
import sys

import psutil
import pytest

from tests.utils.jobs import PHOTOS
from tests.utils.people import photos
from tests.utils.services import free_port

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
    result = subprocess.run([sys.executable, "-m", "cli", "submit", str(PHOTOS), "--server", url, "--wait",
                             "--csv", str(out_csv), "--json", str(out_json)], capture_output=True, text=True, timeout=300,
                            cwd=folder, env=served.env)
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
    result = subprocess.run([sys.executable, "-m", "cli", "submit", str(folder), "--server", served.url, "--people", "--wait",
                             "--people-csv", str(first), "--quiet"], capture_output=True, text=True, timeout=300,
                            cwd=served.folder, env=served.env)
    assert result.returncode == 0, result.stderr
    assert [row["person"] for row in csv.DictReader(first.open())] == ["p1", "p2", "p3", "p4"]
    job_id = result.stdout.split()[1]
    result = subprocess.run([sys.executable, "-m", "cli", "results", job_id, "--server", served.url, "--people-csv", str(again)],
                            capture_output=True, text=True, timeout=60, cwd=served.folder, env=served.env)
    assert result.returncode == 0, result.stderr
    assert again.read_text() == first.read_text()


def test_submit_reports_an_unreachable_server(tmp_path):
    # A key of its own: without one, submit stops first on the missing key, wherever the home is.
    result = subprocess.run([sys.executable, "-m", "cli", "submit", str(PHOTOS), "--server", f"http://127.0.0.1:{free_port()}",
                             "--api-key", "any"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "WHORU_HOME": str(tmp_path)})
    assert result.returncode != 0 and "cannot reach the server" in result.stderr
