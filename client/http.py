"""Talk to a whoru server with an API key: open a job, put its parts, close it, poll, download.

Every request goes through urllib3's Retry: connection errors, 5xx and 429 (honouring
Retry-After) are retried with exponential backoff, so a dropped connection or a restarted server
costs a pause, not the upload. A response cut off after its headers (a server killed while it
answered) is retried the same way, with the same budget. Retrying is safe for every call made
here: PUT of a part and the close are idempotent, and the request that opens a job carries an
Idempotency-Key.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import ChunkedEncodingError
from urllib3.exceptions import MaxRetryError
from urllib3.util import Retry

FINAL = ("succeeded", "failed", "canceled")
RETRY = Retry(
    total=10,
    backoff_factor=1.0,
    backoff_max=30,
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=None,
    respect_retry_after_header=True,
    raise_on_status=False,
)
# The first call of a command says quickly that no server answers; later calls ride out a restart.
FIRST_CALL_RETRY = RETRY.new(total=2, backoff_max=2)


class ClientError(RuntimeError):
    """A submission the client cannot make or finish (no key, files changed since the first run); the message says."""


class ServerError(RuntimeError):
    """The server refused a request; the message is its JSON error."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _check(response: requests.Response) -> requests.Response:
    """Raise ServerError with the server's message for any non-2xx answer."""
    if response.ok:
        return response
    try:
        error = response.json()["error"]
        message = f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        message = response.text[:300]
    raise ServerError(response.status_code, f"HTTP {response.status_code} from {response.url}: {message}")


def content_disposition(name: str) -> str:
    """Return an RFC 6266 Content-Disposition naming a part: the name in filename*, an ASCII stand-in in filename."""
    fallback = "".join(char if " " <= char <= "~" and char not in '"\\' else "_" for char in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def server_url(server: str) -> str:
    """Return the server's base URL, with http:// added when no scheme is given."""
    server = server.strip().rstrip("/")
    return server if "://" in server else f"http://{server}"


class Client:
    """One server, one key."""

    def __init__(self, server: str, key: str | None):
        self.server, self.key = server_url(server), key
        self.http, self.first = _session(key, RETRY), _session(key, FIRST_CALL_RETRY)

    def copy(self) -> "Client":
        """Return a client of the same server and key with connections of its own (for another thread)."""
        return Client(self.server, self.key)

    def open_job(self, **options) -> dict:
        """Open a job to receive parts, with the given job options (None leaves the server default); return it."""
        headers = {"Idempotency-Key": f"submit-{uuid.uuid4()}"}
        body = {"open": True, **{name: value for name, value in options.items() if value is not None}}
        return _check(self.first.post(f"{self.server}/v1/jobs", json=body, headers=headers, timeout=60)).json()

    def put_part(
        self, job_id: str, n: int, path: Path, sha256: str, name: str, progress=None, packed: bool = False
    ) -> dict:
        """PUT one part from disk with its Content-Digest, streamed; return the server's record of it.

        A packed part is a zip of loose photos made here: its members keep their names, not the zip's.
        """
        digest = base64.b64encode(bytes.fromhex(sha256)).decode()
        headers = {
            "Content-Digest": f"sha-256=:{digest}:",
            "Content-Type": "application/octet-stream",
            "Content-Disposition": content_disposition(name),
        }
        with path.open("rb") as file:
            body = ProgressReader(file, path.stat().st_size, progress)
            response = self.http.put(
                f"{self.server}/v1/jobs/{job_id}/parts/{n}",
                params={"packed": str(packed).lower()},
                data=body,
                headers=headers,
                timeout=600,
            )
        return _check(response).json()

    def parts(self, job_id: str) -> list[dict]:
        """Return the parts the server has for a job, in order."""
        return _check(self.http.get(f"{self.server}/v1/jobs/{job_id}/parts", timeout=60)).json()["parts"]

    def close(self, job_id: str) -> dict:
        """Say that no more parts will come; return the job."""
        return _check(self.http.post(f"{self.server}/v1/jobs/{job_id}/close", timeout=60)).json()

    def job(self, job_id: str, first: bool = False) -> dict:
        """Return a job's status (failing fast when this is the command's first call)."""
        session = self.first if first else self.http
        return _check(session.get(f"{self.server}/v1/jobs/{job_id}", timeout=60)).json()

    def jobs_like(self, job_id: str) -> list[dict]:
        """Return this key's other unfinished jobs whose first part is the same as this job's."""
        return _check(self.http.get(f"{self.server}/v1/jobs/{job_id}/duplicates", timeout=60)).json()["jobs"]

    def jobs(self, limit: int) -> list[dict]:
        """Return up to limit jobs, newest first."""
        response = self.first.get(f"{self.server}/v1/jobs", params={"page_size": limit}, timeout=60)
        return _check(response).json()["jobs"]

    def wait(self, job_id: str, on_update=None, interval: float = 1.0) -> dict:
        """Poll until the job ends, calling on_update with each answer; return the final job."""
        while True:
            job = self.job(job_id)
            if on_update:
                on_update(job)
            if job["status"] in FINAL:
                return job
            time.sleep(interval)

    def download_csv(self, job_id: str, out: Path, table: str = "results") -> None:
        """Stream one of the job's CSV tables (`results`, or `people` of a people job) to a file."""
        with out.open("wb") as file:
            self.write_csv(job_id, file, table)

    def write_csv(self, job_id: str, file: BinaryIO, table: str = "results") -> None:
        """Stream one of the job's CSV tables into a binary file object."""
        with self.http.get(f"{self.server}/v1/jobs/{job_id}/{table}.csv", stream=True, timeout=3600) as response:
            _check(response)
            for chunk in response.iter_content(1 << 16):
                file.write(chunk)

    def results(self, job_id: str, page_size: int = 1000) -> Iterator[dict]:
        """Yield the job's images with their faces, in order, a page of results at a time."""
        token = None
        while True:
            params = {"page_size": page_size, **({"page_token": token} if token else {})}
            page = _check(self.http.get(f"{self.server}/v1/jobs/{job_id}/results", params=params, timeout=600)).json()
            yield from page["images"]
            token = page["next_page_token"]
            if not token:
                return

    def download_json(self, job_id: str, out: Path, page_size: int = 1000) -> None:
        """Write `{job, images}` with every page of results, streaming images to the file."""
        with out.open("w") as file:
            file.write('{"job": ' + json.dumps(self.job(job_id)) + ', "images": [')
            for i, image in enumerate(self.results(job_id, page_size)):
                file.write(("" if i == 0 else ", ") + json.dumps(image))
            file.write("]}\n")


class _RereadingAdapter(HTTPAdapter):
    """An adapter that also retries when a response's body breaks off.

    urllib3's Retry covers a request until the response's headers arrive; requests reads the body
    after that, outside it, so a server killed between its headers and its body failed the command.
    """

    def send(self, request, stream=False, **kwargs):
        """Send the request; unless streaming, read the body, sending again while it breaks off."""
        retries, start = self.max_retries, request.body.tell() if hasattr(request.body, "tell") else None
        while True:
            response = super().send(request, stream=True, **kwargs)
            if stream:
                return response
            try:
                response.content  # read here, where a broken body can still be sent for again
                return response
            except ChunkedEncodingError as error:
                response.close()
                try:
                    retries = retries.increment(request.method, request.url, error=error.args[0])
                except MaxRetryError:
                    raise error from None
            retries.sleep()
            if start is not None:
                request.body.seek(start)


def _session(key: str | None, retry: Retry) -> requests.Session:
    """Return a session that sends the key and retries as told."""
    session = requests.Session()
    adapter = _RereadingAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if key:
        session.headers["Authorization"] = f"Bearer {key}"
    return session


class ProgressReader:
    """A file body that reports bytes read, and rewinds (with its progress) when urllib3 retries."""

    def __init__(self, file, size: int, progress=None):
        self.file, self.size, self.progress = file, size, progress

    def __len__(self) -> int:
        return self.size

    def read(self, amount: int = -1) -> bytes:
        """Read from the file and count what was read."""
        data = self.file.read(amount)
        if self.progress:
            self.progress(len(data))
        return data

    def tell(self) -> int:
        """Return the position in the file."""
        return self.file.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move in the file; a rewind takes back the progress it had counted."""
        before = self.file.tell()
        after = self.file.seek(offset, whence)
        if self.progress and after != before:
            self.progress(after - before)
        return after
