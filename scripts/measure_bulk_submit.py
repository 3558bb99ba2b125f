"""Measure a bulk submission against a running server: `whoru submit` part by part, then the same
folder as one multipart request. Prints JSON: the client's peak temporary disk use, when the
first image was done against when the last part arrived, and the total time of each path.

    python scripts/measure_bulk_submit.py --photos ../shared/data/photos --copies 1500 --part-mb 20 --rate-mbit 100

With --rate-mbit, both uploads go through a local proxy that paces the client-to-server bytes
to that rate, as a real network link would; without it they run at loopback speed.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import click
import requests
from requests_toolbelt import MultipartEncoder

from whoru.client.http import FINAL
from whoru.image_names import is_image_name


@click.command()
@click.option(
    "--photos",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of photos to copy from.",
)
@click.option("--copies", default=1500, show_default=True, help="Photos in the submitted folder.")
@click.option("--part-mb", default=20, show_default=True, help="whoru submit --part-mb.")
@click.option("--server", default="http://127.0.0.1:8000", show_default=True)
@click.option("--api-key", default=lambda: Path("var/api-key").read_text().strip(), help="Default: ./var/api-key.")
@click.option("--rate-mbit", type=float, help="Pace uploads to this many megabits a second.")
def main(photos: Path, copies: int, part_mb: int, server: str, api_key: str, rate_mbit: float | None) -> None:
    """Submit the same folder both ways and print the figures."""
    if rate_mbit:
        server = _paced_proxy(server, rate_mbit * 1e6 / 8)
    with tempfile.TemporaryDirectory(prefix="whoru-measure-") as scratch:
        folder = _folder(photos, copies, Path(scratch) / "photos")
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {api_key}"
        figures = {
            "images": copies,
            "folder_mb": round(_size(folder) / 2**20, 1),
            "part_mb": part_mb,
            "rate_mbit": rate_mbit,
            "parts": _by_parts(folder, part_mb, server, api_key, session, Path(scratch) / "tmp"),
            "one_request": _one_request(folder, server, session, Path(scratch)),
        }
    figures["total_s_ratio"] = round(figures["parts"]["total_s"] / figures["one_request"]["total_s"], 3)
    click.echo(json.dumps(figures, indent=1))


def _folder(photos: Path, copies: int, folder: Path) -> Path:
    """Copy photos round-robin into a folder of `copies` files in 10 subfolders."""
    sources = sorted(p for p in photos.iterdir() if is_image_name(p.name))
    for i in range(copies):
        target = folder / f"d{i % 10}" / f"{i:05d}-{sources[i % len(sources)].name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sources[i % len(sources)], target)
    return folder


def _by_parts(folder: Path, part_mb: int, server: str, key: str, session, tmp: Path) -> dict:
    """Run whoru submit with its own TMPDIR, sampling the disk it uses and the job's progress."""
    tmp.mkdir()
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "whoru.cli",
            "submit",
            str(folder),
            "--server",
            server,
            "--api-key",
            key,
            "--part-mb",
            str(part_mb),
            "--wait",
            "--quiet",
        ],
        env={**os.environ, "TMPDIR": str(tmp)},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    job_id = next(line.split()[1] for line in process.stderr if line.rstrip().endswith(" open"))
    peak = {"bytes": 0}
    sampler = threading.Thread(target=_sample_disk, args=(tmp, process, peak), daemon=True)
    sampler.start()
    progress = _follow(session, server, job_id, started)
    process.wait()
    sampler.join()
    return {
        "job": job_id,
        "returncode": process.returncode,
        "peak_tmp_mb": round(peak["bytes"] / 2**20, 1),
        **progress,
        "total_s": round(time.monotonic() - started, 2),
    }


def _sample_disk(folder: Path, process: subprocess.Popen, peak: dict) -> None:
    """Record the largest size the folder reaches while the process runs."""
    while process.poll() is None:
        peak["bytes"] = max(peak["bytes"], _size(folder))
        time.sleep(0.02)


def _follow(session, server: str, job_id: str, started: float) -> dict:
    """Poll a job until it ends; return when the first image was done and when the last part arrived."""
    first_done = last_part = None
    parts = 0
    while True:
        job = session.get(f"{server}/v1/jobs/{job_id}", timeout=30).json()
        now = round(time.monotonic() - started, 2)
        seen = len(session.get(f"{server}/v1/jobs/{job_id}/parts", timeout=30).json()["parts"])
        if seen > parts:
            parts, last_part = seen, now
        if first_done is None and job["counts"]["images_done"] + job["counts"]["images_failed"]:
            first_done = now
        if job["status"] in FINAL:
            return {
                "parts_sent": parts,
                "first_image_done_s": first_done,
                "last_part_stored_s": last_part,
                "status": job["status"],
                "images_done": job["counts"]["images_done"],
            }
        time.sleep(0.1)


def _one_request(folder: Path, server: str, session, scratch: Path) -> dict:
    """Zip the folder, send it in one multipart request and wait for the job to end."""
    archive = scratch / "all.zip"
    started = time.monotonic()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(folder).as_posix())
    packed = time.monotonic()
    with archive.open("rb") as file:
        encoder = MultipartEncoder(fields=[("file", ("all.zip", file, "application/zip"))])
        job = session.post(
            f"{server}/v1/jobs", data=encoder, headers={"Content-Type": encoder.content_type}, timeout=3600
        ).json()
    sent = time.monotonic()
    while job["status"] not in FINAL:
        time.sleep(0.1)
        job = session.get(f"{server}/v1/jobs/{job['id']}", timeout=30).json()
    return {
        "job": job["id"],
        "pack_s": round(packed - started, 2),
        "upload_s": round(sent - packed, 2),
        "temp_disk_mb": round(archive.stat().st_size / 2**20, 1),
        "status": job["status"],
        "total_s": round(time.monotonic() - started, 2),
    }


def _paced_proxy(server: str, bytes_per_s: float) -> str:
    """Start a proxy to the server in a thread, pacing request bytes; return its URL."""
    host, port = server.split("://", 1)[1].split(":")
    listener = socket.create_server(("127.0.0.1", 0))

    async def pipe(reader, writer, pace: bool) -> None:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
            if pace:
                await asyncio.sleep(len(data) / bytes_per_s)
        writer.close()

    async def handle(client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pipe(client_reader, server_writer, True), pipe(server_reader, client_writer, False))

    async def serve() -> None:
        async with await asyncio.start_server(handle, sock=listener):
            await asyncio.Event().wait()

    threading.Thread(target=asyncio.run, args=(serve(),), daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def _size(folder: Path) -> int:
    """Return the bytes of the files under a folder (0 if it is gone)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                continue
    return total


if __name__ == "__main__":
    main()
