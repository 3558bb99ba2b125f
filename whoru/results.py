"""The JSON shape of a job and of its per-image results, as the API and the CLI give them."""

from __future__ import annotations

from datetime import datetime

from whoru.db.jobs import Counts
from whoru.db.schema import Image, Job
from whoru.faces.face import face_json


def _iso(moment: datetime | None) -> str | None:
    """Return an ISO 8601 UTC timestamp, or None."""
    return None if moment is None else moment.isoformat()


def job_json(job: Job, counts: Counts) -> dict:
    """Return the public view of a job."""
    return {
        "id": job.id,
        "label": job.label,
        "try_it": job.try_it,
        "status": job.status,
        "open": job.open,
        "error": job.error,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "closed_at": _iso(job.closed_at),
        "closed_by": job.closed_by,
        "counts": {
            "images_total": counts.images_total,
            "images_done": counts.images_done,
            "images_failed": counts.images_failed,
            "faces": counts.faces,
        },
        "model": {"name": job.model_name, "version": job.model_version},
        "callback_url": job.callback_url,
        "webhook": _webhook(job),
        "people": job.people,
        "people_status": job.people_status,
        "links": {
            "self": f"/v1/jobs/{job.id}",
            "parts": f"/v1/jobs/{job.id}/parts",
            "results": f"/v1/jobs/{job.id}/results",
            "csv": f"/v1/jobs/{job.id}/results.csv",
            **({"people": f"/v1/jobs/{job.id}/people"} if job.people else {}),
        },
    }


def _webhook(job: Job) -> dict | None:
    """Return where the delivery of a job's webhook stands, if it has a callback URL."""
    if job.callback_url is None:
        return None
    return {
        "status": job.webhook_status,
        "attempts": job.webhook_attempts,
        "last_status": job.webhook_last_status,
        "last_error": job.webhook_last_error,
    }


def image_json(image: Image) -> dict:
    """Return the public view of one image and its faces."""
    error = {"code": image.error_code, "message": image.error_message} if image.error_code else None
    return {
        "position": image.position,
        "name": image.name,
        "status": image.status,
        "error": error,
        "width": image.width,
        "height": image.height,
        "taken_at": None if image.taken_at is None else image.taken_at.isoformat(),
        "faces": [face_json(face) for face in image.faces],
    }
