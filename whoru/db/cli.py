"""`whoru db`: schema migrations."""

from __future__ import annotations

import click

from whoru.db.migrate import upgrade
from whoru.settings import Settings


@click.group()
def db() -> None:
    """Manage the database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--database-url", envvar="WHORU_DATABASE_URL", help="Database to migrate (default: settings).")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def upgrade_command(database_url: str | None, revision: str) -> None:
    """Apply migrations up to a revision."""
    url = database_url or Settings.from_env().database_url
    upgrade(url, revision)
    click.echo(f"database at {revision}")
