"""`whoru serve` brings the whole service up; `whoru submit` drives it; SIGTERM leaves nothing behind."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from tests.conftest import MODEL
from tests.utils.jobs import PHOTOS
from tests.utils.services import free_port

TRUTH = json.loads((PHOTOS / "faces.json").read_text())



def wait_ready(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until /readyz answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "whoru serve exited"
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("whoru serve never became ready")


@pytest.fixture()
def served(tmp_path):
    """Run `whoru serve` with only embedded defaults in an empty folder."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHORU_")}
    env.update(WHORU_MODEL=str(MODEL), WHORU_WORKER_CONCURRENCY="1")
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "whoru", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    yield url, process, tmp_path
    if process.poll() is None:
        process.kill()


def test_submit_waits_and_writes_csv_and_json_then_serve_stops_cleanly(served, tmp_path):
    url, process, folder = served
    assert (folder / "var" / "whoru.db").exists()
    assert (folder / "var" / "api-key").read_text().startswith("whoru_")
    children = psutil.Process(process.pid).children(recursive=True)
    assert len(children) >= 3
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "out.json"
    result = subprocess.run([sys.executable, "-m", "whoru", "submit", str(PHOTOS), "--server", url, "--wait",
                             "--csv", str(out_csv), "--json", str(out_json)], capture_output=True, text=True, timeout=300,
                            cwd=folder)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out_csv.open()))
    per_image = {name: sum(1 for r in rows if r["image"] == name and r["face"] != "") for name in TRUTH}
    for name, truth in TRUTH.items():
        assert abs(per_image[name] - truth["faces"]) <= 1, name
    assert {r["image"] for r in rows} == set(TRUTH)
    document = json.loads(out_json.read_text())
    assert document["job"]["status"] == "succeeded"
    assert [i["name"] for i in document["images"]] == sorted(TRUTH)
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    for child in children:
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, child


def test_submit_reports_an_unreachable_server(tmp_path):
    result = subprocess.run([sys.executable, "-m", "whoru", "submit", str(PHOTOS), "--server", f"http://127.0.0.1:{free_port()}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "cannot reach the server" in result.stderr
