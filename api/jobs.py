"""Open a job (or send a small one in one request), show it, list jobs, close, cancel and delete one."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime

from flask import abort, current_app, request, url_for
from flask_smorest import Blueprint
from kombu.exceptions import OperationalError as BrokerError
from marshmallow import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import IntegrityError

from whoru.api import queue, schemas
from whoru.api.auth import owned_job, owner_id
from whoru.api.database import get_session
from whoru.api.idempotency import earlier_job, request_digest
from whoru.api.limits import limit_jobs_in_flight, limit_upload_bytes
from whoru.api.paging import PAGING, decode_token, encode_token, page_size
from whoru.api.parts import append_part
from whoru.api.uploads import store_parts
from whoru.callback_urls import CallbackRefused, check_callback_url
from whoru.db import lifecycle
from whoru.db.jobs import counts, list_jobs, same_first_part
from whoru.db.quotas import hold_key
from whoru.db.schema import LABEL_LENGTH, Job
from whoru.db.statuses import IN_FLIGHT, JobStatus
from whoru.job_end import after_end, forget_job
from whoru.keys import owner_secret
from whoru.logs import get_logger, job_field
from whoru.results import job_json
from whoru.served_models import served_models
from whoru.storage import open_store
from whoru.storage.keys import job_prefix, remove_deleted_job_files, remove_job_files

bp = Blueprint("jobs", __name__, url_prefix="/v1/jobs", description="Jobs: create, follow, close, cancel, delete")
log = get_logger("api")
JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
CREATE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/JobOptions"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "callback_url": {"type": "string", "format": "uri", "description": schemas.CALLBACK},
                    "model": {"type": "string", "description": schemas.MODEL},
                    "people": {"type": "boolean", "description": schemas.PEOPLE},
                    "label": {"type": "string", "maxLength": LABEL_LENGTH, "description": schemas.LABEL},
                },
            }
        },
    },
}


@bp.post("")
@bp.response(201, schemas.Job, description="An open job (JSON body): send its parts, then close it")
@bp.alt_response(202, schema=schemas.Job, description="A job from multipart files, closed and queued")
@bp.alt_response(200, schema=schemas.Job, description="Idempotent replay of an earlier identical request")
@bp.alt_response(400, schema=schemas.Error, description="Bad body, or nothing that could be an image")
@bp.alt_response(409, schema=schemas.Error, description="Two files would give one image name; nothing was kept")
@bp.alt_response(413, schema=schemas.Error, description="Over the size or part limits")
@bp.alt_response(422, schema=schemas.Error, description="Idempotency-Key reused with another body")
@bp.alt_response(429, schema=schemas.Error, description="Per-key quota reached")
@bp.alt_response(503, schema=schemas.Error, description="Database or task queue unreachable")
@bp.doc(
    requestBody=CREATE_BODY,
    parameters=[{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 200}}],
)
def create():
    """Open a job (`{"open": true}`), or make one from multipart `file` parts, closed at once."""
    settings, session = current_app.config["SETTINGS"], get_session()
    # Checked again, atomically, when the job is added; here it spares reading a body for nothing.
    limit_jobs_in_flight(session, owner_id(), settings)
    if request.is_json:
        return _open(session)
    limit_upload_bytes(session, owner_id(), settings, request.content_length or 0)
    callback = _callback_url(request.form.get("callback_url"))
    model = _model(request.form.get("model"))
    people = _people(_form_flag(request.form.get("people")))
    label = _label(request.form.get("label"))
    job_id, store = str(uuid.uuid4()), open_store(settings)
    with store.kept_if_committed(job_prefix(job_id)):
        uploads = store_parts(request.files.getlist("file"), job_id, store, settings)
        digest = request_digest(
            [(upload.filename, upload.sha256) for upload, _ in uploads]
            + ([("callback_url", callback)] if callback else [])
            + [("model", model[0])]
            + ([("people", "true")] if people else [])
            + ([("label", label)] if label else [])
        )
        earlier = _earlier(session, digest)
        if earlier is not None:
            remove_job_files(store, job_id)
            return _answer(session, earlier, 200)
        job = _new_job(session, job_id, digest, callback, model, people, label)
        positions = [append_part(session, job, upload, images) for upload, images in uploads]
        lifecycle.close(session, job_id)
        _commit_new(session)
    # The parts went in together, so their images are one run, and small parts share tasks.
    queue.queue_or_forget(
        job_id,
        range(positions[0].start, positions[-1].stop),
        settings.task_images,
        lambda: forget_job(session, settings, job_id),
    )
    log.info("created images=%d parts=%d", job.images_total, len(uploads), extra=job_field(job_id))
    return _answer(session, job, 202)


def _open(session):
    """Create an open job with no images from a JSON body of options."""
    body = request.get_json(silent=True)
    try:
        options = schemas.JobOptions().load(body)
    except ValidationError as error:
        abort(
            400,
            description=f'send {{"open": true}} to open a job (and no options but model, people, callback_url, '
            f"label and try_it): {error.messages}",
        )
    callback = _callback_url(options.get("callback_url"))
    model = _model(options.get("model"))
    people = _people(options.get("people"))
    label = _label(options.get("label"))
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    earlier = _earlier(session, digest)
    if earlier is not None:
        return _answer(session, earlier, 200)
    job = _new_job(session, str(uuid.uuid4()), digest, callback, model, people, label, options.get("try_it", False))
    _commit_new(session)
    log.info("opened model=%s", model[0], extra=job_field(job.id))
    return _answer(session, job, 201)


def _callback_url(url: str | None) -> str | None:
    """Return a callback URL the workers may call (or None); 400 for any other."""
    settings = current_app.config["SETTINGS"]
    if url is None:
        return None
    if not (owner_secret(get_session(), owner_id()) or settings.webhook_secret):
        abort(
            400,
            description="this key has no webhook signing secret (give it one with `whoru keys "
            "rotate-webhook-secret NAME`); send no callback_url",
        )
    try:
        check_callback_url(url, settings.webhook_allow_private, settings.webhook_allow_loopback)
    except CallbackRefused as error:
        abort(400, description=str(error))
    return url


def _label(label) -> str | None:
    """Return a job's label, stripped (None when empty or not given); 400 for one that is not a short string."""
    if label is None:
        return None
    if not isinstance(label, str) or len(label) > LABEL_LENGTH:
        abort(400, description=f"label must be a string of at most {LABEL_LENGTH} characters")
    return label.strip() or None


def _earlier(session, digest: str) -> Job | None:
    """Return the job an Idempotency-Key already made with this body, if the request has one."""
    key = request.headers.get("Idempotency-Key")
    return earlier_job(session, owner_id(), key, digest) if key else None


def _new_job(
    session,
    job_id: str,
    digest: str,
    callback_url: str | None,
    model: tuple[str, str],
    people: bool,
    label: str | None,
    try_it: bool = False,
) -> Job:
    """Add an open job for this key, served by the model it chose, if its limit of jobs in flight allows one more."""
    hold_key(session, owner_id())
    limit_jobs_in_flight(session, owner_id(), current_app.config["SETTINGS"])
    key = request.headers.get("Idempotency-Key")
    return lifecycle.open_job(
        session, job_id, owner_id(), model, key, digest if key else None, callback_url, people, label, try_it
    )


def _form_flag(value: str | None) -> bool | str | None:
    """Return a form field's true or false as a boolean (anything else as it came, for _people to refuse)."""
    return {"true": True, "on": True, "1": True, "false": False, "off": False, "0": False}.get(
        (value or "").lower(), value
    )


def _people(requested) -> bool:
    """Return whether a job groups its faces by person (the server's default if unsaid); 400 for a non-boolean."""
    if requested is None:
        return current_app.config["SETTINGS"].people
    if not isinstance(requested, bool):
        abort(400, description="people must be true or false")
    return requested


def _commit_new(session) -> None:
    """Commit a new job; 409 if a concurrent request with the same Idempotency-Key won."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        abort(409, description="a request with this Idempotency-Key is being processed; retry shortly")


def _answer(session, job: Job, status: int):
    """Return the job with its Location (and, for a queued job, Retry-After)."""
    headers = {"Location": url_for("jobs.show", job_id=job.id)}
    if status == 202:
        headers["Retry-After"] = "2"
    return job_json(job, counts(session, job.id)), status, headers


@bp.get("/<job_id>")
@bp.response(200, schemas.Job, description="The job")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.doc(parameters=[JOB_ID])
def show(job_id: str):
    """Return a job's status and counts."""
    job = owned_job(job_id)
    headers = {"Retry-After": "2"} if job.status in IN_FLIGHT else {}
    return job_json(job, counts(get_session(), job_id)), 200, headers


@bp.get("/<job_id>/duplicates")
@bp.response(200, schemas.JobList, description="The unfinished jobs that were sent the same first part (no paging)")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.doc(parameters=[JOB_ID])
def duplicates(job_id: str):
    """List your other queued or running jobs whose first part has this job's SHA-256: the same files, sent twice."""
    session = get_session()
    jobs = same_first_part(session, owned_job(job_id))
    return {"jobs": [job_json(job, counts(session, job.id)) for job in jobs], "next_page_token": None}


@bp.patch("/<job_id>")
@bp.response(200, schemas.Job, description="The job, with its new label")
@bp.alt_response(400, schema=schemas.Error, description='A body other than {"label": ...}')
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.doc(
    parameters=[JOB_ID],
    requestBody={
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobChange"}}},
    },
)
def change(job_id: str):
    """Change a job's label (null or "" removes it), whatever its status."""
    session = get_session()
    job = owned_job(job_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"label"}:
        abort(400, description='send {"label": "a name for the job"}; the label is all that can change')
    job.label = _label(body["label"])
    session.commit()
    log.info("labelled", extra=job_field(job_id))
    return job_json(job, counts(session, job_id))


@bp.get("")
@bp.response(200, schemas.JobList, description="A page of jobs, newest first")
@bp.alt_response(400, schema=schemas.Error, description="Bad page_size, page_token or try_it")
@bp.doc(
    parameters=[
        *PAGING,
        {
            "name": "try_it",
            "in": "query",
            "schema": {"type": "boolean"},
            "description": "false hides the web page's Try it jobs; true lists only them",
        },
    ]
)
def index():
    """Return jobs newest first, a page at a time."""
    size = page_size(current_app.config["SETTINGS"])
    session = get_session()
    jobs = list_jobs(session, owner_id(), size + 1, _decode_cursor(request.args.get("page_token")), _try_it_filter())
    token = _encode_cursor(jobs[size - 1]) if len(jobs) > size else None
    return {"jobs": [job_json(job, counts(session, job.id)) for job in jobs[:size]], "next_page_token": token}


@bp.post("/<job_id>/close")
@bp.response(200, schemas.Job, description="The job, closed: it ends once no image is pending")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.doc(parameters=[JOB_ID])
def close(job_id: str):
    """Say that no more parts will come (safe to repeat)."""
    session = get_session()
    job = owned_job(job_id)
    ended = lifecycle.close(session, job_id)
    session.commit()
    after_end(current_app.config["SETTINGS"], job_id, ended, _queue_webhook, queue.queue_grouping)
    session.refresh(job)
    log.info("closed status=%s", job.status, extra=job_field(job_id))
    return job_json(job, counts(session, job_id))


@bp.post("/<job_id>/cancel")
@bp.response(200, schemas.Job, description="The job, canceled")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.alt_response(409, schema=schemas.Error, description="The job has already ended")
@bp.doc(parameters=[JOB_ID])
def cancel(job_id: str):
    """Stop a queued or running job, open or not; images not yet processed stay pending."""
    session = get_session()
    job = owned_job(job_id)
    canceled = lifecycle.cancel(session, job_id)
    session.commit()
    if not canceled:
        abort(409, description=f"job {job_id} has already ended; there is nothing to cancel")
    after_end(current_app.config["SETTINGS"], job_id, JobStatus.CANCELED, _queue_webhook, queue.queue_grouping)
    session.refresh(job)
    log.info("cancel requested status=%s", job.status, extra=job_field(job_id))
    return job_json(job, counts(session, job_id))


@bp.delete("/<job_id>")
@bp.response(204, description="Deleted")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.doc(parameters=[JOB_ID])
def remove(job_id: str):
    """Delete a job (open or not), its rows, its stored uploads and previews; running tasks find it gone and stop."""
    session = get_session()
    owned_job(job_id)
    lifecycle.delete_jobs(session, [job_id])
    session.commit()
    remove_deleted_job_files(open_store(current_app.config["SETTINGS"]), job_id)
    log.info("deleted", extra=job_field(job_id))
    return ""


def _queue_webhook(job_id: str) -> None:
    """Queue an ended job's webhook if it has a callback URL; if the queue is down, the next worker queues it."""
    if not get_session().get(Job, job_id).callback_url:
        return
    try:
        queue.queue_webhook(job_id)
    except (BrokerError, RedisConnectionError, ConnectionError) as error:
        log.warning("webhook not queued yet: %s", error, extra=job_field(job_id))


def _model(requested) -> tuple[str, str]:
    """Return the name and version of the model a job asks for (the default if none); 400 for another."""
    if "MODELS" not in current_app.config:
        current_app.config["MODELS"] = served_models(current_app.config["SETTINGS"])
    models = current_app.config["MODELS"]
    if requested is None:
        requested = next(iter(models))
    if requested not in models:
        abort(400, description=f"unknown model {requested!r}; this server serves {', '.join(models)}")
    return models[requested].name, models[requested].version


def _try_it_filter() -> bool | None:
    """Return the try_it query parameter as a boolean, None when absent; 400 for another value."""
    value = request.args.get("try_it")
    if value is None:
        return None
    if value not in ("true", "false"):
        abort(400, description="try_it must be true or false")
    return value == "true"


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
