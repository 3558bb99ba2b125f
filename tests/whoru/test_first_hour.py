"""What a new user meets first: a busy port, commands run from another folder, unfinished results,
purge, key names, and a serve that stops quickly and leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.utils.jobs import PHOTOS
from whoru.db.engine import make_engine, make_sessionmaker
from whoru.db.migrate import upgrade
from whoru.keys import create_key, list_keys, revoke_key


def whoru(*args: str, env: dict, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a whoru command and return what it did."""
    return subprocess.run(
        [sys.executable, "-m", "whoru.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def clean_env(home: Path) -> dict[str, str]:
    """Return the environment of a user whose service lives in `home`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("WHORU_")}, "WHORU_HOME": str(home)}


def test_a_busy_port_fails_at_once_and_names_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = whoru("serve", "--port", str(port), env=clean_env(tmp_path / "home"), cwd=tmp_path, timeout=60)
    assert result.returncode != 0
    assert f"127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "whoru is up" not in result.stdout


def test_commands_from_another_folder_say_what_they_looked_for(tmp_path):
    env = clean_env(tmp_path / "nowhere")
    keys = whoru("keys", "list", env=env, cwd=tmp_path)
    assert keys.returncode != 0 and "Traceback" not in keys.stderr
    assert f"no database at {tmp_path / 'nowhere' / 'whoru.db'}" in keys.stderr
    submit = whoru("submit", str(PHOTOS), "--server", "127.0.0.1:9", env=env, cwd=tmp_path)
    assert submit.returncode != 0 and str(tmp_path / "nowhere" / "api-key") in submit.stderr


def test_purge_refuses_negative_ages_and_dry_run_keeps_everything(tmp_path):
    env = clean_env(tmp_path / "home")
    upgrade(f"sqlite:///{tmp_path / 'home' / 'whoru.db'}")
    negative = whoru("purge", "--older-than", "-1", env=env, cwd=tmp_path)
    assert negative.returncode == 2 and "-1" in negative.stderr
    dry = whoru("purge", "--older-than", "0", "--dry-run", env=env, cwd=tmp_path)
    assert dry.returncode == 0 and "would remove 0 jobs" in dry.stdout


def test_a_revoked_keys_name_can_be_used_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        create_key(session, "laptop")
        revoke_key(session, "laptop")
        create_key(session, "laptop")
        session.commit()
        names = {record.name: record.revoked_at for record in list_keys(session)}
    engine.dispose()
    assert names["laptop"] is None and any(name.startswith("laptop (revoked") for name in names)


def test_results_of_an_unfinished_job_need_partial(serve, tmp_path):
    served = serve()
    request = urllib.request.Request(
        f"{served.url}/v1/jobs",
        data=json.dumps({"open": True}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {served.key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        job_id = json.load(response)["id"]
    refused = whoru(
        "results", job_id, "--server", served.url, "--csv", str(tmp_path / "r.csv"), env=served.env, cwd=tmp_path
    )
    assert refused.returncode != 0 and "not final" in refused.stderr and not (tmp_path / "r.csv").exists()
    partial = whoru(
        "results",
        job_id,
        "--server",
        served.url,
        "--csv",
        str(tmp_path / "r.csv"),
        "--partial",
        env=served.env,
        cwd=tmp_path,
    )
    assert partial.returncode == 0 and (tmp_path / "r.csv").exists()
    listed = whoru("jobs", "--server", served.url, env=served.env, cwd=tmp_path)
    assert listed.returncode == 0 and f"{job_id}  queued, open" in listed.stdout
    line = whoru("status", job_id, "--server", served.url, env=served.env, cwd=tmp_path)
    assert line.stdout.startswith(f"{job_id}  queued, open  0/0 images")
    assert json.loads(whoru("status", job_id, "--json", "--server", served.url, env=served.env, cwd=tmp_path).stdout)[
        "open"
    ]


def test_ctrl_c_after_a_job_stops_quickly_without_false_alarms(serve, tmp_path):
    served = serve()
    done = whoru(
        "submit", str(PHOTOS), "--server", served.url, "--wait", "--quiet", env=served.env, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(timeout=15) == 0
    log = (served.folder / "serve.log").read_text()
    assert "SIGKILL" not in log and "stopping api and worker" in log
    socket_line = next(line for line in log.splitlines() if "embedded redis on " in line)
    # Redis removes its socket as it shuts down.
    assert not Path(socket_line.split("embedded redis on ", 1)[1].strip()).exists()


@pytest.mark.parametrize("command", ["status", "results"])
def test_client_commands_without_a_key_say_where_they_looked(command, tmp_path):
    result = whoru(command, "0" * 8, env=clean_env(tmp_path / "empty"), cwd=tmp_path)
    assert result.returncode != 0 and "no API key" in result.stderr and "Traceback" not in result.stderr


def test_a_killed_serve_takes_the_api_the_worker_and_redis_with_it(serve):
    served = serve()
    children = psutil.Process(served.process.pid).children()
    names = [" ".join(child.cmdline()) for child in children]
    assert len(children) == 3 and any("redis-server" in name for name in names), names
    served.process.kill()
    served.process.wait()
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, [child.cmdline() for child in alive]
