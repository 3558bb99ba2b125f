"""A job's summary for charts: faces (and people, once grouped) by age, gender and ethnicity, and images by status."""

from __future__ import annotations

from flask_smorest import Blueprint

from whoru.api import schemas
from whoru.api.auth import owned_job
from whoru.api.database import get_session
from whoru.api.jobs import JOB_ID
from whoru.db.people import job_people, people_counts
from whoru.db.statuses import PeopleStatus
from whoru.db.summary import job_summary

bp = Blueprint("summary", __name__, url_prefix="/v1/jobs", description="A job's totals")


@bp.get("/<job_id>/summary")
@bp.response(200, schemas.Summary, description="Counts so far (a running job's grow)")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.doc(parameters=[JOB_ID])
def summary(job_id: str):
    """Return a job's counts by image status, age bin, age decade, gender and ethnicity; people too, once grouped."""
    job, session = owned_job(job_id), get_session()
    grouped = job.people_status == PeopleStatus.DONE
    return {
        **job_summary(session, job_id),
        **(people_counts(job_people(session, job_id)) if grouped else {"people": None}),
    }
