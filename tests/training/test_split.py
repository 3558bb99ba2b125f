"""The 60/20/20 split is deterministic, disjoint and stratified."""

from __future__ import annotations

import random
from collections import Counter

from whoru.labels import age_bin
from whoru.training.readers import Face
from whoru.training.split import split


def faces(n: int = 3000) -> list[Face]:
    """Return synthetic labelled faces."""
    rng = random.Random(3)
    return [
        Face(f"{rng.randint(1, 99)}_{i}.jpg", rng.randint(1, 99), rng.randint(0, 1), rng.randint(0, 4))
        for i in range(n)
    ]


def test_same_faces_same_parts_in_any_order():
    data = faces()
    shuffled = data[:]
    random.Random(9).shuffle(shuffled)
    assert split(data) == split(shuffled)


def test_parts_are_disjoint_and_complete():
    data = faces()
    parts = split(data)
    names = [n for part in parts.values() for n in part]
    assert len(names) == len(set(names)) == len(data)


def test_each_group_is_split_sixty_twenty_twenty():
    data = faces()
    by_name = {f.name: f for f in data}
    parts = split(data)
    assert abs(len(parts["train"]) / len(data) - 0.6) < 0.01
    groups = {
        part: Counter((by_name[n].gender, by_name[n].ethnicity, age_bin(by_name[n].age)) for n in names)
        for part, names in parts.items()
    }
    for group, total in Counter((f.gender, f.ethnicity, age_bin(f.age)) for f in data).items():
        assert abs(groups["train"][group] - 0.6 * total) <= 1
        assert abs(groups["test"][group] - 0.2 * total) <= 1.5
