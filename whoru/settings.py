"""All settings, read once from WHORU_* environment variables, with safe defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GIB = 1024**3


def default_home() -> Path:
    """Return where the embedded service keeps its data unless WHORU_HOME says otherwise."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "whoru"


@dataclass(frozen=True)
class Settings:
    """Typed settings; each field is read from WHORU_<FIELD NAME IN CAPITALS>."""

    env: str = "development"
    # The embedded service's one folder (database, uploads, Redis data, the local API key), so that
    # `serve`, `keys` and the client find each other from any working directory.
    home: Path | None = None
    database_url: str = ""
    redis_url: str = ""
    storage_dir: Path | None = None
    # file:///path or s3://bucket/prefix; unset, uploads and previews go to WHORU_STORAGE_DIR.
    storage_url: str = ""
    s3_endpoint_url: str = ""
    model: Path = PROJECT_ROOT / "models" / "default"
    # More models workers load and jobs may choose, by the name of their folder beside WHORU_MODEL.
    models: str = "fast"
    detector: Path = PROJECT_ROOT / "models" / "yunet"
    detect_max_side: int = 1024
    detect_score: float = 0.7
    max_upload_bytes: int = 20 * GIB
    max_parts: int = 64
    max_job_parts: int = 100_000
    open_job_timeout: int = 24 * 3600
    max_zip_entries: int = 200_000
    max_zip_bytes: int = 50 * GIB
    max_zip_ratio: int = 200
    max_image_pixels: int = 64_000_000
    max_image_bytes: int = 100 * 1024**2
    task_images: int = 32
    task_time_limit: int = 900
    task_max_attempts: int = 3
    worker_concurrency: int = 2
    threads: int = 1
    worker_nice: int = 10
    # Faces (mirror images included) per model call. On ONNX Runtime, one thread, the 96x96
    # model: 1.09 ms a face in calls of 16, 1.10 of 32, 1.13 of 8 and 1.21 of 256, and the
    # runtime's memory arena peaks at 131 MB in calls of 16 against 517 MB in calls of 256.
    classify_batch: int = 16
    page_size: int = 100
    max_page_size: int = 1000
    log_level: str = "INFO"
    log_format: str = "text"
    access_log: bool = False
    keep_uploads: bool = False
    previews: bool = True
    key_max_jobs_in_flight: int = 50
    key_max_images_per_job: int = 1_000_000
    key_max_upload_bytes: int = 50 * GIB
    # Standard Webhooks secret (`whsec_` + base64) that signs every callback; callbacks are refused without it.
    webhook_secret: str = ""
    webhook_max_age: int = 24 * 3600
    webhook_allow_private: bool = False
    # The API's /metrics answers only with `Authorization: Bearer <token>`, and not at all without one.
    metrics_token: str = ""
    # Each `whoru worker` serves its pool's metrics here; 0 serves none.
    metrics_port: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from the environment (or a given mapping) and check them."""
        environ = os.environ if environ is None else environ
        values = {}
        for field in fields(cls):
            raw = environ.get(f"WHORU_{field.name.upper()}")
            if raw is not None and raw != "":
                values[field.name] = _convert(field.type, raw, field.name)
        settings = cls(**values)
        home = Path(settings.home or default_home()).expanduser().resolve()
        settings = _replace(settings, home=home, database_url=settings.database_url or f"sqlite:///{home / 'whoru.db'}",
                            storage_dir=Path(settings.storage_dir or home / "storage").expanduser().resolve())
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse values that make no sense, and development defaults outside development."""
        if min(self.task_images, self.worker_concurrency, self.task_max_attempts, self.open_job_timeout) < 1:
            raise ValueError("WHORU_TASK_IMAGES, WHORU_WORKER_CONCURRENCY, WHORU_TASK_MAX_ATTEMPTS and "
                             "WHORU_OPEN_JOB_TIMEOUT must be >= 1")
        if self.webhook_secret:
            _check_webhook_secret(self.webhook_secret)
        if self.storage_url and not self.storage_url.startswith(("file:///", "s3://")):
            raise ValueError("WHORU_STORAGE_URL must be file:///path or s3://bucket/prefix")
        if self.log_format not in ("text", "json"):
            raise ValueError("WHORU_LOG_FORMAT must be text or json")
        if self.env != "development":
            if self.database_url.startswith("sqlite"):
                raise ValueError("WHORU_DATABASE_URL must name a server database (PostgreSQL) when WHORU_ENV is not development")
            if not self.redis_url:
                raise ValueError("WHORU_REDIS_URL must be set when WHORU_ENV is not development")

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


def _convert(kind, raw: str, name: str):
    """Convert one environment string to the field's type."""
    if kind in ("bool", bool):
        if raw.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ValueError(f"WHORU_{name.upper()}={raw!r} is not a valid bool (use true or false)")
        return raw.lower() in ("1", "true", "yes", "on")
    kind = {"int": int, "float": float, "str": str, "Path": Path, "Path | None": Path}.get(kind if isinstance(kind, str) else kind.__name__)
    try:
        return kind(raw)
    except ValueError as error:
        raise ValueError(f"WHORU_{name.upper()}={raw!r} is not a valid {kind.__name__}") from error


def _check_webhook_secret(secret: str) -> None:
    """Refuse a webhook secret that Standard Webhooks cannot sign with."""
    from standardwebhooks import Webhook

    try:
        Webhook(secret)
    except Exception as error:
        raise ValueError("WHORU_WEBHOOK_SECRET must be whsec_ followed by base64") from error


def _replace(settings: Settings, **changes) -> Settings:
    """Return a copy of settings with some fields changed."""
    from dataclasses import replace

    return replace(settings, **changes)
