"""Talk to a whoru server with an API key: upload with a progress bar, poll, download."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path

import requests
from requests_toolbelt import MultipartEncoder, MultipartEncoderMonitor
from tqdm import tqdm

FINAL = ("succeeded", "failed", "canceled")


class ServerError(RuntimeError):
    """The server refused a request; the message is its JSON error."""


def _check(response: requests.Response) -> requests.Response:
    """Raise ServerError with the server's message for any non-2xx answer."""
    if response.ok:
        return response
    try:
        error = response.json()["error"]
        message = f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        message = response.text[:300]
    raise ServerError(f"HTTP {response.status_code} from {response.url}: {message}")


class Client:
    """One server, one key."""

    def __init__(self, server: str, key: str | None):
        self.server = server.rstrip("/")
        self.http = requests.Session()
        if key:
            self.http.headers["Authorization"] = f"Bearer {key}"

    def upload(self, parts: list[Path], show_progress: bool = True) -> dict:
        """POST all parts as one job, streamed from disk; return the job."""
        with ExitStack() as stack:
            fields = [("file", (p.name, stack.enter_context(p.open("rb")), "application/zip")) for p in parts]
            encoder = MultipartEncoder(fields=fields)
            bar = stack.enter_context(tqdm(total=encoder.len, unit="B", unit_scale=True, desc="upload", disable=not show_progress))
            monitor = MultipartEncoderMonitor(encoder, lambda m: bar.update(m.bytes_read - bar.n))
            response = self.http.post(f"{self.server}/v1/jobs", data=monitor, headers={"Content-Type": monitor.content_type}, timeout=3600)
        return _check(response).json()

    def job(self, job_id: str) -> dict:
        """Return a job's status."""
        return _check(self.http.get(f"{self.server}/v1/jobs/{job_id}", timeout=60)).json()

    def wait(self, job_id: str, show_progress: bool = True, interval: float = 1.0) -> dict:
        """Poll until the job ends, with a progress bar over its images; return the final job."""
        job = self.job(job_id)
        with tqdm(total=job["counts"]["images_total"], unit="img", desc="process", disable=not show_progress) as bar:
            while True:
                counts = job["counts"]
                bar.update(counts["images_done"] + counts["images_failed"] - bar.n)
                bar.set_postfix(faces=counts["faces"], status=job["status"])
                if job["status"] in FINAL:
                    return job
                time.sleep(interval)
                job = self.job(job_id)

    def download_csv(self, job_id: str, out: Path) -> None:
        """Stream the job's CSV to a file."""
        with self.http.get(f"{self.server}/v1/jobs/{job_id}/results.csv", stream=True, timeout=3600) as response:
            _check(response)
            with out.open("wb") as file:
                for chunk in response.iter_content(1 << 16):
                    file.write(chunk)

    def download_json(self, job_id: str, out: Path, page_size: int = 1000) -> None:
        """Write `{job, images}` with every page of results, streaming images to the file."""
        with out.open("w") as file:
            file.write('{"job": ' + json.dumps(self.job(job_id)) + ', "images": [')
            token, first = None, True
            while True:
                params = {"page_size": page_size, **({"page_token": token} if token else {})}
                page = _check(self.http.get(f"{self.server}/v1/jobs/{job_id}/results", params=params, timeout=600)).json()
                for image in page["images"]:
                    file.write(("" if first else ", ") + json.dumps(image))
                    first = False
                token = page["next_page_token"]
                if not token:
                    break
            file.write("]}\n")
