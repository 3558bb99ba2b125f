"""A people job's people as CSV: one row per person, p1 first."""

from __future__ import annotations

import csv
import io

from whoru.labels import ETHNICITIES

HEADER = (
    "person",
    "faces",
    "images",
    "image",
    "x",
    "y",
    "w",
    "h",
    "gender",
    "female_probability",
    "ethnicity",
    *(f"p_{name}" for name in ETHNICITIES),
    "age_median",
    "age_low",
    "age_high",
    "birth_year_median",
    "birth_year_low",
    "birth_year_high",
)


def person_row(person: dict) -> list:
    """Return one person's CSV row (birth year empty without EXIF dates)."""
    face, births = person["face"], person["birth_year"] or {}
    return [
        person["person"],
        person["faces"],
        person["images"],
        face["image"],
        *(face["box"][key] for key in "xywh"),
        person["gender"]["label"],
        person["gender"]["female_probability"],
        person["ethnicity"]["label"],
        *(person["ethnicity"]["probabilities"][name] for name in ETHNICITIES),
        person["age"]["median"],
        person["age"]["low"],
        person["age"]["high"],
        births.get("median", ""),
        births.get("low", ""),
        births.get("high", ""),
    ]


def people_csv(people: list[dict]) -> str:
    """Return the CSV text of a job's people, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(person_row(person) for person in people)
    return buffer.getvalue()
