"""The API's /metrics (Prometheus text format, behind WHORU_METRICS_TOKEN): requests by endpoint and
status, their latency, and the queue as the database sees it. Labels are route templates, never
job ids or file names."""

from __future__ import annotations

import hmac
import time
from datetime import datetime, timezone

from flask import Flask, Response, abort, current_app, g, request
from flask_smorest import Blueprint
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from whoru.api.auth import bearer_token, unauthorized
from whoru.api.database import get_session
from whoru.db.queue_stats import images_pending, jobs_by_status, oldest_pending_arrival
from whoru.db.statuses import JobStatus
from whoru.prometheus import REGISTRY, scrape_registry

bp = Blueprint("metrics", __name__, description="Prometheus metrics")
# Uploads of many parts stream for minutes; status polls take milliseconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
REQUESTS = Counter(
    "whoru_http_requests_total",
    "API requests answered, by route template and status",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "whoru_http_request_duration_seconds",
    "Time to answer an API request, by route template",
    ["endpoint", "method"],
    buckets=BUCKETS,
    registry=REGISTRY,
)
DOC = {
    "security": [{"bearer": []}],
    "responses": {
        "200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}},
        "401": {"description": "Missing or wrong WHORU_METRICS_TOKEN"},
        "404": {"description": "Metrics are off: WHORU_METRICS_TOKEN is not set"},
    },
}


def init_app(app: Flask) -> None:
    """Count and time every request, where metrics are on."""
    if app.config["SETTINGS"].metrics_token:
        app.before_request(_start_clock)
        app.after_request(_count)


def _start_clock() -> None:
    """Note when the request began."""
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    """Count the answered request under its route template (so no job id ever becomes a label)."""
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    if "metrics_started" in g:
        LATENCY.labels(endpoint, request.method).observe(time.perf_counter() - g.metrics_started)
    return response


@bp.get("/metrics")
@bp.doc(**DOC)
def metrics():
    """Return every API process's metrics and the queue's, to a caller with the metrics token."""
    token = current_app.config["SETTINGS"].metrics_token
    if not token:
        abort(404)
    given = bearer_token()
    if given is None or not hmac.compare_digest(given.encode(), token.encode()):
        return unauthorized("send WHORU_METRICS_TOKEN as 'Authorization: Bearer TOKEN'")
    queue = CollectorRegistry()
    queue.register(QueueCollector())
    return Response(generate_latest(scrape_registry()) + generate_latest(queue), mimetype=CONTENT_TYPE_LATEST)


class QueueCollector:
    """Jobs by status, images pending and the oldest one's age, counted by the database at each scrape."""

    def collect(self):
        """Yield the queue's gauges."""
        session = get_session()
        jobs = GaugeMetricFamily("whoru_jobs", "Jobs by status", labels=["status"])
        counted = jobs_by_status(session)
        for status in JobStatus:
            jobs.add_metric([str(status)], counted.get(status, 0))
        yield jobs
        yield GaugeMetricFamily(
            "whoru_images_pending", "Images of queued or running jobs not yet processed", value=images_pending(session)
        )
        yield GaugeMetricFamily(
            "whoru_oldest_pending_image_age_seconds",
            "Seconds since the oldest pending image arrived (0 when none is pending)",
            value=_age_s(oldest_pending_arrival(session)),
        )


def _age_s(moment: datetime | None) -> float:
    """Return seconds since a moment, 0 for none."""
    if moment is None:
        return 0.0
    return max(0.0, (datetime.now(timezone.utc) - moment).total_seconds())
