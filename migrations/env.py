"""Alembic environment: the URL comes from whoru's settings, the schema from whoru.db.schema."""

from alembic import context

from whoru.db.engine import make_engine
from whoru.db.schema import Base
from whoru.settings import get_settings


def run_migrations() -> None:
    """Apply migrations online against WHORU_DATABASE_URL (or the URL the caller passed)."""
    url = context.config.attributes.get("database_url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            compare_type=True,
            render_as_batch=url.startswith("sqlite"),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
