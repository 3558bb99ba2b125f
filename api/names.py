"""A job's image names are unique: a zip's members are named under the zip, and two parts that would
still give one name are refused, naming both, before either is stored twice over."""

from __future__ import annotations

from flask import abort
from sqlalchemy.orm import Session

from whoru.db.jobs import name_taken_by_other_part
from whoru.db.schema import Upload


def member_name(archive: str, member: str, packed: bool) -> str:
    """Return a zip member's name in the job: under the archive's name, unless a client packed the zip itself."""
    return member if packed else f"{archive}/{member}"


def refuse_shared_within(parts: list[tuple[Upload, list[dict]]]) -> None:
    """Answer 409 when two parts of one request would give an image the same name."""
    seen: dict[str, Upload] = {}
    for upload, images in parts:
        for name in {image["name"] for image in images}:
            if name in seen:
                _refuse(name, seen[name], upload)
            seen[name] = upload


def refuse_shared_with_job(session: Session, job_id: str, upload: Upload, images: list[dict]) -> None:
    """Answer 409 when a new part would give an image a name the job's earlier parts already gave."""
    taken = name_taken_by_other_part(session, job_id, upload.position, sorted({image["name"] for image in images}))
    if taken is not None:
        _refuse(taken[0], taken[1], upload)


def _refuse(name: str, first: Upload, second: Upload) -> None:
    """Answer 409 naming the image name and the two parts that would share it."""
    abort(
        409,
        description=f"two images would be named {name!r}: one in part {first.position} ({first.filename}), "
        f"one in part {second.position} ({second.filename}); rename one of the files or zips "
        "and send the job again. Nothing of this part was kept",
    )
