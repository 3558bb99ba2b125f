"""A job's per-image results as paged JSON and as streamed CSV."""

from __future__ import annotations

from flask import Response, abort, current_app, request, stream_with_context
from flask_smorest import Blueprint

from whoru.api import schemas
from whoru.api.auth import owned_job, owner_id
from whoru.api.database import get_session, new_session
from whoru.api.filters import FILTERS, image_filter
from whoru.api.jobs import JOB_ID
from whoru.api.paging import PAGING, decode_token, encode_token, page_size
from whoru.db.jobs import images_page
from whoru.results import image_json
from whoru.results_csv import csv_chunks

bp = Blueprint("results", __name__, url_prefix="/v1/jobs", description="A job's results")
CSV_PAGE = 500


@bp.get("/<job_id>/results")
@bp.response(200, schemas.ResultsPage, description="A page of images in submission order")
@bp.alt_response(400, schema=schemas.Error, description="Bad page_size, page_token or filter value")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.doc(parameters=[JOB_ID, *PAGING, *FILTERS])
def page(job_id: str):
    """Return one page of images, in submission order, with their faces; filters narrow it."""
    settings = current_app.config["SETTINGS"]
    size = page_size(settings)
    only = image_filter()
    session = get_session()
    owned_job(job_id)
    images = images_page(session, job_id, _after(job_id, request.args.get("page_token")), size + 1, only)
    token = _token(job_id, images[size - 1].position) if len(images) > size else None
    return {"images": [image_json(image) for image in images[:size]], "next_page_token": token}


@bp.get("/<job_id>/results.csv")
@bp.response(200, description="CSV, one row per face and one per image without faces", content_type="text/csv")
@bp.alt_response(404, schema=schemas.Error, description="No such job")
@bp.doc(parameters=[JOB_ID])
def csv(job_id: str):
    """Stream every result row as CSV, reading the database a page at a time."""
    version = owned_job(job_id).model_version
    headers = {"Content-Disposition": f'attachment; filename="{job_id}.csv"'}
    return Response(stream_with_context(csv_chunks(_pages(job_id), version)), mimetype="text/csv", headers=headers)


def _pages(job_id: str):
    """Yield pages of images with their faces until the job's last image."""
    session = new_session()
    try:
        after = -1
        while page := images_page(session, job_id, after, CSV_PAGE):
            yield page
            after = page[-1].position
            session.expunge_all()
    finally:
        session.close()


def _token(job_id: str, position: int) -> str:
    """Return an opaque page token for the images of a job after a position."""
    return encode_token(f"results:{owner_id()}:{job_id}", str(position))


def _after(job_id: str, token: str | None) -> int:
    """Return the position a page token stands for (-1 for the first page)."""
    if not token:
        return -1
    try:
        return int(decode_token(f"results:{owner_id()}:{job_id}", token))
    except ValueError:
        abort(400, description="page_token is not valid")
