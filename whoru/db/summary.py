"""A job's aggregates for charts (faces per age bin, decade, gender and ethnicity), computed by GROUP BY in SQL."""

from __future__ import annotations

from sqlalchemy import Integer, cast, func, literal_column, select
from sqlalchemy.orm import Session

from whoru.db.schema import Face, Image
from whoru.db.statuses import ImageStatus
from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS


def job_summary(session: Session, job_id: str) -> dict:
    """Return a job's image statuses and its faces counted by age bin, age decade, gender and ethnicity."""
    genders = _face_counts(session, job_id, Face.gender)
    return {
        "images": _ordered(_image_counts(session, job_id), [str(status) for status in ImageStatus]),
        "faces": sum(genders.values()),
        "age_bins": _ordered(_face_counts(session, job_id, Face.age_bin), AGE_BIN_NAMES),
        "age_decades": _decades(session, job_id),
        "genders": _ordered(genders, GENDERS),
        "ethnicities": _ordered(_face_counts(session, job_id, Face.ethnicity), ETHNICITIES),
    }


def _ordered(counts: dict, labels) -> list[dict]:
    """Return a count for every label, in the labels' order, zero where none was counted."""
    return [{"label": label, "count": int(counts.get(label, 0))} for label in labels]


def _image_counts(session: Session, job_id: str) -> dict[str, int]:
    """Return the number of a job's images in each status."""
    query = select(Image.status, func.count()).where(Image.job_id == job_id).group_by(Image.status)
    return dict(session.execute(query).all())


def _face_counts(session: Session, job_id: str, column) -> dict[str, int]:
    """Return the number of a job's faces for each value of a face column."""
    query = (
        select(column, func.count())
        .join(Image, Face.image_id == Image.id)
        .where(Image.job_id == job_id)
        .group_by(column)
    )
    return dict(session.execute(query).all())


def _decades(session: Session, job_id: str) -> list[dict]:
    """Return faces per ten years of age (0-9, 10-19, ...), from 0 to the oldest decade found."""
    # A literal divisor renders the same SQL in SELECT and GROUP BY, which PostgreSQL requires.
    decade = cast(func.round(Face.age), Integer) // literal_column("10")
    query = (
        select(decade, func.count())
        .join(Image, Face.image_id == Image.id)
        .where(Image.job_id == job_id)
        .group_by(decade)
    )
    counts = {int(low): n for low, n in session.execute(query).all()}
    top = max(counts, default=-1)
    return [{"label": f"{10 * d}-{10 * d + 9}", "count": counts.get(d, 0)} for d in range(top + 1)]
