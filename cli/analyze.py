"""`whoru analyze PHOTO...`: the faces of a few photos, analysed in this process, without a server."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import click

from whoru.analysis import DEFAULT, analyze_photo
from whoru.faces.face import Face
from whoru.faces.images import ImageError
from whoru.results import image_json
from whoru.results_csv import HEADER, image_rows

# Past this many photos a job on the service is the better tool: workers in parallel, resumable uploads.
MANY_PHOTOS = 20


@dataclass
class Outcome:
    """One photo's result, with the fields of a stored image, so the API's JSON and CSV views apply to it."""

    position: int
    name: str
    width: int | None = None
    height: int | None = None
    faces: list[Face] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None
    taken_at: datetime | None = None

    @property
    def status(self) -> str:
        """Return the image status the service would give this photo."""
        if self.error_code:
            return "failed"
        return "done" if self.faces else "no_face"


@click.command("analyze")
@click.argument("photos", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--model",
    default=DEFAULT,
    show_default=True,
    envvar="WHORU_ANALYZE_MODEL",
    help="Model to run: default (WHORU_MODEL), a served model's name such as fast, or a model folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print {model, images} as JSON, each image as the API gives it.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with the columns of a job's results.csv.")
def analyze(photos: tuple[Path, ...], model: str, as_json: bool, as_csv: bool) -> None:
    """Print the faces of a few photos: a table, or JSON or CSV. Exit 1 if any photo failed.

    Runs here, without a server. For a folder or many photos use `whoru submit` on a service.
    """
    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    _refuse_folders(photos)
    if len(photos) > MANY_PHOTOS:
        click.echo(f"{len(photos)} photos run one after another here; `whoru submit` runs them on workers", err=True)
    outcomes, version = _analyse_all(photos, model)
    if as_json:
        click.echo(
            json.dumps(
                {"model": {"name": model, "version": version}, "images": [image_json(outcome) for outcome in outcomes]},
                indent=2,
            )
        )
    elif as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(HEADER)
        for outcome in outcomes:
            writer.writerows(image_rows(outcome, version))
    else:
        click.echo(table(outcomes))
    sys.exit(1 if any(outcome.error_code for outcome in outcomes) else 0)


def _refuse_folders(photos: tuple[Path, ...]) -> None:
    """Point a folder to `whoru submit`, before anything is analysed."""
    folders = [path for path in photos if path.is_dir()]
    if folders:
        raise click.UsageError(
            f"{folders[0]} is a folder: `whoru analyze` takes photos. For a folder, start the "
            f"service (`whoru serve`) and run `whoru submit {folders[0]} --wait --csv results.csv`"
        )


def _analyse_all(photos: tuple[Path, ...], model: str) -> tuple[list[Outcome], str]:
    """Analyse each photo; a bad one is reported in its outcome and the others go on."""
    outcomes, version = [], ""
    for position, path in enumerate(photos):
        outcome = Outcome(position, str(path))
        try:
            found = analyze_photo(path, model)
        except ImageError as error:
            outcome.error_code, outcome.error_message = error.code, str(error)
        except LookupError as error:
            raise click.BadParameter(str(error), param_hint="--model") from error
        else:
            outcome.width, outcome.height, outcome.faces, version = (
                found.width,
                found.height,
                found.faces,
                found.model_version,
            )
        outcomes.append(outcome)
    return outcomes, version


def table(outcomes: list[Outcome]) -> str:
    """Return one line per face (or per photo without one) under a header, in columns."""
    width = max(len("photo"), *(len(outcome.name) for outcome in outcomes))
    lines = [f"{'photo':<{width}}  face  {'box x,y,w,h':<19}  {'age (80% range)':<15}  {'gender':<11}  ethnicity"]
    for outcome in outcomes:
        if outcome.error_code:
            lines.append(f"{outcome.name:<{width}}     -  failed: {outcome.error_code}: {outcome.error_message}")
        elif not outcome.faces:
            lines.append(f"{outcome.name:<{width}}     -  no face")
        for index, face in enumerate(outcome.faces):
            gender, ethnicity = (
                f"{face.gender} {face.gender_probability:.2f}",
                f"{face.ethnicity} {max(face.ethnicity_probabilities):.2f}",
            )
            lines.append(
                f"{outcome.name:<{width}}  {index:>4}  {_box(face):<19}  {_age(face):<15}  {gender:<11}  {ethnicity}"
            )
    return "\n".join(lines)


def _box(face: Face) -> str:
    """Return a face's box as x,y,w,h in whole pixels."""
    return ",".join(str(round(v)) for v in (face.x, face.y, face.w, face.h))


def _age(face: Face) -> str:
    """Return a face's age, with its 80% range where the model gives one."""
    if face.age_low is None:
        return f"{face.age:.0f} (bin {face.age_bin})"
    return f"{face.age:.0f} ({face.age_low:.0f}-{face.age_high:.0f})"
