"""A face's age, bin and range are read from one distribution, so the age always lies inside its range."""

from __future__ import annotations

import numpy as np
import pytest

from tests.utils.jobs import PHOTOS
from whoru.faces.age import RangeRule, quantile, read_ages, temper
from whoru.faces.pipeline import FacePipeline
from whoru.settings import MODELS_DIR

MODELS = MODELS_DIR
YEARS = np.arange(117)


def gaussian(mean: float, sigma: float) -> np.ndarray:
    """Return a normalised Gaussian over 0..116 years."""
    p = np.exp(-0.5 * ((YEARS - mean) / sigma) ** 2)
    return p / p.sum()


def test_the_range_holds_the_central_80_percent_and_the_age_is_its_median():
    point, wide = np.eye(117)[35], gaussian(40, 8)
    reading = read_ages(np.stack([point, wide]), RangeRule())
    assert (reading.low[0], reading.high[0]) == (35, 35) and abs(reading.age[0] - 35) <= 0.5
    # A Gaussian's 10th and 90th percentiles sit 1.28 sigma either side of its median.
    assert abs(reading.low[1] - (40 - 1.28 * 8)) <= 1 and abs(reading.high[1] - (40 + 1.28 * 8)) <= 1
    assert abs(reading.age[1] - 40) < 0.1


def test_a_temperature_above_one_widens_the_range_and_keeps_the_median():
    wide = gaussian(40, 8)[None]
    narrow, wider = read_ages(wide, RangeRule()), read_ages(wide, RangeRule((), (2.0,)))
    assert wider.low[0] < narrow.low[0] and wider.high[0] > narrow.high[0] and abs(wider.age[0] - narrow.age[0]) < 0.1


def test_the_rule_tempers_each_face_by_its_own_median_age():
    rule = RangeRule((20.5,), (1.0, 2.0))
    young, old = gaussian(10, 3), gaussian(50, 3)
    reading = read_ages(np.stack([young, old]), rule)
    alone = read_ages(np.stack([young, old]), RangeRule())
    assert (reading.low[0], reading.high[0]) == (alone.low[0], alone.high[0])
    assert reading.high[1] - reading.low[1] > alone.high[1] - alone.low[1]
    np.testing.assert_allclose(rule.per_face(np.stack([young, old])), [1.0, 2.0])


def test_a_two_peaked_distribution_still_gets_its_age_inside_its_range():
    """The case of a dog's face once read "age 10 (0-7)": the expectation fell between two peaks."""
    split = 0.55 * np.eye(117)[3] + 0.45 * gaussian(30, 4)
    reading = read_ages(split[None], RangeRule((), (0.7,)))
    assert reading.low[0] <= reading.age[0] <= reading.high[0]


def test_quantiles_interpolate_within_a_year():
    two = np.zeros((1, 117))
    two[0, [20, 21]] = 0.5
    assert quantile(two, 0.5)[0] == pytest.approx(20.5)
    assert quantile(two, 0.25)[0] == pytest.approx(20.0)
    np.testing.assert_allclose(temper(two, 3.0), two, atol=1e-9)


def test_a_rule_needs_one_temperature_more_than_its_ages():
    with pytest.raises(ValueError, match="one positive temperature more"):
        RangeRule((20.5,), (1.0,))


@pytest.mark.parametrize("name", ["default", "fast"])
def test_every_served_age_lies_within_its_range_on_the_fixture_photos(name):
    pipeline = FacePipeline.load(MODELS / name, MODELS / "yunet")
    faces = [
        face for photo in sorted(PHOTOS.glob("*.jpg")) for face in pipeline.analyse(pipeline.decode(photo.read_bytes()))
    ]
    assert len(faces) >= 5
    for face in faces:
        assert face.age_low <= face.age <= face.age_high, (face.age, face.age_low, face.age_high)
