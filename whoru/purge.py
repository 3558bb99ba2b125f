"""`whoru purge`: remove old jobs, their rows, any uploads still stored and their previews."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click

from whoru.db.engine import make_engine, make_sessionmaker
from whoru.lifecycle import delete_jobs, ended_before
from whoru.settings import Settings
from whoru.storage import remove_deleted_job_files


@click.command("purge")
@click.option("--older-than", "days", type=float, required=True, envvar="WHORU_PURGE_DAYS",
              help="Remove jobs that ended and were created more than this many days ago.")
def purge(days: float) -> None:
    """Delete ended jobs older than a number of days (queued and running jobs are kept)."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    with make_sessionmaker(engine)() as session:
        job_ids = ended_before(session, cutoff)
        delete_jobs(session, job_ids)
        session.commit()
    engine.dispose()
    for job_id in job_ids:
        remove_deleted_job_files(settings.storage_dir, job_id)
    click.echo(f"removed {len(job_ids)} jobs created before {cutoff.isoformat()}")
