"""`whoru submit`, `whoru status` and `whoru results`."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click

from whoru.client import http
from whoru.client.packing import collect, pack
from whoru.keys import LOCAL_KEY_FILE

SERVER = click.option("--server", default="http://127.0.0.1:8000", show_default=True, envvar="WHORU_SERVER",
                      help="Base URL of the whoru API.")
CSV_OUT = click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the results CSV here.")
KEY = click.option("--api-key", envvar="WHORU_API_KEY",
                   help="API key (default: the key `whoru serve` saved in ./var/api-key).")
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
@KEY
def submit(paths, server, wait, csv_out, json_out, zip_mb, quiet, api_key) -> None:
    """Submit image files and folders (recursively) as one job; exit 0 only if it succeeded."""
    files = collect(list(paths))
    if not files:
        raise click.ClickException("no image files (jpg, jpeg, png, webp, bmp, gif, tif, tiff) found")
    click.echo(f"{len(files)} images", err=True)
    client = http.Client(server, api_key or local_key())
    with tempfile.TemporaryDirectory(prefix="whoru-submit-") as folder:
        parts = list(pack(files, Path(folder), zip_mb * 1024 * 1024))
        job = _call(client.upload, parts, not quiet)
    click.echo(f"job {job['id']} {job['status']}")
    if wait or csv_out or json_out:
        _finish(client, job["id"], csv_out, json_out, quiet)


@click.command("status")
@click.argument("job_id")
@SERVER
@KEY
def status(job_id: str, server: str, api_key: str | None) -> None:
    """Print a job's status as JSON."""
    client = http.Client(server, api_key or local_key())
    click.echo(json.dumps(_call(client.job, job_id), indent=2))


@click.command("results")
@click.argument("job_id")
@SERVER
@CSV_OUT
@JSON_OUT
@KEY
def results(job_id: str, server: str, csv_out: Path | None, json_out: Path | None, api_key: str | None) -> None:
    """Download a job's results as CSV and/or JSON (CSV to stdout when neither is given)."""
    client = http.Client(server, api_key or local_key())
    if csv_out is None and json_out is None:
        csv_out = Path("/dev/stdout")
    if csv_out:
        _call(client.download_csv, job_id, csv_out)
    if json_out:
        _call(client.download_json, job_id, json_out)


def local_key() -> str | None:
    """Return the key `whoru serve` saved under ./var, if there is one."""
    path = LOCAL_KEY_FILE
    return path.read_text().strip() if path.exists() else None


def _finish(client: http.Client, job_id: str, csv_out: Path | None, json_out: Path | None, quiet: bool) -> None:
    """Wait for the job, write the requested files and exit with the job's outcome."""
    job = _call(client.wait, job_id, not quiet)
    if csv_out:
        _call(client.download_csv, job_id, csv_out)
    if json_out:
        _call(client.download_json, job_id, json_out)
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
