"""The README is the user's manual: its configuration table names every setting, and it speaks of
the product alone."""

from __future__ import annotations

import re
from pathlib import Path

from whoru.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_configuration_table_names_every_setting():
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(WHORU_[A-Z0-9_]+)`", table))
    assert set(Settings.variables()) <= named


def test_it_names_no_development_rounds_or_issues():
    assert not re.search(r"\bsessions? \d|\bissues? (?:\d|#)|\bthe \w+ issue\b|\bdevelopment round", README, re.I)
