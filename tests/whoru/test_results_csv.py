"""CSV cells that come from users can never run as spreadsheet formulas."""

from __future__ import annotations

import pytest

from whoru.db.schema import Image
from whoru.results_csv import image_rows, inert


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-1", "@x", "\tname", "\rname"])
def test_formula_names_are_inert(name):
    assert inert(name) == "'" + name
    image = Image(name=name, status="no_face", faces=[])
    [row] = list(image_rows(image, "v1"))
    assert row[0] == "'" + name


def test_ordinary_names_are_unchanged():
    assert inert("photos/a.jpg") == "photos/a.jpg"
