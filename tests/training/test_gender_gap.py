"""The gender gap between ethnicity x gender groups, and its bootstrap interval."""

from __future__ import annotations

import numpy as np

from whoru.training.accuracy import GROUP_NAMES, all_figures, gender_gap


def _faces(accuracies: dict[str, float], per_group: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Return group indices and correctness with exactly the given accuracy in each group."""
    group, correct = [], []
    for name, accuracy in accuracies.items():
        right = round(accuracy * per_group)
        group += [GROUP_NAMES.index(name)] * per_group
        correct += [True] * right + [False] * (per_group - right)
    return np.array(group), np.array(correct)


def test_the_gap_is_between_the_best_and_the_worst_group():
    group, correct = _faces({"white_male": 0.95, "asian_male": 0.85, "black_female": 0.975, "indian_female": 0.9})
    gap = gender_gap(group, correct)
    assert gap["points"] == 12.5
    assert (gap["worst"], gap["best"]) == ("asian_male", "black_female")
    low, high = gap["interval_90"]
    assert 5 < low < gap["points"] < high < 20


def test_the_interval_narrows_with_more_faces():
    accuracies = {"white_male": 0.95, "asian_male": 0.85}
    few, many = gender_gap(*_faces(accuracies, 40)), gender_gap(*_faces(accuracies, 4000))
    assert few["points"] == many["points"] == 10.0
    assert np.diff(many["interval_90"])[0] < np.diff(few["interval_90"])[0] / 4


def test_no_gap_without_two_groups():
    assert gender_gap(*_faces({"white_male": 0.9})) is None
    assert gender_gap(*_faces({"white_male": 1.0, "white_female": 1.0})) == {
        "points": 0.0,
        "worst": "white_male",
        "best": "white_male",
        "interval_90": [0.0, 0.0],
    }


def test_figures_give_the_gap_overall_and_for_adults():
    ages = np.array([2, 2, 30, 30, 30, 30])
    labels = {"age": ages, "gender": np.array([0, 1, 0, 1, 0, 1]), "ethnicity": np.array([2, 2, 2, 2, 1, 1])}
    female = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    preds = {
        "age": ages.astype(float),
        "age_bin": np.array([0, 0, 1, 1, 1, 1]),
        "female": female,
        "ethnicity": np.eye(5)[labels["ethnicity"]],
        "age_low": ages - 1.0,
        "age_high": ages + 1.0,
    }
    figures = all_figures(labels, preds)
    assert figures["gender_gap"]["points"] == 50.0 and figures["gender_gap"]["worst"] == "asian_male"
    assert figures["gender_gap_ages_21_plus"]["points"] == 0.0
