"""The small upright JPEG the worker keeps of each image, to its job's owner only."""

from __future__ import annotations

import io

from flask import abort, current_app, send_file
from flask_smorest import Blueprint

from whoru.api import schemas
from whoru.api.auth import owned_job
from whoru.api.jobs import JOB_ID
from whoru.storage import open_store
from whoru.storage.keys import preview_key

bp = Blueprint("previews", __name__, url_prefix="/v1/jobs", description="Image previews")
POSITION = {"name": "position", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}


@bp.get("/<job_id>/images/<int:position>/preview")
@bp.response(200, description="JPEG, upright, longest side at most 640 px", content_type="image/jpeg")
@bp.alt_response(404, schema=schemas.Error, description="No such job, image or preview (previews may be turned off)")
@bp.doc(parameters=[JOB_ID, POSITION])
def preview(job_id: str, position: int):
    """Return the preview of the image at a position of a job."""
    owned_job(job_id)
    data = open_store(current_app.config["SETTINGS"]).read(preview_key(job_id, position))
    if data is None:
        abort(404, description=f"no preview of image {position}")
    # Private: the answer depends on the key; a browser may still keep it for the page's life.
    response = send_file(io.BytesIO(data), mimetype="image/jpeg", max_age=3600)
    response.cache_control.public = False
    response.cache_control.private = True
    return response
