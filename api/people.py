"""A people job's people: paged JSON, and the whole table as CSV."""

from __future__ import annotations

from flask import Response, abort, current_app, request
from flask_smorest import Blueprint

from whoru.api import schemas
from whoru.api.auth import owned_job, owner_id
from whoru.api.database import get_session
from whoru.api.jobs import JOB_ID
from whoru.api.paging import PAGING, decode_token, encode_token, page_size
from whoru.db.people import job_people
from whoru.db.schema import Job
from whoru.db.statuses import PeopleStatus
from whoru.people_csv import people_csv

bp = Blueprint("people", __name__, url_prefix="/v1/jobs", description="A people job's people")


@bp.get("/<job_id>/people")
@bp.response(200, schemas.PeoplePage, description="A page of people, p1 (most faces) first")
@bp.alt_response(400, schema=schemas.Error, description="Bad page_size or page_token")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.alt_response(409, schema=schemas.Error, description="The job does not group by person, or not yet")
@bp.doc(parameters=[JOB_ID, *PAGING])
def page(job_id: str):
    """Return one page of a job's people, each with their faces' figures."""
    size = page_size(current_app.config["SETTINGS"])
    _grouped(owned_job(job_id))
    after = _after(job_id, request.args.get("page_token"))
    people = job_people(get_session(), job_id, range(after + 1, after + size + 2))
    token = encode_token(f"people:{owner_id()}:{job_id}", str(after + size)) if len(people) > size else None
    return {"people": people[:size], "next_page_token": token}


@bp.get("/<job_id>/people.csv")
@bp.response(200, description="CSV, one row per person, p1 first", content_type="text/csv")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.alt_response(409, schema=schemas.Error, description="The job does not group by person, or not yet")
@bp.doc(parameters=[JOB_ID])
def csv(job_id: str):
    """Return every person of a job as CSV."""
    _grouped(owned_job(job_id))
    headers = {"Content-Disposition": f'attachment; filename="{job_id}-people.csv"'}
    return Response(people_csv(job_people(get_session(), job_id)), mimetype="text/csv", headers=headers)


def _grouped(job: Job) -> None:
    """Answer 409 unless the job's faces are grouped by person."""
    if not job.people:
        abort(409, description=f"job {job.id} does not group its faces by person (submit it with people on)")
    if job.people_status != PeopleStatus.DONE:
        abort(409, description=f"job {job.id}'s people are not grouped yet (people_status {job.people_status})")


def _after(job_id: str, token: str | None) -> int:
    """Return the person number a page token stands for (0 for the first page)."""
    if not token:
        return 0
    try:
        return int(decode_token(f"people:{owner_id()}:{job_id}", token))
    except ValueError:
        abort(400, description="page_token is not valid")
