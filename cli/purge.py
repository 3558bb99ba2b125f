"""`whoru purge`: remove old jobs, their rows, any uploads still stored and their previews."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click

from whoru.cli.db import open_session
from whoru.db.lifecycle import delete_jobs, ended_before
from whoru.settings import Settings
from whoru.storage import open_store
from whoru.storage.keys import remove_deleted_job_files


@click.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.FloatRange(min=0),
    required=True,
    envvar="WHORU_PURGE_DAYS",
    help="Remove jobs that ended and were created more than this many days ago (0 or more).",
)
@click.option("--dry-run", is_flag=True, help="List what would be removed, and remove nothing.")
def purge(days: float, dry_run: bool) -> None:
    """Delete ended jobs older than a number of days (queued and running jobs are kept)."""
    settings = Settings.from_env()
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    with open_session() as session:
        job_ids = ended_before(session, cutoff)
        if not dry_run:
            delete_jobs(session, job_ids)
            session.commit()
    verb = "would remove" if dry_run else "removed"
    for job_id in job_ids:
        if not dry_run:
            remove_deleted_job_files(open_store(settings), job_id)
        click.echo(f"{verb} job {job_id}")
    click.echo(f"{verb} {len(job_ids)} jobs that ended and were created before {cutoff.isoformat()}")
