"""All settings, read once per process from WHORU_* environment variables, with safe defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The folder above the package: a checkout's root (its tests, fixtures and docs), or site-packages.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shipped(name: str) -> Path:
    """Return a folder the package ships: inside it when installed from a wheel, else the checkout's own."""
    inside = Path(str(files("whoru") / name))
    return inside if inside.is_dir() else PROJECT_ROOT / name


MODELS_DIR = shipped("models")
MIGRATIONS_DIR = shipped("migrations")
GIB = 1024**3
PREFIX = "WHORU_"
# The decompression-bomb limit: the setting's default, and the decoder's where no setting is at hand.
MAX_IMAGE_PIXELS = 64_000_000


def default_home() -> Path:
    """Return where the embedded service keeps its data unless WHORU_HOME says otherwise."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "whoru"


class SettingsError(ValueError):
    """A WHORU_* variable holds a value the service cannot run with; the message names it."""


class Settings(BaseSettings):
    """Typed settings; each field is read from WHORU_<FIELD NAME IN CAPITALS>."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, frozen=True, extra="ignore")

    env: str = Field("development", description="anything else refuses SQLite and a missing WHORU_REDIS_URL")
    home: Path = Field(
        None,
        validate_default=True,
        description=(
            "the embedded service's folder (database, storage, Redis data, local API key), so that `serve`, `keys` "
            "and the client find each other from any working directory; $XDG_DATA_HOME/whoru by default"
        ),
    )
    database_url: str = Field(
        "", validate_default=True, description="SQLAlchemy URL; sqlite:///$WHORU_HOME/whoru.db by default"
    )
    redis_url: str = Field(
        "",
        description="Celery broker; unset, `whoru serve` embeds Redis and other commands use redis://127.0.0.1:6379/0",
    )
    storage_dir: Path = Field(
        None, validate_default=True, description="uploads and previews; $WHORU_HOME/storage by default"
    )
    storage_url: str = Field(
        "", description="file:///path or s3://bucket/prefix; unset, uploads and previews go to WHORU_STORAGE_DIR"
    )
    s3_endpoint_url: str = Field("", description="endpoint of an S3-compatible server; unset, AWS")
    model: Path = Field(MODELS_DIR / "default", description="the model a job gets when it names none")
    models: str = Field(
        "fast",
        description=(
            "more models workers load and jobs may choose, by the name of "
            "their folder beside WHORU_MODEL (comma-separated)"
        ),
    )
    detector: Path = Field(MODELS_DIR / "yunet", description="face detector directory")
    identity_model: Path = Field(
        MODELS_DIR / "faceres",
        description=("faceres' directory: it embeds the faces of people jobs for models that do not run it"),
    )
    people: bool = Field(False, description="group a job's faces by person when the job does not say")
    people_threshold: float = Field(
        0.42,
        ge=-1,
        le=1,
        description=(
            "mean cosine similarity two groups of faces need to be one person (chosen on LFW, docs/people.md)"
        ),
    )
    people_neighbours: int = Field(20, ge=1, description="nearest faces per face that grouping considers merging with")
    detect_max_side: int = Field(1024, description="detection runs on a copy no larger than this")
    detect_score: float = Field(0.7, description="detector confidence threshold")
    max_upload_bytes: int = Field(20 * GIB, description="one request (a part, or a one-request job)")
    max_parts: int = Field(64, description="file parts of a one-request (multipart) job")
    max_job_parts: int = Field(100_000, description="parts of an open job")
    open_job_timeout: int = Field(
        24 * 3600, ge=1, description="seconds an open job may go without a part before the server closes it"
    )
    max_zip_entries: int = Field(200_000, description="entries per zip")
    max_zip_bytes: int = Field(50 * GIB, description="declared uncompressed total per zip")
    max_zip_ratio: int = Field(200, description="compression ratio allowed per entry")
    max_image_pixels: int = Field(MAX_IMAGE_PIXELS, description="decompression-bomb limit")
    max_image_bytes: int = Field(100 * 1024**2, description="one image")
    task_images: int = Field(
        32, ge=1, description="images per Celery task (all faces of a task are classified together)"
    )
    task_time_limit: int = Field(900, description="hard limit per task, seconds")
    task_max_attempts: int = Field(
        3, ge=1, description="an image whose processing kills the worker this often is marked worker_crashed"
    )
    worker_concurrency: int = Field(2, ge=1, description="worker processes per `whoru worker`")
    threads: int = Field(1, description="ONNX Runtime and OpenCV threads per worker process")
    worker_nice: int = Field(10, description="CPU priority increment of worker processes (0 leaves it)")
    # Small calls are as fast a face as large ones and keep the runtime's memory arena small
    # (docs/performance.md, "Choices in the code").
    classify_batch: int = Field(16, description="faces (mirror images included) per model call")
    page_size: int = Field(100, description="results per page unless a request asks for another size")
    max_page_size: int = Field(1000, description="the largest page a request may ask for")
    log_level: str = Field("INFO", description="DEBUG adds Celery's per-task lines")
    log_format: Literal["text", "json"] = Field("text", description="text, or json: one JSON object a line")
    access_log: bool = Field(False, description="gunicorn's access line for every request")
    keep_uploads: bool = Field(False, description="keep stored uploads after their job ends")
    previews: bool = Field(True, description="workers keep a 640 px preview of each image for the web page")
    key_max_jobs_in_flight: int = Field(50, description="queued or running jobs per API key")
    key_max_images_per_job: int = Field(1_000_000, description="images per job per API key")
    key_max_upload_bytes: int = Field(
        50 * GIB, description="uploads an API key may have stored for its queued or running jobs"
    )
    webhook_secret: str = Field(
        "",
        description=(
            "Standard Webhooks secret (whsec_ + base64) that signs the callbacks of keys without a secret of their own"
        ),
    )
    webhook_max_age: int = Field(24 * 3600, description="seconds a callback keeps being retried")
    webhook_allow_private: bool = Field(False, description="allow callback URLs on private and loopback addresses")
    webhook_allow_loopback: bool = Field(
        False, description="allow callback URLs on loopback addresses (`whoru serve` sets it)"
    )
    metrics_token: str = Field("", description="bearer token the API's /metrics asks for; unset, no /metrics")
    metrics_port: int = Field(0, description="port on which each `whoru worker` serves its metrics; 0 serves none")
    server: str = Field(
        "http://127.0.0.1:8000",
        description="the whoru API a client talks to (http:// is assumed when no scheme is given)",
    )
    api_key: str = Field("", description="a client's API key; unset, the key `whoru serve` saved in WHORU_HOME")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from the process environment (or only a given mapping) and check them."""
        try:
            return cls() if environ is None else cls(**_every_field_from(environ))
        except ValidationError as error:
            raise SettingsError(_explain(error)) from None

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Return every setting's environment variable with its description."""
        return {f"{PREFIX}{name.upper()}": field.description for name, field in cls.model_fields.items()}

    @field_validator("home", mode="before")
    @classmethod
    def _home(cls, value) -> Path:
        """Default the home folder to the user's data folder, and make it absolute."""
        return Path(value or default_home()).expanduser().resolve()

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value, info: ValidationInfo) -> str:
        """Default the database to SQLite in the home folder."""
        return value or f"sqlite:///{info.data['home'] / 'whoru.db'}"

    @field_validator("storage_dir", mode="before")
    @classmethod
    def _storage_dir(cls, value, info: ValidationInfo) -> Path:
        """Default storage to a folder in the home folder, and make it absolute."""
        return Path(value or info.data["home"] / "storage").expanduser().resolve()

    @field_validator("storage_url")
    @classmethod
    def _storage_url(cls, value: str) -> str:
        """Refuse a storage URL that names neither a folder nor a bucket."""
        if value and not value.startswith(("file:///", "s3://")):
            raise ValueError("must be file:///path or s3://bucket/prefix")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str) -> str:
        """Refuse a webhook secret that Standard Webhooks cannot sign with."""
        from standardwebhooks import Webhook

        if value:
            try:
                Webhook(value)
            except Exception as error:
                raise ValueError("must be whsec_ followed by base64") from error
        return value

    @model_validator(mode="after")
    def _outside_development(self) -> "Settings":
        """Refuse development defaults outside development."""
        if self.env != "development":
            if self.database_url.startswith("sqlite"):
                raise ValueError(
                    "WHORU_DATABASE_URL must name a server database (PostgreSQL) when WHORU_ENV is not development"
                )
            if not self.redis_url:
                raise ValueError("WHORU_REDIS_URL must be set when WHORU_ENV is not development")
        return self

    @property
    def local_key_file(self) -> Path:
        """Return where `whoru serve` keeps the local user's API key, which the CLI reads."""
        return self.home / "api-key"

    @property
    def close_idle_every(self) -> float:
        """Return how often workers look for idle open jobs: a tenth of the timeout, at most 5 minutes."""
        return min(300.0, self.open_job_timeout / 10)

    @property
    def broker_url(self) -> str:
        """Return the Redis URL for Celery, defaulting to a local server."""
        return self.redis_url or "redis://127.0.0.1:6379/0"


@cache
def get_settings() -> Settings:
    """Return this process's settings, read from its environment on first use."""
    return Settings.from_env()


def _every_field_from(environ: Mapping[str, str]) -> dict:
    """Return every field's value from a mapping of WHORU_* variables (any case, empty is unset), else its default.

    Given as arguments, every field, so that the process environment fills in none of them.
    """
    given = {name.lower(): value for name, value in environ.items() if value != ""}
    return {field: given.get(f"{PREFIX}{field}".lower(), info.default) for field, info in Settings.model_fields.items()}


def _explain(error: ValidationError) -> str:
    """Return one line naming each refused variable and why (never its value: it may be a secret)."""
    reasons = []
    for problem in error.errors(include_url=False):
        reason = str(problem["ctx"]["error"]) if problem["type"] == "value_error" else problem["msg"]
        reasons.append(f"{PREFIX}{str(problem['loc'][0]).upper()}: {reason}" if problem["loc"] else reason)
    return "; ".join(reasons)
