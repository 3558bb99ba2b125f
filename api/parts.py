"""A job's parts: `PUT /v1/jobs/{id}/parts/{n}` stores one, checked against its Content-Digest and
queued at once; `GET /v1/jobs/{id}/parts` lists what the server has, which is what a client resumes from."""

from __future__ import annotations

import base64
import re

from flask import abort, current_app, request, url_for
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Conflict, NotFound
from werkzeug.http import parse_options_header

from whoru.api import queue, schemas
from whoru.api.auth import owned_job, owner_id
from whoru.api.database import get_session
from whoru.api.limits import limit_images, limit_upload_bytes
from whoru.api.names import refuse_shared_with_job
from whoru.api.uploads import describe, display_name, spool_body
from whoru.db.jobs import part, parts
from whoru.db.lifecycle import PartRefused, add_part
from whoru.db.quotas import hold_key
from whoru.db.schema import Job, Upload
from whoru.job_end import forget_part
from whoru.local_files import removed_unless_committed
from whoru.logs import get_logger, job_field
from whoru.storage import open_store
from whoru.storage.keys import attempt_key, remove_deleted_job_files

bp = Blueprint("parts", __name__, url_prefix="/v1/jobs", description="Fill an open job part by part")
log = get_logger("api")
# RFC 9530 dictionary members such as `sha-256=:<base64>:`; other algorithms are ignored.
DIGEST_MEMBER = re.compile(r"([A-Za-z0-9_-]+)\s*=\s*:([A-Za-z0-9+/=]*):")


@bp.put("/<job_id>/parts/<int:n>")
@bp.response(201, schemas.Part, description="The part is stored and its images are queued")
@bp.alt_response(
    200, schema=schemas.Part, description="This part was already stored with the same digest: nothing changed"
)
@bp.alt_response(
    400,
    schema=schemas.Error,
    description="No, malformed, disagreeing or mismatching Content-Digest; "
    "a body short of its Content-Length or badly chunked; a name with control characters; nothing kept",
)
@bp.alt_response(404, schema=schemas.Error, description="No such job (or it was deleted while the part arrived)")
@bp.alt_response(
    409,
    schema=schemas.Error,
    description="Another body for this n, a part out of order, a closed job, or an image name an earlier part gave",
)
@bp.alt_response(413, schema=schemas.Error, description="Part over the size, entry or part-count limits")
@bp.alt_response(429, schema=schemas.Error, description="Per-key quota reached")
@bp.doc(
    parameters=[
        {
            "name": "Content-Digest",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "sha-256=:<base64 of the body's SHA-256>: (RFC 9530)",
        },
        {
            "name": "Content-Disposition",
            "in": "header",
            "schema": {"type": "string"},
            "description": "attachment; filename=\"holiday.zip\" (or RFC 6266 filename*=UTF-8''...): the part's name "
            "(an image's name in the results; a zip's members are named under it: holiday.zip/beach.jpg)",
        },
        {
            "name": "packed",
            "in": "query",
            "schema": {"type": "boolean", "default": False},
            "description": "true for a zip the client packed from loose photos: its members keep their own "
            "names (folder/photo.jpg), not the zip's",
        },
    ],
    requestBody={
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
)
def put_part(job_id: str, n: int):
    """Store part n (one image or one zip of images) and queue its images."""
    settings, session = current_app.config["SETTINGS"], get_session()
    job = owned_job(job_id)
    claimed = _claimed_sha256()
    if n >= settings.max_job_parts:
        abort(413, description=f"a job takes at most {settings.max_job_parts} parts")
    existing = part(session, job_id, n)
    if existing is None:
        _refuse_unless_open(job)
        limit_upload_bytes(session, owner_id(), settings, request.content_length or 0)
    store = open_store(settings)
    spooled, sha256 = spool_body(request.stream, store.incoming, request.content_length)
    with removed_unless_committed(spooled):
        if sha256 != claimed:
            abort(
                400,
                description=f"the body's SHA-256 is {sha256}, not the {claimed} its "
                "Content-Digest says; nothing was kept",
            )
        if existing is not None:
            spooled.unlink()
            return _replay(existing, sha256)
        upload, images = describe(
            spooled, store.location(attempt_key(job_id, n)), _part_name(n), n, sha256, settings, _packed()
        )
        refuse_shared_with_job(session, job_id, upload, images)
        store.put_file(upload.path, spooled)
    try:
        positions = _commit(session, job, upload, images)
    except Conflict:
        # A request racing this one (a client's retry) stored part n first: answer as if this came after it.
        winner = part(session, job_id, n)
        if winner is None:
            raise
        return _replay(winner, sha256)
    queue.queue_or_forget(job_id, positions, settings.task_images, lambda: forget_part(session, settings, upload))
    log.info("part=%d stored bytes=%d images=%d", n, upload.bytes, upload.image_count, extra=job_field(job_id))
    return part_json(upload), 201, {"Location": url_for("parts.list_parts", job_id=job_id)}


@bp.get("/<job_id>/parts")
@bp.response(200, schemas.PartList, description="Every part received, in order, with its digest")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
def list_parts(job_id: str):
    """List the parts the server has for a job."""
    owned_job(job_id)
    return {"parts": [part_json(upload) for upload in parts(get_session(), job_id)]}


def part_json(upload: Upload) -> dict:
    """Return the public view of one part."""
    digest = base64.b64encode(bytes.fromhex(upload.sha256 or "")).decode()
    return {
        "n": upload.position,
        "name": upload.filename,
        "bytes": upload.bytes,
        "sha256": upload.sha256,
        "content_digest": f"sha-256=:{digest}:",
        "images": upload.image_count,
    }


def append_part(session, job: Job, upload: Upload, images: list[dict]) -> range:
    """Apply the per-key quotas to a stored part and append it to its job (the caller commits)."""
    settings = current_app.config["SETTINGS"]
    hold_key(session, owner_id())
    limit_upload_bytes(session, owner_id(), settings, upload.bytes)
    limit_images(job.images_total, len(images), settings)
    try:
        return add_part(session, job.id, upload, images)
    except PartRefused as refused:
        abort(404 if refused.code == "job_gone" else 409, description=str(refused))


def _commit(session, job: Job, upload: Upload, images: list[dict]) -> range:
    """Append a stored part and commit; this request's object goes if the commit does not happen."""
    store, job_id = open_store(current_app.config["SETTINGS"]), job.id
    try:
        positions = append_part(session, job, upload, images)
        session.commit()
    except IntegrityError:
        session.rollback()
        store.delete(upload.path)
        abort(
            409,
            description=f"part {upload.position} is being stored by another request; GET the job's parts, then retry",
        )
    except NotFound:
        # Deleted while the body arrived: the delete may have run before this part's folder was made.
        session.rollback()
        remove_deleted_job_files(store, job_id)
        raise
    except BaseException:
        store.delete(upload.path)
        raise
    return positions


def _replay(existing: Upload, sha256: str):
    """Answer a part sent again: the same bytes change nothing, other bytes are a conflict."""
    if existing.sha256 != sha256:
        abort(
            409,
            description=f"part {existing.position} is already stored with SHA-256 {existing.sha256}; "
            f"a part cannot be replaced",
        )
    return part_json(existing), 200


def _refuse_unless_open(job: Job) -> None:
    """Answer 409 before reading the body when the job takes no more parts."""
    if not job.open:
        abort(409, description=f"job {job.id} is closed ({job.status}); it takes no more parts")


def _claimed_sha256() -> str:
    """Return the hex SHA-256 the Content-Digest header claims; 400 if there is none."""
    header = ",".join(request.headers.getlist("Content-Digest"))
    claims = {value for name, value in DIGEST_MEMBER.findall(header) if name.lower() == "sha-256"}
    if len(claims) > 1:
        abort(400, description="Content-Digest holds different sha-256 values; send one")
    try:
        raw = base64.b64decode(claims.pop(), validate=True)
    except (KeyError, ValueError):
        abort(
            400, description="send the part's digest as 'Content-Digest: sha-256=:<base64 of its SHA-256>:' (RFC 9530)"
        )
    if len(raw) != 32:
        abort(400, description="the sha-256 in Content-Digest is not 32 bytes long")
    return raw.hex()


def _packed() -> bool:
    """Return whether the part is a zip the client packed (the packed query parameter); 400 unless true or false."""
    value = request.args.get("packed", "false")
    if value not in ("true", "false"):
        abort(400, description="packed must be true or false")
    return value == "true"


def _part_name(n: int) -> str:
    """Return the part's name from its Content-Disposition, or a stand-in."""
    # WSGI hands header bytes over as Latin-1: raw UTF-8 in filename="..." is read back as the
    # client wrote it. An RFC 6266 filename*, which the parser decodes, is ASCII on the wire.
    header = request.headers.get("Content-Disposition", "")
    try:
        header = header.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass  # Latin-1 text after all, read as such.
    _, options = parse_options_header(header)
    return display_name(options.get("filename"), n)
