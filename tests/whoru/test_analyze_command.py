"""`whoru analyze PHOTO...`: a table, JSON or CSV of a few photos' faces, without a server."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

import whoru
from tests.utils.jobs import PHOTOS
from whoru.cli.main import main
from whoru.results_csv import HEADER

GROUP, SINGLE = PHOTOS / "dlib_2008_001322.jpg", PHOTOS / "fr_obama_small.jpg"


def run(*args: str):
    """Run `whoru analyze` with these arguments."""
    return CliRunner().invoke(main, ["analyze", *args])


def test_the_table_has_a_line_per_face_and_per_photo_without_one():
    result = run(str(GROUP), str(PHOTOS / "mtcnn_no-faces.jpg"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["photo", "face", "box"]
    assert sum(GROUP.name in line for line in lines) == len(whoru.analyze(GROUP))
    assert any("mtcnn_no-faces.jpg" in line and "no face" in line for line in lines)


def test_json_gives_each_photo_as_the_api_gives_an_image():
    result = run(str(SINGLE), str(GROUP), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["model"]["name"] == "default" and document["model"]["version"]
    single, group = document["images"]
    assert (single["name"], single["status"], single["width"], single["height"]) == (str(SINGLE), "done", 320, 240)
    assert group["faces"] == [face.to_dict() for face in whoru.analyze(GROUP)]


def test_csv_has_the_columns_of_a_jobs_results():
    result = run(str(GROUP), "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == HEADER
    faces = whoru.analyze(GROUP)
    assert [row[HEADER.index("face")] for row in rows[1:]] == [str(i) for i in range(len(faces))]
    assert [float(row[HEADER.index("age")]) for row in rows[1:]] == [face.age for face in faces]


def test_a_bad_photo_is_reported_and_the_others_are_analysed(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    result = run(str(broken), str(SINGLE), "--json")
    assert result.exit_code == 1
    failed, done = json.loads(result.stdout)["images"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "not_an_image"
    assert done["status"] == "done" and len(done["faces"]) == 1


def test_a_folder_is_pointed_to_submit():
    result = run(str(PHOTOS))
    assert result.exit_code == 2 and "whoru submit" in result.stderr


def test_an_unknown_model_is_refused():
    result = run(str(SINGLE), "--model", "nonesuch")
    assert result.exit_code == 2 and "unknown model 'nonesuch'" in result.stderr
