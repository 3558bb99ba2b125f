"""Faults against the real stack: each job still ends with exactly one result per image, no duplicates."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redis
from sqlalchemy import create_engine, func, select, update

from tests.conftest import stack_env
from tests.utils.jobs import PHOTOS, all_results, keyed_client, make_zip, open_job, post_files, put_part, wait_job
from tests.utils.services import ROOT, ApiServer, Worker, free_port, start_embedded_redis, stop_embedded_redis
from tests.utils.waiting import alive, wait_until
from whoru.api import create_app
from whoru.cli.embedded_redis import EmbeddedRedis
from whoru.db.schema import Face, Image, Job

PHOTO = (PHOTOS / "dlib_2008_001322.jpg").read_bytes()


@pytest.fixture()
def own_redis_url(tmp_path):
    """Yield a Redis of this test's own, so the session's shared worker never takes its tasks."""
    server, url = start_embedded_redis(tmp_path)
    yield url
    stop_embedded_redis(server)


@pytest.fixture()
def deployment(database_url, own_redis_url, tmp_path):
    """An app and a not-yet-started worker of their own, so a test may kill or restart it."""
    env = stack_env(database_url, own_redis_url, tmp_path / "storage", WHORU_TASK_IMAGES="2")
    app = create_app({"TESTING": True, "environ": env})
    client = keyed_client(app, database_url)
    workers = []

    def start(**extra) -> Worker:
        worker = Worker({**env, **extra}, tmp_path / f"worker{len(workers)}.log").start()
        workers.append(worker)
        return worker

    yield client, start, env
    for worker in workers:
        worker.stop(signal.SIGKILL)


def assert_one_result_per_image(env, job_id: str) -> None:
    """Check each image is final once and its stored faces match its face count."""
    engine = create_engine(env["WHORU_DATABASE_URL"])
    with engine.connect() as connection:
        images = connection.execute(
            select(Image.id, Image.status, Image.face_count).where(Image.job_id == job_id)
        ).all()
        faces = dict(
            connection.execute(
                select(Face.image_id, func.count()).join(Image).where(Image.job_id == job_id).group_by(Face.image_id)
            ).all()
        )
    engine.dispose()
    assert all(status in ("done", "no_face", "failed") for _, status, _ in images)
    assert {i: n for i, _, n in images if n} == faces


def wait_progress(client, job_id: str, timeout: float = 120) -> dict:
    """Wait until some but not all images of a job are finished."""

    def progressed() -> dict | None:
        job = client.get(f"/v1/jobs/{job_id}").get_json()
        return job if job["counts"]["images_done"] > 0 else None

    job = wait_until(progressed, timeout, 0.05, lambda: "job made no progress")
    assert job["status"] == "running"
    assert job["started_at"]
    assert not job["finished_at"]
    return job


def test_sigkill_of_a_worker_process_mid_task(deployment):
    client, start, env = deployment
    worker = start()
    job_id = post_files(client, [(f"p{i}.jpg", PHOTO) for i in range(40)]).get_json()["id"]
    wait_progress(client, job_id)
    child = psutil.Process(worker.process.pid).children()[0]
    child.send_signal(signal.SIGKILL)
    job = wait_job(client, job_id)
    assert job["status"] == "succeeded"
    assert job["counts"]["images_done"] == 40
    assert_one_result_per_image(env, job_id)


def test_sigterm_then_restart_runs_only_unfinished_tasks(deployment):
    client, start, env = deployment
    first = start()
    job_id = post_files(client, [(f"p{i}.jpg", PHOTO) for i in range(60)]).get_json()["id"]
    wait_progress(client, job_id)
    first.stop(signal.SIGTERM)
    done_before = client.get(f"/v1/jobs/{job_id}").get_json()["counts"]["images_done"]
    assert done_before < 60
    second = start()
    job = wait_job(client, job_id)
    assert job["status"] == "succeeded"
    assert_one_result_per_image(env, job_id)
    # At most: the stopped worker's pool process may still commit the task it was finishing
    # after this count (seen once on PostgreSQL); never more, or a finished task ran again.
    assert 0 < images_logged(second, job_id) <= 60 - done_before


def images_logged(worker: Worker, job_id: str) -> int:
    """Return how many of a job's images a worker logged analysing."""
    return sum(int(n) for n in re.findall(rf"job={job_id} task=\S+ images=(\d+)", worker.output()))


def wait_logged(worker: Worker, text: str, times: int, timeout: float = 120) -> list[str]:
    """Wait until the worker has logged a line holding text at least this many times; return those lines."""

    def lines() -> list[str]:
        return [line for line in worker.output().splitlines() if text in line]

    def enough() -> list[str] | None:
        found = lines()
        return found if len(found) >= times else None

    return wait_until(
        enough, timeout, describe=lambda: f"{text!r} logged {len(lines())} of {times} times:\n{worker.output()[-4000:]}"
    )


def test_the_same_task_delivered_twice_writes_one_set_of_rows(deployment):
    client, start, env = deployment
    worker = start()
    # An open job keeps running with every image done, so its tasks can be delivered again.
    job_id = open_job(client)["id"]
    assert put_part(client, job_id, 0, make_zip({f"p{i}.jpg": PHOTO for i in range(4)})).status_code == 201
    tasks = {(0, 1): f"job={job_id} task=0-1 ", (2, 3): f"job={job_id} task=2-3 "}
    assert all("images=2 " in wait_logged(worker, line, 1)[0] for line in tasks.values())
    celery = client.application.extensions["whoru_celery"]
    # Delivered again once its images are finished: it finds none pending and analyses nothing.
    celery.send_task("whoru.images.process", args=[job_id, 0, 1])
    assert "images=0 " in wait_logged(worker, tasks[0, 1], 2)[1]
    # A second delivery that read the images as pending while the first one wrote them writes
    # over the first one's rows; that write must replace them.
    engine = create_engine(env["WHORU_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(update(Image).where(Image.job_id == job_id).values(status="pending"))
    engine.dispose()
    for first, last in tasks:
        celery.send_task("whoru.images.process", args=[job_id, first, last])
    assert "images=2 " in wait_logged(worker, tasks[0, 1], 3)[2]
    assert "images=2 " in wait_logged(worker, tasks[2, 3], 2)[1]
    assert client.post(f"/v1/jobs/{job_id}/close").status_code == 200
    job = wait_job(client, job_id)
    assert job["status"] == "succeeded"
    assert job["counts"]["images_done"] == 4
    assert_one_result_per_image(env, job_id)
    results = all_results(client, job_id)
    assert len(results) == 4
    assert all(image["faces"] for image in results)


def test_a_poison_image_fails_alone_after_three_attempts(deployment):
    client, start, env = deployment
    start(PYTHONPATH=str(ROOT / "tests" / "utils" / "poison"))
    files = [("a.jpg", PHOTO), ("poison.jpg", b"POISON" + PHOTO), ("b.jpg", PHOTO), ("c.jpg", PHOTO)]
    job_id = post_files(client, files).get_json()["id"]
    job = wait_job(client, job_id, timeout=240)
    assert job["status"] == "succeeded"
    images = {i["name"]: i for i in all_results(client, job_id)}
    assert images["poison.jpg"]["status"] == "failed"
    assert images["poison.jpg"]["error"]["code"] == "worker_crashed"
    assert all(images[n]["status"] == "done" for n in ("a.jpg", "b.jpg", "c.jpg"))
    assert_one_result_per_image(env, job_id)


def test_jobs_left_running_by_a_crash_are_resumed_on_start(deployment):
    client, start, env = deployment
    job_id = post_files(client, [(f"p{i}.jpg", PHOTO) for i in range(3)]).get_json()["id"]
    # A crashed deployment: the job was running and its queued tasks are gone with Redis.
    engine = create_engine(env["WHORU_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(update(Job).where(Job.id == job_id).values(status="running"))
    engine.dispose()
    redis.Redis.from_url(env["WHORU_REDIS_URL"].replace("redis+socket://", "unix://")).delete("celery")
    start()
    job = wait_job(client, job_id)
    assert job["status"] == "succeeded"
    assert job["counts"]["images_done"] == 3


class RedisServer:
    """The embedded redis-server, also on a TCP port, with AOF on, that a test can stop and restart on its data."""

    def __init__(self, folder):
        self.folder, self.port, self.server = folder, free_port(), None

    def start(self) -> "RedisServer":
        """Start (or restart) the server on the same port and data folder."""
        self.server = EmbeddedRedis(self.folder / "redis.rdb", port=str(self.port), bind="127.0.0.1", appendonly="yes")
        return self

    def stop(self) -> None:
        """Stop the server; AOF keeps the queued tasks."""
        self.server.shutdown()


def test_redis_restart_mid_job(database_url, tmp_path):
    server = RedisServer(tmp_path).start()
    env = stack_env(database_url, f"redis://127.0.0.1:{server.port}/0", tmp_path / "storage", WHORU_TASK_IMAGES="2")
    client = keyed_client(create_app({"TESTING": True, "environ": env}), database_url)
    worker = Worker(env, tmp_path / "worker.log").start()
    try:
        job_id = post_files(client, [(f"p{i}.jpg", PHOTO) for i in range(16)]).get_json()["id"]
        wait_progress(client, job_id)
        server.stop()
        refused = post_files(client, [("x.jpg", PHOTO)])
        assert refused.status_code == 503
        assert refused.get_json()["error"]["code"] == "broker_unavailable"
        assert client.get("/readyz").status_code == 503
        assert client.get(f"/v1/jobs/{job_id}").status_code == 200
        server.start()
        job = wait_job(client, job_id, timeout=240)
        assert job["status"] == "succeeded"
        assert job["counts"]["images_done"] == 16
        assert_one_result_per_image(env, job_id)
        assert client.get("/readyz").status_code == 200
    finally:
        worker.stop(signal.SIGKILL)
        server.stop()


def postgres_restart_command() -> list[str] | None:
    """Return the command that restarts the local PostgreSQL cluster, if this machine allows it."""
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0 or not Path("/etc/postgresql").is_dir():
        return None
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]


def test_postgres_restart_mid_job(database_url, deployment):
    if not database_url.startswith("postgresql"):
        pytest.skip("a database restart is a PostgreSQL case")
    command = postgres_restart_command()
    if command is None:
        pytest.skip(
            "PostgreSQL restart case skipped: no local cluster this test may restart (needs root and pg_ctlcluster)"
        )
    client, start, env = deployment
    start()
    job_id = post_files(client, [(f"p{i}.jpg", PHOTO) for i in range(40)]).get_json()["id"]
    wait_progress(client, job_id)
    subprocess.run(command, check=True, capture_output=True)
    job = wait_job(client, job_id, timeout=300)
    assert job["status"] == "succeeded"
    assert job["counts"]["images_done"] == 40
    assert_one_result_per_image(env, job_id)
    assert client.get("/readyz").status_code == 200


def test_an_open_job_survives_its_worker_killed_between_parts(deployment):
    client, start, env = deployment
    worker = start()
    job_id = open_job(client)["id"]
    assert put_part(client, job_id, 0, make_zip({f"a{i}.jpg": PHOTO for i in range(10)})).status_code == 201
    wait_progress(client, job_id)
    worker.stop(signal.SIGKILL)
    assert put_part(client, job_id, 1, make_zip({f"b{i}.jpg": PHOTO for i in range(6)})).status_code == 201
    start()
    assert client.post(f"/v1/jobs/{job_id}/close").status_code == 200
    job = wait_job(client, job_id, timeout=240)
    assert job["status"] == "succeeded"
    assert job["counts"]["images_done"] == 16
    assert_one_result_per_image(env, job_id)


def test_redis_restart_between_parts(database_url, tmp_path):
    server = RedisServer(tmp_path).start()
    env = stack_env(database_url, f"redis://127.0.0.1:{server.port}/0", tmp_path / "storage")
    client = keyed_client(create_app({"TESTING": True, "environ": env}), database_url)
    worker = Worker(env, tmp_path / "worker.log").start()
    try:
        job_id = open_job(client)["id"]
        assert put_part(client, job_id, 0, make_zip({f"a{i}.jpg": PHOTO for i in range(4)})).status_code == 201
        server.stop()
        refused = put_part(client, job_id, 1, PHOTO)
        assert refused.status_code == 503
        assert refused.get_json()["error"]["code"] == "broker_unavailable"
        assert [part["n"] for part in client.get(f"/v1/jobs/{job_id}/parts").get_json()["parts"]] == [0]
        server.start()
        assert put_part(client, job_id, 1, PHOTO).status_code == 201
        client.post(f"/v1/jobs/{job_id}/close")
        job = wait_job(client, job_id, timeout=240)
        assert job["status"] == "succeeded"
        assert job["counts"]["images_done"] == 5
        assert_one_result_per_image(env, job_id)
    finally:
        worker.stop(signal.SIGKILL)
        server.stop()


def test_submit_rides_out_an_api_restart_between_parts(deployment, tmp_path):
    client, start, env = deployment
    start()
    port = free_port()
    api = ApiServer({**env, "WHORU_PORT": str(port)}, tmp_path / "api.log").start()
    key = client.environ_base["HTTP_AUTHORIZATION"].split()[1]
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(60):
        (folder / f"p{i:02d}.jpg").write_bytes(PHOTO + bytes(20_000))
    submit = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "whoru.cli",
            "submit",
            str(folder),
            "--server",
            f"127.0.0.1:{port}",
            "--api-key",
            key,
            "--part-mb",
            "1",
            "--wait",
            "--quiet",
        ],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: alive(submit) and "part=1 stored" in api.output(), 120, 0.01, api.output)
        api.stop(signal.SIGKILL)
        # Down for a second, long enough that the client's next requests fail and it must retry.
        time.sleep(1)
        api.start()
        _, err = submit.communicate(timeout=300)
    finally:
        api.stop(signal.SIGKILL)
    assert submit.returncode == 0, err
    job_id = err.split("job ", 1)[1].split()[0]
    assert client.get(f"/v1/jobs/{job_id}").get_json()["counts"]["images_done"] == 60
    assert_one_result_per_image(env, job_id)


def test_sigkill_during_grouping_reruns_it_and_labels_every_face_once(deployment, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a row lock holds the grouping midway only on PostgreSQL (SQLite locks the whole file)")
    from tests.utils.people import photos

    client, start, env = deployment
    worker = start()
    pictures = dict(photos())
    job_id = client.post("/v1/jobs", json={"open": True, "people": True}).get_json()["id"]
    assert put_part(client, job_id, 0, make_zip({"group.jpg": pictures["group.jpg"]})).status_code == 201
    wait_progress(client, job_id)
    engine = create_engine(env["WHORU_DATABASE_URL"])
    holder = engine.connect()
    held = holder.begin()
    # Holding the first image's face rows stops the grouping at its write, inside its transaction.
    holder.execute(select(Face.id).join(Image).where(Image.job_id == job_id).with_for_update())
    assert put_part(client, job_id, 1, make_zip({"portrait.jpg": pictures["portrait.jpg"]})).status_code == 201
    client.post(f"/v1/jobs/{job_id}/close")
    worker.wait_for(f"job={job_id} grouping faces=4", 120)
    wait_until(
        lambda: holder.exec_driver_sql("SELECT count(*) FROM pg_locks WHERE NOT granted").scalar(),
        60,
        describe=lambda: "the grouping never waited for the held rows",
    )
    worker.stop(signal.SIGKILL)
    held.rollback()
    holder.close()
    job = client.get(f"/v1/jobs/{job_id}").get_json()
    assert job["status"] == "running" and job["people_status"] == "grouping"
    with engine.connect() as connection:
        assert (
            connection.scalar(
                select(func.count())
                .select_from(Face)
                .join(Image)
                .where(Image.job_id == job_id, Face.person.is_not(None))
            )
            == 0
        )
    start()
    job = wait_job(client, job_id)
    assert job["status"] == "succeeded" and job["people_status"] == "done"
    with engine.connect() as connection:
        labels = connection.execute(select(Face.person).join(Image).where(Image.job_id == job_id)).scalars().all()
    engine.dispose()
    assert len(labels) == 4 and None not in labels and sorted(labels) == ["p1", "p2", "p3", "p4"]
