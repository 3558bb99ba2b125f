"""Run one job through a bench stack and measure throughput, stages, latency and memory."""

from __future__ import annotations

import re
import statistics
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families
from requests_toolbelt import MultipartEncoder

from whoru.bench.stack import BenchStack

# Images at each end of a run over which a worker's peak memory is compared: flat when they match.
WINDOW = 100
_STATUS_LINE = r'"GET /v1/jobs/{job} HTTP/[0-9.]+" 200 .* (?P<us>\d+)us$'
# A task records its stage times just before it counts its images (worker/task_metrics.py), so
# once the count covers the job, so do the stage times.
_METRICS_DEADLINE_S = 60


def run_job(
    stack: BenchStack, workload: Path, pollers: int, poll_interval: float = 1.0, model: str | None = None
) -> dict:
    """Submit the workload (for the named model, else the default), wait for the job, and return every figure."""
    memory = _MemorySampler(stack)
    memory.start()
    before = _worker_totals(stack)
    submitted = datetime.now(timezone.utc)
    with workload.open("rb") as file:
        # Streamed as it is read, as a client would send it: Requests' own `files=` first builds the
        # whole body in memory, a second of the bench's own for a 412 MB zip.
        fields = {"file": (workload.name, file, "application/zip"), **({"model": model} if model else {})}
        body = MultipartEncoder(fields)
        response = stack.http.post(
            f"{stack.url}/v1/jobs", data=body, headers={"Content-Type": body.content_type}, timeout=3600
        )
    uploaded = datetime.now(timezone.utc)
    response.raise_for_status()
    job_id = response.json()["id"]
    latencies: list[float] = []
    threads = [
        threading.Thread(
            target=_poll, args=(stack, job_id, latencies, poll_interval, poll_interval * i / pollers), daemon=True
        )
        for i in range(pollers)
    ]
    for thread in threads:
        thread.start()
    job = _wait(stack, job_id, memory)
    for thread in threads:
        thread.join()
    rss_end = stack.rss_mb()
    csv = _download_csv(stack, job_id)
    memory.stop()
    wall = (datetime.fromisoformat(job["finished_at"]) - submitted).total_seconds()
    # Upload, ingest and queueing: the wall time before the first task starts.
    start = (datetime.fromisoformat(job["started_at"] or job["finished_at"]) - submitted).total_seconds()
    return {
        "job": job,
        "wall_s": wall,
        "start_s": start,
        "upload_s": (uploaded - submitted).total_seconds(),
        "latencies_ms": latencies,
        "server_latencies_ms": _server_latencies(stack.api_log, job_id),
        "stages": _stages(stack, before, job["counts"]["images_total"]),
        "rss_mb": memory.peak,
        "rss_after_1000": memory.after_1000,
        "rss_end": rss_end,
        "worker_rss_ends": memory.ends(job["counts"]["images_total"]),
        "csv": {**csv, "rss_mb_api_after": stack.rss_mb()["api"]},
    }


def _download_csv(stack: BenchStack, job_id: str) -> dict:
    """Stream the job's CSV export to nowhere, counting lines, while memory is still sampled."""
    started, lines, size = time.perf_counter(), 0, 0
    with stack.http.get(f"{stack.url}/v1/jobs/{job_id}/results.csv", stream=True, timeout=3600) as response:
        response.raise_for_status()
        for chunk in response.iter_content(1 << 16):
            lines, size = lines + chunk.count(b"\n"), size + len(chunk)
    return {"lines": lines, "mb": round(size / 2**20, 1), "seconds": round(time.perf_counter() - started, 2)}


def _wait(stack: BenchStack, job_id: str, memory: "_MemorySampler") -> dict:
    """Poll until the job ends, noting memory once 1,000 images are done."""
    while True:
        job = stack.http.get(f"{stack.url}/v1/jobs/{job_id}", timeout=60).json()
        memory.done = job["counts"]["images_done"] + job["counts"]["images_failed"]
        if memory.after_1000 is None and memory.done >= 1000:
            memory.after_1000 = memory.stack.rss_mb()
        if job["status"] in ("succeeded", "failed", "canceled"):
            return job
        time.sleep(0.2)


def _poll(stack: BenchStack, job_id: str, latencies: list[float], interval: float, start_after: float) -> None:
    """Poll a job's status as a client would, recording each request's latency, until it ends.

    A client waits between polls (the API sends Retry-After: 2); pollers that never wait measure
    how fast the API saturates, not how long a status request takes. Independent clients do not
    poll in step, so each starts at its own point of the interval: started together, they would
    stay in step and send all N requests in one burst every interval.
    """
    session = requests.Session()
    session.headers.update(stack.http.headers)
    time.sleep(start_after)
    while True:
        started = time.perf_counter()
        job = session.get(f"{stack.url}/v1/jobs/{job_id}", timeout=60).json()
        latencies.append((time.perf_counter() - started) * 1000)
        if job["status"] in ("succeeded", "failed", "canceled"):
            return
        time.sleep(interval)


def _server_latencies(log: Path, job_id: str) -> list[float]:
    """Return the milliseconds the API spent on each status request of a job, from its access log.

    Beside the latency the pollers see, this separates time in the server from time in the
    pollers' own process and in the network stack.
    """
    line = re.compile(_STATUS_LINE.format(job=re.escape(job_id)), re.MULTILINE)
    return [int(match["us"]) / 1000 for match in line.finditer(log.read_text(errors="replace"))]


def _worker_totals(stack: BenchStack) -> dict[str, float]:
    """Return the worker's images processed and seconds spent in each stage so far, from its Prometheus metrics."""
    totals: dict[str, float] = {"images": 0.0}
    text = requests.get(stack.worker_metrics_url, timeout=10).text
    for sample in (sample for family in text_string_to_metric_families(text) for sample in family.samples):
        if sample.name == "whoru_images_processed_total":
            totals["images"] += sample.value
        elif sample.name == "whoru_stage_duration_seconds_sum":
            totals[sample.labels["stage"]] = sample.value
    return totals


def _stages(stack: BenchStack, before: dict[str, float], images: int) -> dict[str, float]:
    """Return the milliseconds the worker spent in each stage on the job's images, once its metrics count them all."""
    deadline = time.monotonic() + _METRICS_DEADLINE_S
    while (after := _worker_totals(stack))["images"] - before["images"] < images:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the worker's metrics counted {after['images'] - before['images']} of {images} images")
        time.sleep(0.1)
    return {stage: (seconds - before.get(stage, 0.0)) * 1000 for stage, seconds in after.items() if stage != "images"}


def percentiles(values: list[float]) -> dict:
    """Return p50, p95 and p99 of a list of milliseconds (empty when nothing was polled)."""
    if len(values) < 2:
        return {}
    cuts = statistics.quantiles(values, n=100)
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "p99": round(cuts[98], 1), "requests": len(values)}


class _MemorySampler(threading.Thread):
    """Samples the stack's memory twice a second; keeps the peaks, and the largest worker's against the images done."""

    def __init__(self, stack: BenchStack):
        super().__init__(daemon=True)
        self.stack, self.peak, self.after_1000 = stack, {"api": 0.0, "workers": []}, None
        self.done, self.samples = 0, []  # images done (set by the poller); (done, MB) per sample
        self._stopped = threading.Event()

    def run(self) -> None:
        """Sample at once, then until stopped, and once more then: a tiny job ends within one period."""
        self._sample()
        while not self._stopped.wait(0.5):
            self._sample()
        self._sample()

    def _sample(self) -> None:
        """Fold the stack's current memory into the peaks."""
        now = self.stack.rss_mb()
        self.peak["api"] = max(self.peak["api"], now["api"])
        self.peak["workers"] = [max(a, b) for a, b in zip(self.peak["workers"] or now["workers"], now["workers"])]
        self.samples.append((self.done, max(now["workers"], default=0.0)))

    def ends(self, images: int) -> dict:
        """Return the largest worker's peak MB over the first WINDOW images done, and over the last WINDOW."""
        first = [mb for done, mb in self.samples if done < WINDOW]
        last = [mb for done, mb in self.samples if done >= images - WINDOW]
        return {"images": WINDOW, "first": max(first, default=None), "last": max(last, default=None)}

    def stop(self) -> None:
        """Stop sampling."""
        self._stopped.set()
        self.join()
