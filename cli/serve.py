"""`whoru serve`: the whole service in one command, on embedded defaults, stopped cleanly by Ctrl-C.

Every child runs in a session of its own, so the terminal's Ctrl-C reaches this process alone:
the first one stops the children in order (the worker finishes or hands back its current
tasks), a second one kills them at once. Tasks are acknowledged only after their rows are
written, so a killed task runs again at the next start; nothing is lost either way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import click

from whoru.children import stop_with_parent
from whoru.cli.embedded_redis import EmbeddedRedis
from whoru.cli.restarts import Restarts
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.db.migrate import upgrade
from whoru.keys import ensure_local_key
from whoru.logs import configure_logging, get_logger
from whoru.settings import Settings

log = get_logger("serve")
# Within this, the API and the worker have stopped on their own; past it they are killed.
STOP_GRACE_S = 8.0


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="WHORU_HOST", help="Address for the API.")
@click.option("--port", default=8000, show_default=True, envvar="WHORU_PORT", help="Port for the API.")
def serve(host: str, port: int) -> None:
    """Start Redis (embedded unless WHORU_REDIS_URL is set), migrate, then the API and one worker."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    check_port_free(host, port)
    settings.storage_dir.mkdir(parents=True, exist_ok=True)
    redis_server, env = start_broker(settings)
    try:
        upgrade(settings.database_url)
        key = _local_key(settings)
        env.update(WHORU_DATABASE_URL=settings.database_url, WHORU_HOME=str(settings.home))
        # On one's own machine, a callback receiver on the same machine is the usual case; the rest
        # of the network (metadata services, the LAN) stays out of reach of anyone holding a key.
        env.setdefault("WHORU_WEBHOOK_ALLOW_LOOPBACK", "true")
        _run(host, port, key, env)
    finally:
        stop_embedded_redis(redis_server)
        log.info("stopped")


def _run(host: str, port: int, key: str, env: dict) -> None:
    """Start the API and a worker, say so once the API is ready, and stop both when asked."""

    def start_worker() -> subprocess.Popen:
        return spawn(["worker", "--name", "whoru-serve@%h"], env)

    children = {"api": spawn(["api", "--host", host, "--port", str(port)], env), "worker": start_worker()}
    try:
        wait_ready(f"http://{host}:{port}", children)
        click.echo(f"whoru is up: http://{host}:{port}  (Ctrl-C stops everything)")
        # The key rides in the fragment, which browsers never send to a server or in a Referer.
        click.echo(f"sign in to the web page: http://{host}:{port}/#key={key}")
        _supervise(children, Restarts("worker", children["worker"], start_worker))
    finally:
        stop_all(children)


def check_port_free(host: str, port: int) -> None:
    """Fail at once, naming the port, when something already listens there."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({error.strerror}): another program uses "
                "that port; pick another with --port or WHORU_PORT"
            ) from error


def wait_ready(url: str, children: dict[str, subprocess.Popen], timeout: float = 180) -> None:
    """Wait until the API's /readyz answers 200; fail if a child exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _fail_if_exited(children)
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise click.ClickException(f"the API at {url} did not become ready within {timeout:.0f} s")


def _local_key(settings: Settings) -> str:
    """Return the local user's API key, made on first use and kept in the home folder, where the CLI looks."""
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        key = ensure_local_key(session, settings.local_key_file)
    engine.dispose()
    log.info("API key for this machine is in %s", settings.local_key_file)
    return key


def start_broker(settings: Settings):
    """Return an embedded Redis server (or None) and the environment for the children."""
    env = dict(os.environ)
    if settings.redis_url:
        return None, env
    data = settings.home / "redis"
    data.mkdir(parents=True, exist_ok=True)
    server = EmbeddedRedis(data / "whoru.rdb", appendonly="yes", **{"maxmemory-policy": "noeviction"})
    env["WHORU_REDIS_URL"] = f"redis+socket://{server.socket_file}"
    log.info("embedded redis on %s", server.socket_file)
    return server, env


def stop_embedded_redis(server) -> None:
    """Stop an embedded Redis, if there is one."""
    if server is not None:
        server.shutdown()


def spawn(arguments: list[str], env: dict, log=None) -> subprocess.Popen:
    """Start a `whoru` subcommand as a child process in a session of its own, stopped if this process dies."""
    return subprocess.Popen(
        [sys.executable, "-m", "whoru.cli", *arguments],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
        preexec_fn=stop_with_parent,
    )


def _supervise(children: dict[str, subprocess.Popen], worker: Restarts) -> None:
    """Wait until SIGINT/SIGTERM or until the API exits, starting the worker again whenever it dies."""
    stop = {"signal": None}

    def request_stop(signum, _frame):
        stop["signal"] = signum

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while stop["signal"] is None:
        _fail_if_exited({"api": children["api"]})
        children["worker"] = worker.check()
        time.sleep(0.3)


def _fail_if_exited(children: dict[str, subprocess.Popen]) -> None:
    """Raise, naming the child, if one has exited."""
    for name, child in children.items():
        if child.poll() is not None:
            raise click.ClickException(f"the {name} process exited with status {child.returncode}; stopping")


def stop_all(children: dict[str, subprocess.Popen], grace: float = STOP_GRACE_S) -> None:
    """Ask each child to stop, then insist.

    The worker gets SIGQUIT in its main process alone: Celery lets its tasks run a few seconds, then
    hands the rest back to the queue, one log line each (worker/handback.py). Signalling its whole
    group would kill the pool processes under it, which Celery reports as lost, with tracebacks.
    """
    running = {name: child for name, child in children.items() if child.poll() is None}
    if not running:
        return
    click.echo(
        f"stopping {' and '.join(running)} (up to {grace:.0f} s; Ctrl-C again stops at once, "
        "and unfinished tasks run again at the next start)",
        err=True,
    )
    signal.signal(signal.SIGINT, lambda *_: _kill(running.values()))
    for name, child in running.items():
        if name == "worker":
            os.kill(child.pid, signal.SIGQUIT)
        else:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in running.values():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill([child])
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _kill(children) -> None:
    """Kill children with every process they started."""
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
