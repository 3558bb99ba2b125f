"""Apply Alembic migrations programmatically (used by `whoru db upgrade` and `whoru serve`)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from whoru.settings import MIGRATIONS_DIR


def alembic_config(database_url: str) -> Config:
    """Return an Alembic config for this project's migrations and the given database."""
    # Built here rather than read from alembic.ini, which a wheel does not hold; that file is for
    # the `alembic` command in a checkout (new revisions).
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    if database_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)
