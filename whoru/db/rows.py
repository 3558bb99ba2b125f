"""A task's writes: its attempts, the model version it serves, its outcome (face rows and image statuses, in bulk)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from whoru.db.people import embedding_bytes
from whoru.db.schema import Face, Image, Job
from whoru.db.statuses import ImageStatus
from whoru.faces.face import FaceResult


@dataclass
class ImageOutcome:
    """What happened to one image."""

    image_id: int
    width: int | None = None
    height: int | None = None
    faces: list[FaceResult] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None
    taken_at: datetime | None = None

    @property
    def status(self) -> ImageStatus:
        """Return the image status this outcome gives."""
        if self.error_code:
            return ImageStatus.FAILED
        return ImageStatus.DONE if self.faces else ImageStatus.NO_FACE


def count_attempt(session: Session, image_ids: list[int]) -> None:
    """Add one to these images' attempts (the caller commits before processing them)."""
    session.execute(update(Image).where(Image.id.in_(image_ids)).values(attempts=Image.attempts + 1))


def record_model_version(session: Session, job_id: str, version: str) -> None:
    """Record the version of its model that serves a job, if it differs from the one recorded."""
    session.execute(update(Job).where(Job.id == job_id, Job.model_version != version).values(model_version=version))


def save_outcomes(session: Session, outcomes: list[ImageOutcome]) -> None:
    """Replace the faces of these images and set their statuses (safe to repeat)."""
    ids = [o.image_id for o in outcomes]
    if not ids:
        return
    session.execute(delete(Face).where(Face.image_id.in_(ids)))
    rows = [_face_row(o.image_id, i, face) for o in outcomes for i, face in enumerate(o.faces)]
    if rows:
        session.execute(insert(Face), rows)
    session.execute(update(Image), [_image_row(o) for o in outcomes])


def _image_row(outcome: ImageOutcome) -> dict:
    """Return the bulk-update row of an image."""
    return {
        "id": outcome.image_id,
        "status": outcome.status,
        "width": outcome.width,
        "height": outcome.height,
        "taken_at": outcome.taken_at,
        "face_count": len(outcome.faces),
        "error_code": outcome.error_code,
        "error_message": outcome.error_message,
    }


def _face_row(image_id: int, index: int, face: FaceResult) -> dict:
    """Return the insert row of a face."""
    return {
        "image_id": image_id,
        "index": index,
        **asdict(face.rounded()),
        "embedding": embedding_bytes(face.embedding),
    }
