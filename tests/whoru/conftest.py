"""A `whoru serve` of its own, in an empty folder, on embedded defaults plus what a test sets."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import MODEL
from tests.utils.services import free_port
from whoru.cli.serve import wait_ready


@dataclass
class Served:
    """A running `whoru serve`: its URL, process, folder, and the environment a client there needs."""

    url: str
    process: subprocess.Popen
    folder: Path
    env: dict[str, str]

    @property
    def key(self) -> str:
        """Return the local API key the service made."""
        return (self.folder / "var" / "api-key").read_text().strip()


@pytest.fixture()
def serve(tmp_path):
    """Return a function that starts `whoru serve` with extra WHORU_* settings (again in the folder of an
    earlier one, given `again`); stop it afterwards."""
    started = []

    def start(again: Served | None = None, **settings: str) -> Served:
        folder = again.folder if again else tmp_path / f"serve{len(started)}"
        folder.mkdir(exist_ok=True)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("WHORU_")}
        env.update(WHORU_HOME=str(folder / "var"))
        client_env = dict(env)
        env.update(WHORU_MODEL=str(MODEL), WHORU_WORKER_CONCURRENCY="1", **settings)
        log = (folder / "serve.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "whoru.cli", "serve", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        served = Served(f"http://127.0.0.1:{port}", process, folder, client_env)
        wait_ready(served.url, {"serve": process})
        return served

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
