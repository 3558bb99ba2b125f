"""The query parameters that narrow a results page, documented and parsed in one place."""

from __future__ import annotations

import re

from flask import abort, request

from whoru.db.jobs import ImageFilter
from whoru.db.statuses import ImageStatus
from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS

CHOICES = {
    "status": ([str(status) for status in ImageStatus], "only images in this status"),
    "gender": (list(GENDERS), "only images with a face of this gender"),
    "age_bin": (list(AGE_BIN_NAMES), "only images with a face in this age bin"),
    "ethnicity": (list(ETHNICITIES), "only images with a face of this ethnicity"),
}
PERSON = re.compile(r"p[1-9][0-9]{0,8}")
FILTERS = [
    {"name": name, "in": "query", "description": text, "schema": {"type": "string", "enum": values}}
    for name, (values, text) in CHOICES.items()
] + [
    {
        "name": "person",
        "in": "query",
        "description": "only images with this person's face (p1, p2...) in a people job",
        "schema": {"type": "string", "pattern": PERSON.pattern},
    }
]


def image_filter() -> ImageFilter:
    """Return the filter the request's query asks for; 400 for a value that is not one of its choices."""
    chosen = {}
    for name, (values, _) in CHOICES.items():
        value = request.args.get(name)
        if value is not None and value not in values:
            abort(400, description=f"{name} must be one of {', '.join(values)}")
        chosen[name] = value
    person = request.args.get("person")
    if person is not None and not PERSON.fullmatch(person):
        abort(400, description="person must be p1, p2 and so on")
    return ImageFilter(**chosen, person=person)
