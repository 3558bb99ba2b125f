"""Start the real service for a benchmark: Redis, a migrated database, the API and one worker."""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

import psutil
import requests

from whoru.cli.serve import spawn, start_broker, stop_all, stop_embedded_redis
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.db.migrate import upgrade
from whoru.keys import create_key
from whoru.settings import Settings


def free_port() -> int:
    """Return a free TCP port on localhost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BenchStack:
    """The API (gunicorn) and a worker with W processes, on a broker and a database of their own."""

    def __init__(self, folder: Path, workers: int, extra_env: dict[str, str]):
        self.folder, self.workers = folder, workers
        folder.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **extra_env,
            "WHORU_HOME": str(folder),
            "WHORU_STORAGE_DIR": str(folder / "storage"),
            "WHORU_ACCESS_LOG": "true",
            "WHORU_METRICS_PORT": str(free_port()),
        }
        env.setdefault("WHORU_DATABASE_URL", f"sqlite:///{folder / 'bench.db'}")
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.worker_metrics_url = f"http://127.0.0.1:{env['WHORU_METRICS_PORT']}/metrics"
        self.worker_log, self.api_log = folder / "worker.log", folder / "api.log"

    def __enter__(self) -> "BenchStack":
        """Start everything and wait until the API is ready and every worker process has its model."""
        settings = Settings.from_env(self.env)
        self.redis, broker_env = start_broker(settings)
        self.env = {**self.env, **{k: v for k, v in broker_env.items() if k == "WHORU_REDIS_URL"}}
        upgrade(self.env["WHORU_DATABASE_URL"])
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {_bench_key(self.env['WHORU_DATABASE_URL'])}"
        log = self.worker_log.open("wb")
        self.api = spawn(["api", "--port", str(self.port)], self.env, self.api_log.open("wb"))
        self.worker = spawn(
            ["worker", "--concurrency", str(self.workers), "--loglevel", "WARNING", "--no-beat"], self.env, log
        )
        self._wait_ready()
        return self

    def __exit__(self, *_exc) -> None:
        """Stop the processes and the embedded Redis."""
        stop_all({"api": self.api, "worker": self.worker})
        stop_embedded_redis(self.redis)

    def _wait_ready(self, timeout: float = 300) -> None:
        """Wait for /readyz and for every worker process's 'ready' line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self.worker_log.read_text(errors="replace").count("worker process ready") >= self.workers
            try:
                if ready and self.http.get(f"{self.url}/readyz", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"bench stack not ready; see {self.folder}")

    def rss_mb(self) -> dict:
        """Return resident memory of the API process tree and of each worker pool process."""
        api = psutil.Process(self.api.pid)
        workers = psutil.Process(self.worker.pid).children()
        return {"api": _tree_mb(api), "workers": [round(p.memory_info().rss / 2**20, 1) for p in workers]}


def _bench_key(database_url: str) -> str:
    """Create an API key for this bench run."""
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        key = create_key(session, f"bench-{uuid.uuid4().hex[:8]}")
        session.commit()
    engine.dispose()
    return key


def _tree_mb(process: psutil.Process) -> float:
    """Return the resident memory of a process and its children, in MB."""
    members = [process, *process.children(recursive=True)]
    return round(sum(p.memory_info().rss for p in members) / 2**20, 1)
