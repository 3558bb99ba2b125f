"""Marshmallow schemas of every request and response body: they serialise the answers and, through
flask-smorest, write the OpenAPI document, so the two cannot drift apart."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from whoru.db.schema import LABEL_LENGTH
from whoru.db.statuses import ClosedBy, ImageStatus, JobStatus, PeopleStatus, WebhookStatus
from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS

NULLABLE_TIME = {"allow_none": True, "metadata": {"format": "date-time"}}
CALLBACK = (
    "http(s) URL POSTed the job, signed as Standard Webhooks says, when it ends; it must resolve to public addresses"
)
LABEL = "a name for the job, shown in job lists (the CLI gives the submitted paths)"
MODEL = "the model to run (`default` when not given; `fast` is the quicker, less accurate one)"
PEOPLE = (
    "group the job's faces by person (the server's WHORU_PEOPLE when not given); each face's identity "
    "embedding is then stored, never returned, and deleted with the job"
)


def _choice(values) -> validate.OneOf:
    """Return a validator (documented as an enum) for a fixed set of strings."""
    return validate.OneOf([str(value) for value in values])


class ErrorDetail(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)


class Error(Schema):
    """Every error answer."""

    error = fields.Nested(ErrorDetail, required=True)


class Counts(Schema):
    images_total = fields.Integer(required=True)
    images_done = fields.Integer(required=True)
    images_failed = fields.Integer(required=True)
    faces = fields.Integer(required=True)


class ModelRef(Schema):
    name = fields.String(required=True)
    version = fields.String(required=True)


class Webhook(Schema):
    """Where the delivery of a job's webhook stands."""

    status = fields.String(required=True, validate=_choice(WebhookStatus))
    attempts = fields.Integer(required=True)
    last_status = fields.Integer(
        allow_none=True, required=True, metadata={"description": "HTTP status of the last attempt"}
    )
    last_error = fields.String(allow_none=True, required=True)


class Job(Schema):
    """A job: while `open`, it takes parts; it ends once closed with no image pending."""

    id = fields.String(required=True)
    label = fields.String(allow_none=True, required=True, metadata={"description": LABEL})
    try_it = fields.Boolean(required=True, metadata={"description": "made by the web page's Try it"})
    status = fields.String(required=True, validate=_choice(JobStatus))
    open = fields.Boolean(required=True)
    error = fields.String(allow_none=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    started_at = fields.String(**NULLABLE_TIME)
    finished_at = fields.String(**NULLABLE_TIME)
    closed_at = fields.String(**NULLABLE_TIME)
    closed_by = fields.String(allow_none=True, validate=_choice(ClosedBy))
    counts = fields.Nested(Counts, required=True)
    model = fields.Nested(ModelRef, required=True)
    links = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    callback_url = fields.String(allow_none=True, metadata={"format": "uri", "description": "called when the job ends"})
    webhook = fields.Nested(Webhook, allow_none=True, metadata={"description": "null without a callback_url"})
    people = fields.Boolean(required=True, metadata={"description": "whether the job groups its faces by person"})
    people_status = fields.String(
        allow_none=True,
        required=True,
        validate=_choice(PeopleStatus),
        metadata={
            "description": (
                "null without people; `grouping` once the images are done: the job succeeds only once its people are"
            )
        },
    )


class JobOptions(Schema):
    """The JSON body that opens a job; POST /v1/jobs checks the body with this schema, unknown fields refused."""

    # Only JSON true: marshmallow would otherwise take "yes", "on" or "1" for true.
    open = fields.Boolean(required=True, truthy={True}, falsy={False}, validate=validate.Equal(True))
    callback_url = fields.String(allow_none=True, metadata={"format": "uri", "description": CALLBACK})
    model = fields.String(allow_none=True, metadata={"description": MODEL})
    people = fields.Boolean(allow_none=True, truthy={True}, falsy={False}, metadata={"description": PEOPLE})
    label = fields.String(allow_none=True, validate=validate.Length(max=LABEL_LENGTH), metadata={"description": LABEL})
    try_it = fields.Boolean(
        truthy={True}, falsy={False}, metadata={"description": "marks a one-photo job of the web page's Try it"}
    )


class JobChange(Schema):
    """The JSON body that changes a job."""

    label = fields.String(
        required=True, allow_none=True, validate=validate.Length(max=LABEL_LENGTH), metadata={"description": LABEL}
    )


class JobList(Schema):
    jobs = fields.List(fields.Nested(Job), required=True)
    next_page_token = fields.String(allow_none=True, required=True)


class Part(Schema):
    """One part as the server stored it."""

    n = fields.Integer(required=True)
    name = fields.String(required=True)
    bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={"description": "hex SHA-256 of the stored bytes"})
    content_digest = fields.String(
        required=True, metadata={"description": "the same digest as an RFC 9530 header value"}
    )
    images = fields.Integer(required=True)


class PartList(Schema):
    parts = fields.List(fields.Nested(Part), required=True)


class Box(Schema):
    x = fields.Float(required=True)
    y = fields.Float(required=True)
    w = fields.Float(required=True)
    h = fields.Float(required=True)


class AgeRange(Schema):
    low = fields.Float(required=True)
    high = fields.Float(required=True)


class Gender(Schema):
    label = fields.String(required=True, validate=_choice(GENDERS))
    probability = fields.Float(required=True)


class Ethnicity(Schema):
    label = fields.String(required=True, validate=_choice(ETHNICITIES))
    probabilities = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)


class Face(Schema):
    box = fields.Nested(Box, required=True)
    detection_score = fields.Float(required=True)
    landmarks = fields.List(fields.List(fields.Float()), required=True)
    age = fields.Float(required=True)
    age_bin = fields.String(required=True, validate=_choice(AGE_BIN_NAMES))
    age_range = fields.Nested(AgeRange, allow_none=True, metadata={"description": "80% interval of the age"})
    gender = fields.Nested(Gender, required=True)
    ethnicity = fields.Nested(Ethnicity, required=True)
    person = fields.String(
        allow_none=True, required=True, metadata={"description": "p1, p2... (most faces first) in a grouped people job"}
    )


class ImageResult(Schema):
    position = fields.Integer(
        required=True, metadata={"description": "0, 1, 2... in submission order; names its preview"}
    )
    name = fields.String(required=True)
    status = fields.String(required=True, validate=_choice(ImageStatus))
    error = fields.Nested(ErrorDetail, allow_none=True, required=True)
    width = fields.Integer(allow_none=True, required=True)
    height = fields.Integer(allow_none=True, required=True)
    taken_at = fields.String(
        allow_none=True,
        required=True,
        metadata={"format": "date-time", "description": "the EXIF capture time, as the camera wrote it (no time zone)"},
    )
    faces = fields.List(fields.Nested(Face), required=True)


class ResultsPage(Schema):
    images = fields.List(fields.Nested(ImageResult), required=True)
    next_page_token = fields.String(allow_none=True, required=True)


class LabelCount(Schema):
    label = fields.String(required=True)
    count = fields.Integer(required=True)


class Summary(Schema):
    """A job's totals for charts, counted by the database."""

    images = fields.List(fields.Nested(LabelCount), required=True, metadata={"description": "images per status"})
    faces = fields.Integer(required=True)
    age_bins = fields.List(fields.Nested(LabelCount), required=True, metadata={"description": "faces per age bin"})
    age_decades = fields.List(
        fields.Nested(LabelCount), required=True, metadata={"description": "faces per ten years of age"}
    )
    genders = fields.List(fields.Nested(LabelCount), required=True, metadata={"description": "faces per gender"})
    ethnicities = fields.List(fields.Nested(LabelCount), required=True, metadata={"description": "faces per ethnicity"})
    people = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "people found; null unless the job's people are grouped"},
    )
    people_genders = fields.List(
        fields.Nested(LabelCount), metadata={"description": "people per gender (mean over their faces)"}
    )
    people_ethnicities = fields.List(
        fields.Nested(LabelCount), metadata={"description": "people per ethnicity (mean over their faces)"}
    )
    people_age_bins = fields.List(
        fields.Nested(LabelCount), metadata={"description": "people per age bin of their median age"}
    )


class Spread(Schema):
    median = fields.Float(required=True)
    low = fields.Float(required=True, metadata={"description": "first quartile"})
    high = fields.Float(required=True, metadata={"description": "third quartile"})


class PersonFace(Schema):
    image = fields.Integer(required=True, metadata={"description": "the image's position"})
    image_width = fields.Integer(required=True)
    image_height = fields.Integer(required=True)
    box = fields.Nested(Box, required=True)


class PersonGender(Schema):
    label = fields.String(required=True, validate=_choice(GENDERS))
    female_probability = fields.Float(required=True, metadata={"description": "mean over the person's faces"})


class Person(Schema):
    """One person of a people job, from all of their faces."""

    person = fields.String(required=True)
    faces = fields.Integer(required=True)
    images = fields.Integer(required=True)
    face = fields.Nested(PersonFace, required=True, metadata={"description": "a representative face"})
    gender = fields.Nested(PersonGender, required=True)
    ethnicity = fields.Nested(Ethnicity, required=True, metadata={"description": "mean probabilities over the faces"})
    age = fields.Nested(Spread, required=True, metadata={"description": "median of the faces' ages, with quartiles"})
    birth_year = fields.Nested(
        Spread,
        allow_none=True,
        required=True,
        metadata={
            "description": "median of capture year minus age over faces in photos with an EXIF date; null without"
        },
    )


class PeoplePage(Schema):
    people = fields.List(fields.Nested(Person), required=True)
    next_page_token = fields.String(allow_none=True, required=True)
