"""`whoru submit`, `whoru wait`, `whoru status`, `whoru jobs` and `whoru results`."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from whoru.client import http
from whoru.client.connect import connect
from whoru.client.packing import Scan, refuse_unsendable, scan
from whoru.client.upload import Uploader
from whoru.client.upload import wait as wait_until_ended
from whoru.settings import Settings

DEFAULT_SERVER = Settings.model_fields["server"].default
SERVER = click.option(
    "--server",
    default=DEFAULT_SERVER,
    show_default=True,
    envvar="WHORU_SERVER",
    help="Base URL of the whoru API (http:// is assumed when no scheme is given).",
)
CSV_OUT = click.option(
    "--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the results CSV here."
)
KEY = click.option(
    "--api-key",
    envvar="WHORU_API_KEY",
    help="API key (default: the key `whoru serve` saved in WHORU_HOME; `whoru keys path` prints where).",
)
JSON_OUT = click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write {job, images} with every result here.",
)
PEOPLE_CSV = click.option(
    "--people-csv",
    "people_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the people table (one row per person) of a job submitted with --people here.",
)
FORCE = click.option("--force", is_flag=True, help="Overwrite --csv and --json files that already exist.")
QUIET = click.option("--quiet", is_flag=True, help="No progress bars.")
SHOWN_SKIPPED = 10
# The label the CLI gives a job from its paths is cut here; the server takes longer ones.
DEFAULT_LABEL_LENGTH = 200


@click.command("submit")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@SERVER
@click.option(
    "--wait/--no-wait", default=False, help="Show processing while uploading, wait for the end, write --csv/--json."
)
@CSV_OUT
@JSON_OUT
@click.option(
    "--part-mb",
    default=256,
    show_default=True,
    type=click.IntRange(1),
    envvar="WHORU_PART_MB",
    help="Largest part of packed images to upload at once, in MB (zip archives go as they are).",
)
@click.option(
    "--resume",
    "resume_id",
    metavar="JOB",
    envvar="WHORU_RESUME_JOB",
    help="Continue an interrupted submission of the same paths into this job.",
)
@click.option(
    "--model", envvar="WHORU_SUBMIT_MODEL", help="Model to run, e.g. fast (default: the server's default model)."
)
@click.option(
    "--people/--no-people",
    default=None,
    envvar="WHORU_SUBMIT_PEOPLE",
    help="Group the faces by person (default: the server's WHORU_PEOPLE); stores each face's identity embedding "
    "until the job is deleted.",
)
@PEOPLE_CSV
@click.option("--label", help="A name for the job in `whoru jobs` and on the web page (default: the paths given).")
@FORCE
@QUIET
@KEY
def submit(
    paths, server, wait, csv_out, json_out, part_mb, resume_id, model, people, people_out, label, force, quiet, api_key
) -> None:
    """Submit images, folders (recursively) and zip archives as one job, part by part.

    Exit 0 only if the job succeeded (or, without --wait, once every part is sent).
    """
    _check_outputs(force, csv_out, json_out, people_out)
    found = scan(list(paths))
    _report(found)
    client = _client(server, api_key)
    uploader = Uploader(client, found.items, part_mb * 1024 * 1024, not quiet)
    with tempfile.TemporaryDirectory(prefix="whoru-submit-") as folder:
        job = _call(uploader.start, resume_id, model=model, people=people, label=label or _paths_label(paths))
        click.echo(f"job {job['id']} open", err=True)
        try:
            job = _call(uploader.send_all, Path(folder), wait or bool(csv_out or json_out or people_out))
        except (click.ClickException, KeyboardInterrupt) as stop:
            _tell_how_to_resume(
                job["id"], paths, server, (["--wait"] if wait else []) + _output_options(csv_out, json_out)
            )
            raise click.exceptions.Exit(130) if isinstance(stop, KeyboardInterrupt) else stop
        _warn_if_sent_before(client, job)
    line = f"job {job['id']} {job['status']}"
    if wait or csv_out or json_out or people_out:
        _finish(client, job["id"], csv_out, json_out, people_out, not quiet, line)
    else:
        click.echo(line)


@click.command("wait")
@click.argument("job_id")
@SERVER
@CSV_OUT
@JSON_OUT
@FORCE
@QUIET
@KEY
def wait_command(
    job_id: str, server: str, csv_out: Path | None, json_out: Path | None, force: bool, quiet: bool, api_key: str | None
) -> None:
    """Wait for a job to end, showing its progress, then write --csv/--json. Exit 0 only if it succeeded."""
    _check_outputs(force, csv_out, json_out)
    client = _client(server, api_key)
    job = _call(client.job, job_id, True)
    if job["open"]:
        click.echo(
            f"job {job['id']} is still open: it ends once it is closed (`whoru submit PATH... --resume "
            f"{job['id'][:8]}` sends the rest and closes it) or the server closes it for want of parts",
            err=True,
        )
    _finish(client, job["id"], csv_out, json_out, None, not quiet)


@click.command("status")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole job as JSON.")
@SERVER
@KEY
def status(job_id: str, as_json: bool, server: str, api_key: str | None) -> None:
    """Print a job's status: one line, or JSON with --json."""
    job = _call(_client(server, api_key).job, job_id, True)
    click.echo(json.dumps(job, indent=2) if as_json else job_line(job))


@click.command("jobs")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="How many jobs, newest first."
)
@SERVER
@KEY
def jobs(limit: int, server: str, api_key: str | None) -> None:
    """List your jobs, newest first, one line each."""
    for job in _call(_client(server, api_key).jobs, limit):
        click.echo(job_line(job))


@click.command("results")
@click.argument("job_id")
@SERVER
@CSV_OUT
@JSON_OUT
@PEOPLE_CSV
@click.option(
    "--partial", is_flag=True, help="Write the results of a job that has not ended (pending images included)."
)
@FORCE
@KEY
def results(
    job_id: str,
    server: str,
    csv_out: Path | None,
    json_out: Path | None,
    people_out: Path | None,
    partial: bool,
    force: bool,
    api_key: str | None,
) -> None:
    """Download a job's results as CSV and/or JSON, and its people as CSV (results CSV to stdout when none is given)."""
    _check_outputs(force, csv_out, json_out, people_out)
    client = _client(server, api_key)
    job = _call(client.job, job_id, True)
    if job["status"] not in http.FINAL and not partial:
        raise click.ClickException(
            f"job {job['id']} is {job['status']} ({_progress(job)}): its results are not final; "
            f"wait with `whoru wait {job['id'][:8]}`, or pass --partial for what there is so far"
        )
    if csv_out is None and json_out is None and people_out is None:
        csv_out = Path("/dev/stdout")
    _download(client, job["id"], csv_out, json_out, people_out)


def job_line(job: dict) -> str:
    """Return one human line about a job."""
    flag = ", open" if job.get("open") else ""
    label = f"  {job['label']}" if job.get("label") else ""
    try_it = "  (try it)" if job.get("try_it") else ""
    return (
        f"{job['id']}  {job['status']}{flag}  {_progress(job)}  created {job['created_at'][:19].replace('T', ' ')}"
        f"{label}{try_it}"
    )


def _progress(job: dict) -> str:
    """Return a job's counts in words."""
    counts = job["counts"]
    return (
        f"{counts['images_done'] + counts['images_failed']}/{counts['images_total']} images, "
        f"{counts['images_failed']} failed, {counts['faces']} faces"
    )


def _client(server: str, api_key: str | None) -> http.Client:
    """Return a client with the key given, or the one `whoru serve` saved; say where it looked if there is none."""
    return _call(connect, server, api_key)


def _paths_label(paths) -> str:
    """Return the label a job gets from its paths when none is given."""
    label = " ".join(str(path) for path in paths)
    return label if len(label) <= DEFAULT_LABEL_LENGTH else label[: DEFAULT_LABEL_LENGTH - 1] + "…"


def _check_outputs(force: bool, *outputs: Path | None) -> None:
    """Refuse output paths that could not be written, or that exist (unless forced), before any work is done."""
    for out in outputs:
        if out is not None and not os.access(out.parent, os.W_OK):
            raise click.BadParameter(f"cannot write {out}: its folder {out.parent} does not exist or is not writable")
        if out is not None and out.exists() and not force:
            raise click.ClickException(
                f"{out} already exists; nothing was sent or written. Pass --force to overwrite it, or name another file"
            )


def _output_options(csv_out: Path | None, json_out: Path | None) -> list[str]:
    """Return the --csv and --json options as the user gave them, to repeat in a hint."""
    return [*(["--csv", str(csv_out)] if csv_out else []), *(["--json", str(json_out)] if json_out else [])]


def _warn_if_sent_before(client: http.Client, job: dict) -> None:
    """Warn when an unfinished job of this key began with the same first part: the same paths, submitted twice."""
    for other in _call(client.jobs_like, job["id"]):
        click.echo(
            f"warning: job {other['id']} ({other['status']}, {other.get('label') or 'no label'}) "
            "has not ended and was sent the same files; see `whoru jobs`",
            err=True,
        )


def _report(found: Scan) -> None:
    """Say what will be sent and what is skipped; refuse names two files would share, or nothing to send."""
    for path, reason in found.skipped[:SHOWN_SKIPPED]:
        click.echo(f"skipped {path}: {reason}", err=True)
    if len(found.skipped) > SHOWN_SKIPPED:
        click.echo(f"... and {len(found.skipped) - SHOWN_SKIPPED} more skipped", err=True)
    click.echo(f"{found.photos} images, {found.archives} zip archives; {len(found.skipped)} files skipped", err=True)
    _call(refuse_unsendable, found)


def _tell_how_to_resume(job_id: str, paths, server: str, outputs: list[str]) -> None:
    """Print the command that finishes an interrupted submission."""
    command = " ".join(["whoru submit", *(str(p) for p in paths), "--server", server, "--resume", job_id, *outputs])
    click.echo(
        f"\nthe upload stopped; job {job_id} stays open with the parts sent so far. To finish it:\n  {command}",
        err=True,
    )


def _finish(
    client: http.Client,
    job_id: str,
    csv_out: Path | None,
    json_out: Path | None,
    people_out: Path | None,
    show: bool,
    announce: str = "",
) -> None:
    """Say `announce`, wait for the job, write the requested files and exit with the job's outcome."""
    # The announcement is inside the try: a Ctrl-C right after it still gets the hint, not Click's "Aborted!".
    try:
        if announce:
            click.echo(announce)
        job = _call(wait_until_ended, client, job_id, show)
    except KeyboardInterrupt:
        server = [] if client.server == DEFAULT_SERVER else ["--server", client.server]
        command = " ".join(
            ["whoru wait", job_id[:8], *server, *(_output_options(csv_out, json_out) or ["--csv", "results.csv"])]
        )
        click.echo(
            f"\nstopped waiting; job {job_id} keeps running on the server. Wait for it again with:\n  {command}",
            err=True,
        )
        raise click.exceptions.Exit(130) from None
    _download(client, job_id, csv_out, json_out, people_out if job["status"] == "succeeded" else None)
    counts = job["counts"]
    click.echo(
        f"job {job_id} {job['status']}: {counts['images_done']} images done, "
        f"{counts['images_failed']} failed, {counts['faces']} faces",
        err=True,
    )
    sys.exit(0 if job["status"] == "succeeded" else 1)


def _download(
    client: http.Client, job_id: str, csv_out: Path | None, json_out: Path | None, people_out: Path | None = None
) -> None:
    """Write the job's results (and people) to the files asked for."""
    if csv_out:
        _call(client.download_csv, job_id, csv_out)
    if json_out:
        _call(client.download_json, job_id, json_out)
    if people_out:
        _call(client.download_csv, job_id, people_out, "people")


def _call(function, *args, **kwargs):
    """Run a client call, turning connection and server errors into clean CLI errors that name the fix."""
    try:
        return function(*args, **kwargs)
    except http.ServerError as error:
        if error.status == 401:
            raise click.ClickException(
                f"the server refused the API key ({error}). Give the right one with --api-key or "
                "WHORU_API_KEY, or make one where the server runs with `whoru keys create NAME`"
            ) from error
        raise click.ClickException(str(error)) from error
    except http.ClientError as error:
        raise click.ClickException(str(error)) from error
    except http.requests.ConnectionError as error:
        tried = getattr(error.request, "url", None) or "the server"
        raise click.ClickException(
            f"cannot reach the server at {tried}: is it running? Start one with `whoru serve`, "
            f"or name the one to use with --server or WHORU_SERVER ({error})"
        ) from error
    except http.requests.RequestException as error:
        raise click.ClickException(f"the request failed: {error}") from error
