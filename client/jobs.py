"""`whoru.Client`: a running service from Python, on the CLI's upload code: submit, wait, read results.

Uploads go part by part exactly as `whoru submit` sends them, so a submission stopped midway
continues with `resume=job_id`. Results come as the API's image dicts, as the results CSV, or
as a pandas DataFrame of that CSV (one row per face), with the optional `whoru[pandas]`.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from whoru.client import http
from whoru.client.connect import connect
from whoru.client.packing import refuse_unsendable, scan
from whoru.client.upload import Uploader, wait

PathLike = str | os.PathLike
MB = 1024 * 1024


class Client:
    """A whoru service and the key to use it: given, else WHORU_SERVER and WHORU_API_KEY, else `whoru serve`'s key."""

    def __init__(self, server: str | None = None, api_key: str | None = None):
        self.http = connect(server, api_key)

    def __repr__(self) -> str:
        """Name the service this client talks to."""
        return f"whoru.Client({self.http.server!r})"

    def submit(
        self,
        paths: PathLike | Iterable[PathLike],
        model: str | None = None,
        people: bool | None = None,
        progress: bool = True,
        resume: str | None = None,
        part_mb: int = 256,
    ) -> Job:
        """Upload images, folders (recursively) and zip archives as one job, part by part, and close it.

        `model` and `people` are the job's options (None: the server's default). To finish a
        submission that stopped, call again with the same paths and `resume` set to its job id.
        """
        found = scan(_existing(paths))
        refuse_unsendable(found)
        uploader = Uploader(self.http, found.items, part_mb * MB, progress)
        job = uploader.start(resume, model=model, people=people)
        try:
            with tempfile.TemporaryDirectory(prefix="whoru-submit-") as folder:
                return Job(self.http, uploader.send_all(Path(folder), progress))
        except (http.ClientError, http.ServerError, http.requests.RequestException) as error:
            error.add_note(
                f"job {job['id']} stays open with the parts sent so far; "
                f"finish it with submit(the same paths, resume={job['id']!r})"
            )
            raise

    def job(self, job_id: str) -> Job:
        """Return a job of this key, to follow or read again (ServerError 404 if there is none)."""
        return Job(self.http, self.http.job(job_id, first=True))

    def jobs(self, limit: int = 20) -> list[Job]:
        """Return this key's jobs, newest first."""
        return [Job(self.http, info) for info in self.http.jobs(limit)]


def _existing(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    """Return the paths given (one, or several), with ~ expanded; refuse one that does not exist, before any upload."""
    expanded = [Path(path).expanduser() for path in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    missing = [path for path in expanded if not path.exists()]
    if missing:
        raise http.ClientError(f"{missing[0]} does not exist; nothing was sent")
    return expanded


class Job:
    """One job on the service; `info` is the API's view of it when last asked."""

    def __init__(self, client: http.Client, info: dict):
        self.client, self.info = client, info

    @property
    def id(self) -> str:
        """Return the job's id."""
        return self.info["id"]

    def __repr__(self) -> str:
        """Name the job and the status it had when last asked."""
        return f"whoru.Job({self.id!r}, status={self.info['status']!r})"

    def status(self) -> dict:
        """Return the job as the API gives it now: status, counts, model, timings."""
        self.info = self.client.job(self.id)
        return self.info

    def wait(self, progress: bool = True) -> dict:
        """Wait until the job ends (succeeded, failed or canceled) and return it."""
        self.info = wait(self.client, self.id, progress)
        return self.info

    def results(self, partial: bool = False) -> Iterator[dict]:
        """Yield the job's images in order, each with its faces, as the API gives them."""
        self._refuse_unfinished(partial)
        return self.client.results(self.id)

    def to_csv(self, path: PathLike, partial: bool = False) -> Path:
        """Write the job's results CSV (one row per face, one per image without faces) and return its path."""
        self._refuse_unfinished(partial)
        self.client.download_csv(self.id, Path(path))
        return Path(path)

    def to_dataframe(self, partial: bool = False):
        """Return the job's results CSV as a pandas DataFrame: one row per face, one per image without faces."""
        try:
            import pandas
        except ImportError as error:
            raise ImportError("Job.to_dataframe needs pandas: pip install 'whoru[pandas]'") from error
        self._refuse_unfinished(partial)
        buffer = io.BytesIO()
        self.client.write_csv(self.id, buffer)
        buffer.seek(0)
        return pandas.read_csv(buffer)

    def _refuse_unfinished(self, partial: bool) -> None:
        """Refuse the results of a job that has not ended, unless what there is so far is asked for."""
        if partial or self.info["status"] in http.FINAL or self.status()["status"] in http.FINAL:
            return
        counts = self.info["counts"]
        raise http.ClientError(
            f"job {self.id} is {self.info['status']} ({counts['images_done'] + counts['images_failed']}"
            f"/{counts['images_total']} images): its results are not final; call wait() first, "
            "or pass partial=True for what there is so far"
        )
