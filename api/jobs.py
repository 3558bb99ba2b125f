"""Create jobs from uploads, show one job, list jobs, cancel a job."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, abort, current_app, request, url_for
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from api import queue
from api.auth import owned_job, owner_id
from api.database import get_session
from api.idempotency import earlier_job, request_digest
from api.limits import limit_images, limit_jobs_in_flight, limit_upload_bytes
from api.paging import decode_token, encode_token, page_size
from api.uploads import store_parts
from whoru.db.jobs import IN_FLIGHT_JOB_STATUSES, add_job, counts, delete_jobs, list_jobs
from whoru.db.schema import Job
from whoru.logs import get_logger
from whoru.results import job_json
from whoru.storage import remove_job_files

bp = Blueprint("jobs", __name__, url_prefix="/v1/jobs")
log = get_logger("api")


@bp.post("")
def create():
    """Store the uploaded files, create a queued job and hand it to the workers."""
    settings, session = current_app.config["SETTINGS"], get_session()
    limit_jobs_in_flight(session, owner_id(), settings)
    limit_upload_bytes(session, owner_id(), settings, request.content_length or 0)
    job_id, uploads = store_parts(request.files.getlist("file"), settings)
    limit_upload_bytes(session, owner_id(), settings, sum(upload.bytes for upload, _ in uploads), job_id)
    limit_images(uploads, settings, job_id)
    key = request.headers.get("Idempotency-Key")
    digest = request_digest(uploads) if key else None
    earlier = earlier_job(session, owner_id(), key, digest) if key else None
    if earlier is not None:
        remove_job_files(settings.storage_dir, job_id)
        return _answer(session, earlier, 200)
    job = _insert_job(session, job_id, uploads, key, digest, settings)
    try:
        queue.start_job(job_id)
    except Exception:
        _forget(session, job, settings)
        raise
    log.info("job=%s created images=%d parts=%d", job_id, job.images_total, len(uploads))
    return _answer(session, job, 202)


def _answer(session, job: Job, status: int):
    """Return the job with its Location (and, for a new job, Retry-After)."""
    headers = {"Location": url_for("jobs.show", job_id=job.id)}
    if status == 202:
        headers["Retry-After"] = "2"
    return job_json(job, counts(session, job.id)), status, headers


def _insert_job(session, job_id: str, uploads, key: str | None, digest: str | None, settings) -> Job:
    """Commit the job with its uploads and images; 409 if a concurrent same-key request won."""
    model = current_app.config.get("MODEL_CARD") or _model_card(settings.model)
    job = Job(id=job_id, status="queued", model_name=model["name"], model_version=model["version"],
              api_key_id=owner_id(), idempotency_key=key, request_sha256=digest)
    add_job(session, job, uploads)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        remove_job_files(settings.storage_dir, job_id)
        abort(409, description="a request with this Idempotency-Key is being processed; retry shortly")
    return job


@bp.get("/<job_id>")
def show(job_id: str):
    """Return a job's status and counts."""
    session = get_session()
    job = owned_job(job_id)
    headers = {"Retry-After": "2"} if job.status in IN_FLIGHT_JOB_STATUSES else {}
    return job_json(job, counts(session, job_id)), 200, headers


@bp.get("")
def index():
    """Return jobs newest first, a page at a time."""
    settings = current_app.config["SETTINGS"]
    size = page_size(settings)
    session = get_session()
    jobs = list_jobs(session, owner_id(), size + 1, _decode_cursor(request.args.get("page_token")))
    token = _encode_cursor(jobs[size - 1]) if len(jobs) > size else None
    return {"jobs": [job_json(job, counts(session, job.id)) for job in jobs[:size]], "next_page_token": token}


@bp.post("/<job_id>/cancel")
def cancel(job_id: str):
    """Stop a queued or running job; images not yet processed stay pending."""
    session = get_session()
    job = owned_job(job_id)
    session.execute(update(Job).where(Job.id == job_id, Job.status.in_(IN_FLIGHT_JOB_STATUSES)).values(status="canceled"))
    session.commit()
    session.refresh(job)
    settings = current_app.config["SETTINGS"]
    if job.status == "canceled" and not settings.keep_uploads:
        remove_job_files(settings.storage_dir, job_id)
    log.info("job=%s cancel requested status=%s", job_id, job.status)
    return job_json(job, counts(session, job_id))


@bp.delete("/<job_id>")
def remove(job_id: str):
    """Delete a job, its rows and its stored uploads; running tasks find it gone and stop."""
    session = get_session()
    owned_job(job_id)
    delete_jobs(session, [job_id])
    session.commit()
    remove_job_files(current_app.config["SETTINGS"].storage_dir, job_id)
    log.info("job=%s deleted", job_id)
    return "", 204


def _forget(session, job: Job, settings) -> None:
    """Remove a job that could not be queued, so the client's retry is the only copy."""
    delete_jobs(session, [job.id])
    session.commit()
    remove_job_files(settings.storage_dir, job.id)
    log.warning("job=%s removed: the task queue was unreachable", job.id)


def _model_card(model_dir) -> dict:
    """Read the served model's name and version from its card (cached on the app)."""
    card = json.loads((model_dir / "card.json").read_text())
    current_app.config["MODEL_CARD"] = {"name": card["name"], "version": card["version"]}
    return current_app.config["MODEL_CARD"]


def _encode_cursor(job: Job) -> str:
    """Return an opaque token for the position after a job."""
    return encode_token(f"jobs:{owner_id()}", f"{job.created_at.isoformat()}|{job.id}")


def _decode_cursor(token: str | None) -> tuple | None:
    """Return the (created_at, id) a token stands for."""
    if not token:
        return None
    try:
        created, job_id = decode_token(f"jobs:{owner_id()}", token).split("|", 1)
        return datetime.fromisoformat(created), job_id
    except ValueError:
        abort(400, description="page_token is not valid")
