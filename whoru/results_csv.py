"""Stream a job's results as CSV rows: one per face, one per faceless image; `position` joins them back to images."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from whoru.db.schema import Image

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = (
    "position",
    "image",
    "face",
    "x",
    "y",
    "w",
    "h",
    "detection_score",
    "age",
    "age_bin",
    "age_low",
    "age_high",
    "gender",
    "gender_probability",
    "ethnicity",
    "p_white",
    "p_black",
    "p_asian",
    "p_indian",
    "p_others",
    "person",
    "taken_at",
    "status",
    "error",
    "model_version",
)


def inert(text: str) -> str:
    """Neutralise a user-controlled cell a spreadsheet would run as a formula (OWASP CSV injection)."""
    # Spreadsheets look past leading spaces and line breaks for the sign that starts a formula.
    return "'" + text if text.lstrip(" \n")[:1] in _FORMULA_STARTS else text


def image_rows(image: Image, model_version: str) -> Iterator[list]:
    """Yield the CSV rows of one image; names and errors come from users, so they are made inert."""
    error = inert(f"{image.error_code}: {image.error_message}") if image.error_code else ""
    name = inert(image.name)
    taken_at = "" if image.taken_at is None else image.taken_at.isoformat()
    if not image.faces:
        yield [image.position, name] + [""] * (len(HEADER) - 6) + [taken_at, image.status, error, model_version]
        return
    for index, face in enumerate(image.faces):
        yield [
            image.position,
            name,
            index,
            face.x,
            face.y,
            face.w,
            face.h,
            face.detection_score,
            face.age,
            face.age_bin,
            face.age_low,
            face.age_high,
            face.gender,
            face.gender_probability,
            face.ethnicity,
            *face.ethnicity_probabilities,
            face.person or "",
            taken_at,
            image.status,
            error,
            model_version,
        ]


def csv_chunks(pages: Iterable[list[Image]], model_version: str) -> Iterator[str]:
    """Yield CSV text a page of images at a time, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for page in pages:
        for image in page:
            writer.writerows(image_rows(image, model_version))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
