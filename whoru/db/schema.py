"""SQLAlchemy 2.0 tables: a job holds images in submission order, an image holds its faces."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeEngine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LABEL_LENGTH = 500


def utcnow() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator):
    """A timestamp that reads back timezone-aware in UTC from every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def coerce_compared_value(self, op: object, value: object) -> TypeEngine:
        """Type the other side of an expression as DateTime does, so that `column - timedelta` stays an interval."""
        return self.impl.coerce_compared_value(op, value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark a naive timestamp as the UTC it was stored in."""
        return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention Alembic can diff."""

    metadata = MetaData(naming_convention=NAMING)


class ApiKey(Base):
    """A client's API key; only its SHA-256 is stored. Its webhook secret signs its jobs' callbacks,
    so it is kept as it is (a receiver needs the same secret to verify)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    webhook_secret: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Job(Base):
    """One submission: its status, timings and the model that served it.

    `status` and the open flag change only through whoru.db.lifecycle, which names their values.
    """

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("api_key_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the last part arrived: an open job idle for WHORU_OPEN_JOB_TIMEOUT is closed by the server.
    active_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(16))
    # A name its owner chose ("holiday 2026"); the CLI gives the submitted paths when none is given.
    label: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    # Made by the web page's "Try it": one photo to look at, which the jobs list can hide.
    try_it: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64))
    images_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    # Called back when the job ends; the delivery's state changes only through whoru.db.webhooks.
    callback_url: Mapped[str | None] = mapped_column(Text)
    webhook_status: Mapped[str | None] = mapped_column(String(16), index=True)
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    webhook_last_status: Mapped[int | None] = mapped_column(Integer)
    webhook_last_error: Mapped[str | None] = mapped_column(Text)
    # Group the job's faces by person once its images are done; the status changes only through whoru.db.lifecycle.
    people: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    people_status: Mapped[str | None] = mapped_column(String(16))

    uploads: Mapped[list[Upload]] = relationship(back_populates="job", order_by="Upload.position")


class Upload(Base):
    """One part of a job (`position` is the part number n), stored as received: an image or a zip."""

    __tablename__ = "uploads"
    __table_args__ = (UniqueConstraint("job_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(512))
    path: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(8))
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    image_count: Mapped[int] = mapped_column(Integer, default=0)
    # When the part arrived: the age of the oldest pending image, in the API's metrics.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, server_default=func.now())

    job: Mapped[Job] = relationship(back_populates="uploads")


class Image(Base):
    """One image of a job: where its bytes are, and its outcome."""

    __tablename__ = "images"
    # face_count in the index makes a job's counts (polled by every status request) an index-only read.
    __table_args__ = (
        UniqueConstraint("job_id", "position"),
        Index("ix_images_job_id_status_faces", "job_id", "status", "face_count"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"))
    # The entry's index in the zip's central directory: a zip may hold two members of one name.
    entry: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    face_count: Mapped[int] = mapped_column(Integer, default=0)
    # The EXIF capture time (DateTimeOriginal), as the camera wrote it: EXIF gives no time zone.
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    upload: Mapped[Upload] = relationship()
    faces: Mapped[list[Face]] = relationship(order_by="Face.index", cascade="all, delete-orphan")


class Face(Base):
    """One face found in an image and what the model says about it."""

    __tablename__ = "faces"
    __table_args__ = (UniqueConstraint("image_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    w: Mapped[float] = mapped_column(Float)
    h: Mapped[float] = mapped_column(Float)
    detection_score: Mapped[float] = mapped_column(Float)
    landmarks: Mapped[list] = mapped_column(JSON)
    age: Mapped[float] = mapped_column(Float)
    age_bin: Mapped[str] = mapped_column(String(8))
    age_low: Mapped[float | None] = mapped_column(Float)
    age_high: Mapped[float | None] = mapped_column(Float)
    gender: Mapped[str] = mapped_column(String(8))
    gender_probability: Mapped[float] = mapped_column(Float)
    ethnicity: Mapped[str] = mapped_column(String(8))
    ethnicity_probabilities: Mapped[list] = mapped_column(JSON)
    # `p1`, `p2`... once a people job is grouped, numbered by face count.
    person: Mapped[str | None] = mapped_column(String(16))
    # The identity descriptor (float16 bytes), stored only for people jobs: biometric data, never
    # returned by the API, deleted with the face; deferred so that results never load it.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
