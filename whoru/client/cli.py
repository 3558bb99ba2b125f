"""`whoru submit`, `whoru status` and `whoru results`."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click

from whoru.client import http
from whoru.client.packing import collect, pack

SERVER = click.option("--server", default="http://127.0.0.1:8000", show_default=True, envvar="WHORU_SERVER",
                      help="Base URL of the whoru API.")
CSV_OUT = click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the results CSV here.")
JSON_OUT = click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
                        help="Write {job, images} with every result here.")


@click.command("submit")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@SERVER
@click.option("--wait/--no-wait", default=False, help="Poll until the job ends, then write --csv/--json.")
@CSV_OUT
@JSON_OUT
@click.option("--zip-mb", default=512, show_default=True, envvar="WHORU_ZIP_MB", help="Largest zip part to upload, in MB.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def submit(paths, server, wait, csv_out, json_out, zip_mb, quiet) -> None:
    """Submit image files and folders (recursively) as one job; exit 0 only if it succeeded."""
    files = collect(list(paths))
    if not files:
        raise click.ClickException("no image files (jpg, jpeg, png, webp, bmp, gif, tif, tiff) found")
    click.echo(f"{len(files)} images", err=True)
    with tempfile.TemporaryDirectory(prefix="whoru-submit-") as folder:
        parts = list(pack(files, Path(folder), zip_mb * 1024 * 1024))
        job = _call(http.upload, server.rstrip("/"), parts, not quiet)
    click.echo(f"job {job['id']} {job['status']}")
    if wait or csv_out or json_out:
        _finish(server.rstrip("/"), job["id"], csv_out, json_out, quiet)


@click.command("status")
@click.argument("job_id")
@SERVER
def status(job_id: str, server: str) -> None:
    """Print a job's status as JSON."""
    click.echo(json.dumps(_call(http.get_job, server.rstrip("/"), job_id), indent=2))


@click.command("results")
@click.argument("job_id")
@SERVER
@CSV_OUT
@JSON_OUT
def results(job_id: str, server: str, csv_out: Path | None, json_out: Path | None) -> None:
    """Download a job's results as CSV and/or JSON (CSV to stdout when neither is given)."""
    server = server.rstrip("/")
    if csv_out is None and json_out is None:
        csv_out = Path("/dev/stdout")
    if csv_out:
        _call(http.download_csv, server, job_id, csv_out)
    if json_out:
        _call(http.download_json, server, job_id, json_out)


def _finish(server: str, job_id: str, csv_out: Path | None, json_out: Path | None, quiet: bool) -> None:
    """Wait for the job, write the requested files and exit with the job's outcome."""
    job = _call(http.wait, server, job_id, not quiet)
    if csv_out:
        _call(http.download_csv, server, job_id, csv_out)
    if json_out:
        _call(http.download_json, server, job_id, json_out)
    counts = job["counts"]
    click.echo(f"job {job_id} {job['status']}: {counts['images_done']} images done, "
               f"{counts['images_failed']} failed, {counts['faces']} faces", err=True)
    sys.exit(0 if job["status"] == "succeeded" else 1)


def _call(function, *args):
    """Run a client call, turning connection and server errors into clean CLI errors."""
    try:
        return function(*args)
    except http.ServerError as error:
        raise click.ClickException(str(error)) from error
    except http.requests.ConnectionError as error:
        raise click.ClickException(f"cannot reach the server: {error}") from error
