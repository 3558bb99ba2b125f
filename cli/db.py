"""`whoru db`: schema migrations; and the database session of every command-line tool."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from whoru.db.engine import make_engine, make_sessionmaker
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


def open_session() -> Session:
    """Return a session for a command; a missing or unreachable database is a one-line error."""
    url = make_url(Settings.from_env().database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        raise click.ClickException(
            f"no database at {url.database}: start the service once with `whoru serve`, "
            "or point WHORU_HOME or WHORU_DATABASE_URL at the one it uses"
        )
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        engine.connect().close()
    except OperationalError as error:
        raise click.ClickException(f"cannot open the database {url.render_as_string()}: {error.orig}") from error
    return make_sessionmaker(engine)()
