"""Measure (not a test in the suite): how long /healthz takes while clients stall on the API.

Runs gunicorn as `whoru api` does (2 workers x 4 threads) on a fresh SQLite database, with the
worker class given, opens N connections that send half a request line and stop, then times
/healthz (10 s at most); then the same with N unauthenticated requests that send their head and
100 bytes of a body and stop, then with N such PUTs of a part with a valid key (the app reads
those bodies). Prints one line per case.

    .venv/bin/python scripts/measure_stalled_clients.py [--worker-class gthread] [--stalled 10]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from whoru.bench.stack import free_port
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.db.migrate import upgrade
from whoru.keys import create_key

HEALTHZ_LIMIT_S = 10.0


def start_api(worker_class: str, port: int, folder: Path) -> subprocess.Popen:
    """Start gunicorn on a fresh SQLite database and return once /healthz answers."""
    database = f"sqlite:///{folder / 'whoru.db'}"
    upgrade(database)
    env = {**os.environ, "WHORU_DATABASE_URL": database, "WHORU_STORAGE_DIR": str(folder / "storage")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            worker_class,
            "--log-level",
            "error",
            "--no-control-socket",
            "whoru.api:create_app()",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if healthz_seconds(port) is not None:
            return process
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the API did not start")


def healthz_seconds(port: int) -> float | None:
    """Return how long /healthz took, or None if it did not answer within the limit."""
    started = time.monotonic()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=HEALTHZ_LIMIT_S).close()
    except OSError:
        return None
    return time.monotonic() - started


def stalled(port: int, count: int, first_bytes: bytes) -> float | None:
    """Open count connections that each send first_bytes and stop; return /healthz's time meanwhile."""
    with ExitStack() as stack:
        for _ in range(count):
            connection = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=30))
            connection.sendall(first_bytes)
        time.sleep(0.5)
        return healthz_seconds(port)


def open_job(port: int, folder: Path) -> tuple[str, str]:
    """Make an API key in the database, open a job with it and return the job's id and the key."""
    engine = make_engine(f"sqlite:///{folder / 'whoru.db'}")
    with make_sessionmaker(engine)() as session:
        key = create_key(session, "stalled")
        session.commit()
    engine.dispose()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/jobs",
        data=json.dumps({"open": True}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["id"], key


def main() -> None:
    """Print /healthz's time beside stalled request heads, then beside stalled bodies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker-class", default="whoru.api.gunicorn_worker.HeadFirstWorker")
    parser.add_argument("--stalled", type=int, default=10)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        api = start_api(args.worker_class, port, Path(folder))
        try:
            head = b"PUT /v1/jobs/x/parts/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
            cases = {"half a request line": b"GET /heal", "a head and 100 body bytes": head + b"x" * 100}
            job_id, key = open_job(port, Path(folder))
            cases["a part's head and 100 body bytes, with a key"] = (
                f"PUT /v1/jobs/{job_id}/parts/0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                "Content-Digest: sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:\r\n"
                "Content-Length: 100000\r\n\r\n"
            ).encode() + b"x" * 100
            for name, first_bytes in cases.items():
                took = stalled(port, args.stalled, first_bytes)
                answer = f"{took:.3f} s" if took is not None else f"no answer within {HEALTHZ_LIMIT_S:.0f} s"
                print(f"worker_class={args.worker_class} stalled={args.stalled} ({name}): /healthz {answer}")
        finally:
            api.terminate()
            api.wait(30)


if __name__ == "__main__":
    main()
