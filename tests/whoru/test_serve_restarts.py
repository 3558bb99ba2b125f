"""`whoru serve` keeps its worker: one killed with SIGKILL is started again, and its pool goes with it."""

from __future__ import annotations

import signal
import time

import psutil
import requests

from tests.utils.jobs import PHOTOS, content_digest, make_zip

PHOTOS_IN_JOB = sorted(PHOTOS.glob("*.jpg"))[:4]
TIMEOUT = 180


def worker_of(serve_pid: int) -> psutil.Process | None:
    """Return the `whoru worker` child of a `whoru serve`, if it runs."""
    return next((child for child in psutil.Process(serve_pid).children() if "worker" in child.cmdline()), None)


def wait_for(condition, what: str, timeout: float = TIMEOUT):
    """Return condition()'s first true value, polling until a deadline."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return value


def test_a_worker_killed_with_sigkill_is_replaced_and_leaves_no_orphan(serve, database_url):
    served = serve(WHORU_DATABASE_URL=database_url)
    headers = {"Authorization": f"Bearer {served.key}"}
    worker = worker_of(served.process.pid)
    pool = wait_for(lambda: worker.children(recursive=True), "the worker started no pool process")
    job = requests.post(f"{served.url}/v1/jobs", json={"open": True}, headers=headers, timeout=30).json()
    body = make_zip({path.name: path.read_bytes() for path in PHOTOS_IN_JOB})
    part = requests.put(
        f"{served.url}/v1/jobs/{job['id']}/parts/0",
        data=body,
        timeout=30,
        headers={**headers, "Content-Digest": content_digest(body)},
    )
    assert part.status_code == 201, part.text
    worker.send_signal(signal.SIGKILL)
    _, alive = psutil.wait_procs(pool, timeout=30)
    assert not alive, [process.cmdline() for process in alive]
    replacement = wait_for(
        lambda: (w := worker_of(served.process.pid)) and w.pid != worker.pid and w, "serve started no new worker"
    )
    assert requests.post(f"{served.url}/v1/jobs/{job['id']}/close", headers=headers, timeout=30).ok
    done = wait_for(
        lambda: (
            (j := requests.get(f"{served.url}/v1/jobs/{job['id']}", headers=headers, timeout=30).json())["status"]
            in ("succeeded", "failed")
            and j
        ),
        "the job never ended",
    )
    assert done["status"] == "succeeded"
    results = requests.get(
        f"{served.url}/v1/jobs/{job['id']}/results?page_size=100", headers=headers, timeout=30
    ).json()
    # A zip part sent with no name is named upload-0; its members are named under it.
    assert sorted(image["name"] for image in results["images"]) == sorted(
        f"upload-0/{path.name}" for path in PHOTOS_IN_JOB
    )
    assert served.process.poll() is None and replacement.is_running()
    log = (served.folder / "serve.log").read_text()
    assert "the worker process exited with status -9; starting it again" in log
