"""Send a submission's parts one at a time, skipping those the server already has, with progress.

One part is on disk at a time, so a folder of any size needs the free space of one part. While
parts go up, a second connection polls the job, so the images bar moves during the upload.
"""

from __future__ import annotations

import threading
from pathlib import Path

import click

from whoru.client import http
from whoru.client.packing import PhotoFile, build, plan
from whoru.client.progress import progress


class Uploader:
    """One submission: its files, the job they go into, and the two progress bars."""

    def __init__(self, client: http.Client, items: list, max_bytes: int, show_progress: bool):
        self.client, self.items, self.max_bytes, self.show = client, items, max_bytes, show_progress
        self.remote: dict[int, dict] = {}
        self.job: dict = {}

    def start(self, resume_id: str | None, **options) -> dict:
        """Open a new job with these job options, or read what the server has of the job being resumed."""
        if resume_id is None:
            self.job = self.client.open_job(**options)
            return self.job
        self.job = self.client.job(resume_id, first=True)
        job_id = self.job["id"]
        if not self.job["open"]:
            raise http.ClientError(
                f"job {job_id} is {self.job['status']} and no longer open, so it takes no more "
                f"parts; wait for its results with `whoru wait {job_id[:8]}`"
            )
        self.remote = {part["n"]: part for part in self.client.parts(job_id)}
        click.echo(f"resuming: the server has {len(self.remote)} parts of job {job_id}", err=True)
        return self.job

    def send_all(self, folder: Path, watch: bool) -> dict:
        """Send every part the server lacks, then close the job; return it."""
        total = sum(item.size if isinstance(item, PhotoFile) else item.stat().st_size for item in self.items)
        with progress(total, "upload", "B", 0, not self.show) as sent:
            poller = _Poller(self) if watch else None
            try:
                planned = [self._send(part, folder, sent) for part in plan(self.items, self.max_bytes)]
            finally:
                if poller:
                    poller.stop()
        if len(self.remote) > len(planned):
            raise http.ClientError(
                f"the server has {len(self.remote)} parts, these paths make {len(planned)}: "
                "the files changed since the first run; nothing was merged"
            )
        if self.remote:
            click.echo(
                f"{len(self.remote)} parts were already on the server, {len(planned) - len(self.remote)} sent", err=True
            )
        return self.client.close(self.job["id"])

    def _send(self, part, folder: Path, sent) -> int:
        """Send one part unless the server has it already; a different digest means the files changed."""
        with build(part, folder) as (path, sha256):
            size = path.stat().st_size
            # The bar started from the files' sizes; a packed part also holds zip headers.
            sent.total += size - part.raw_bytes
            sent.refresh()
            known = self.remote.get(part.n)
            if known is None:
                self.client.put_part(self.job["id"], part.n, path, sha256, part.name, sent.update, part.archive is None)
            elif known["sha256"] != sha256:
                raise http.ClientError(
                    f"part {part.n} ({part.name}) differs from the one the server has: "
                    "the files changed since the first run; nothing was merged"
                )
            else:
                sent.update(size)
        return part.n

    def wait(self, job_id: str) -> dict:
        """Poll until the job ends, with the images bar; return the final job."""
        return wait(self.client, job_id, self.show)


def wait(client: http.Client, job_id: str, show_progress: bool) -> dict:
    """Poll until a job ends, moving a bar over its images; return the final job."""
    with images_bar(show_progress) as bar:
        return client.wait(job_id, lambda job: _show(bar, job))


def images_bar(show_progress: bool):
    """Return a bar over a job's images, below the upload bar (plain lines when not on a terminal)."""
    return progress(0, "process", "img", 1, not show_progress)


class _Poller:
    """A background thread that polls the job on a connection of its own and moves the images bar."""

    def __init__(self, uploader: Uploader, interval: float = 1.0):
        self.client = uploader.client.copy()
        self.job_id, self.bar, self.interval = uploader.job["id"], images_bar(uploader.show), interval
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        """Poll until stopped; a failed poll is only a missed update."""
        while not self.done.wait(self.interval):
            try:
                _show(self.bar, self.client.job(self.job_id))
            except (http.ServerError, http.requests.RequestException):
                continue

    def stop(self) -> None:
        """Stop polling and close the bar."""
        self.done.set()
        self.thread.join()
        self.bar.close()


def _show(bar, job: dict) -> None:
    """Move a bar to a job's counts."""
    counts = job["counts"]
    bar.total = counts["images_total"]
    bar.update(counts["images_done"] + counts["images_failed"] - bar.n)
    bar.set_postfix(faces=counts["faces"], status=job["status"])
