"""The results CSV: a row per face (or per image without faces), and user cells that never run as formulas."""

from __future__ import annotations

import csv
import io

import pytest

from whoru.db.schema import Face, Image
from whoru.results_csv import HEADER, csv_chunks, image_rows, inert


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x","y")', "+1", "-1", "@x", "\tname", "\rname", " =1+1", "\n@x", " \n-1"]
)
def test_formula_names_are_inert(name):
    assert inert(name) == "'" + name
    image = Image(position=0, name=name, status="no_face", faces=[])
    [row] = list(image_rows(image, "v1"))
    assert row[1] == "'" + name


def test_ordinary_names_are_unchanged():
    assert inert("photos/a.jpg") == "photos/a.jpg"


def faced_image(name: str, position: int = 0) -> Image:
    """Return a done image with two faces."""
    faces = [
        Face(
            index=i,
            x=1.0 + i,
            y=2.0,
            w=3.0,
            h=4.0,
            detection_score=0.9,
            age=30.5 + i,
            age_bin="21-40",
            age_low=25.0,
            age_high=None,
            gender="female",
            gender_probability=0.8,
            ethnicity="asian",
            ethnicity_probabilities=[0.1, 0.1, 0.6, 0.1, 0.1],
        )
        for i in range(2)
    ]
    return Image(position=position, name=name, status="done", faces=faces)


def test_one_row_per_face_and_one_per_image_without_faces():
    failed = Image(
        position=1,
        name="bad.jpg",
        status="failed",
        error_code="corrupt_image",
        error_message="=cmd|' /C calc'!A0",
        faces=[],
    )
    rows = [dict(zip(HEADER, row)) for image in (faced_image("a.jpg"), failed) for row in image_rows(image, "v1")]
    assert [(r["position"], r["image"], r["face"], r["age"], r["status"]) for r in rows] == [
        (0, "a.jpg", 0, 30.5, "done"),
        (0, "a.jpg", 1, 31.5, "done"),
        (1, "bad.jpg", "", "", "failed"),
    ]
    assert all(len(row) == len(HEADER) for image in (faced_image("a.jpg"), failed) for row in image_rows(image, "v1"))
    assert (rows[0]["p_asian"], rows[0]["age_high"], rows[0]["model_version"]) == (0.6, None, "v1")
    assert rows[2]["error"] == "corrupt_image: =cmd|' /C calc'!A0"
    formula = Image(position=2, name="x.jpg", status="failed", error_code="=x", error_message="y", faces=[])
    assert dict(zip(HEADER, next(image_rows(formula, "v1"))))["error"] == "'=x: y"


def test_chunks_are_the_header_then_a_page_at_a_time_and_parse_back():
    pages = [[faced_image("a,b.jpg")], [Image(position=1, name='say "hi".jpg', status="no_face", faces=[])]]
    chunks = list(csv_chunks(pages, "v2"))
    assert len(chunks) == 3 and chunks[0].startswith(",".join(HEADER) + "\n") and chunks[2] == ""
    assert chunks[1].count("\n") == 1
    table = list(csv.reader(io.StringIO("".join(chunks))))
    assert table[0] == list(HEADER)
    assert [(row[0], row[1], row[2], row[-3]) for row in table[1:]] == [
        ("0", "a,b.jpg", "0", "done"),
        ("0", "a,b.jpg", "1", "done"),
        ("1", 'say "hi".jpg', "", "no_face"),
    ]
    assert {row[-1] for row in table[1:]} == {"v2"}
