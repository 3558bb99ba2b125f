"""Soak test (not a test in the suite): concurrent jobs while worker processes are killed.

Submits 20 jobs of 200 images at once to a real stack (embedded Redis, SQLite unless
WHORU_DATABASE_URL is set, one `whoru worker` with 2 processes), SIGKILLs a worker pool
process every 20 s until every job has ended, then prints jobs submitted and succeeded,
images lost and duplicate face rows (both must be 0).

    .venv/bin/python scripts/soak.py [--jobs 20] [--images 200] [--kill-every 20]
"""

from __future__ import annotations

import argparse
import random
import signal
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from sqlalchemy import create_engine, func, select

from whoru.bench.stack import BenchStack
from whoru.bench.workload import build_zip
from whoru.db.schema import Face, Image
from whoru.settings import PROJECT_ROOT


def submit(stack: BenchStack, workload: Path) -> str:
    """Upload the workload as one job and return its id."""
    with workload.open("rb") as file:
        response = stack.http.post(f"{stack.url}/v1/jobs", files={"file": (workload.name, file)}, timeout=600)
    response.raise_for_status()
    return response.json()["id"]


def kill_one_worker_process(stack: BenchStack, rng: random.Random) -> None:
    """SIGKILL one of the worker's pool processes, as a crash would."""
    children = psutil.Process(stack.worker.pid).children()
    if children:
        rng.choice(children).send_signal(signal.SIGKILL)


def audit(database_url: str, job_ids: list[str]) -> tuple[int, int, int]:
    """Return (images not finished, images failed, duplicate face rows) over the jobs."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        lost = connection.scalar(select(func.count()).where(Image.job_id.in_(job_ids), Image.status == "pending"))
        failed = connection.scalar(select(func.count()).where(Image.job_id.in_(job_ids), Image.status == "failed"))
        groups = (
            select(Face.image_id, Face.index)
            .join(Image)
            .where(Image.job_id.in_(job_ids))
            .group_by(Face.image_id, Face.index)
            .having(func.count() > 1)
        )
        duplicates = connection.scalar(select(func.count()).select_from(groups.subquery()))
    engine.dispose()
    return lost, failed, duplicates


def main() -> None:
    """Run the soak and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--kill-every", type=float, default=20.0)
    args = parser.parse_args()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="whoru-soak-") as folder:
        workload = Path(folder) / "soak.zip"
        build_zip(workload, args.images, PROJECT_ROOT / "tests" / "fixtures" / "utkface")
        with BenchStack(Path(folder) / "stack", 2, {"WHORU_TASK_IMAGES": "16"}) as stack:
            with ThreadPoolExecutor(args.jobs) as pool:
                job_ids = list(pool.map(lambda _: submit(stack, workload), range(args.jobs)))
            kills, last_kill, started = 0, time.monotonic(), time.monotonic()
            while True:
                statuses = [stack.http.get(f"{stack.url}/v1/jobs/{j}", timeout=60).json()["status"] for j in job_ids]
                if all(s in ("succeeded", "failed", "canceled") for s in statuses):
                    break
                if time.monotonic() - last_kill >= args.kill_every:
                    kill_one_worker_process(stack, rng)
                    kills, last_kill = kills + 1, time.monotonic()
                time.sleep(1)
            lost, failed, duplicates = audit(stack.env["WHORU_DATABASE_URL"], job_ids)
    print(f"jobs submitted: {len(job_ids)}")
    print(f"jobs succeeded: {statuses.count('succeeded')}")
    print(
        f"images: {len(job_ids) * args.images}, worker processes killed: "
        f"{kills}, minutes: {(time.monotonic() - started) / 60:.1f}"
    )
    print(f"images lost: {lost}")
    print(f"images failed: {failed}")
    print(f"duplicate face rows: {duplicates}")


if __name__ == "__main__":
    main()
