"""Accuracy figures overall and per group, from predictions and true labels."""

from __future__ import annotations

import numpy as np

from whoru.labels import AGE_BIN_NAMES, AGE_BINS, ETHNICITIES, GENDERS, age_bin

GROUP_NAMES = [f"{eth}_{gender}" for eth in ETHNICITIES for gender in GENDERS]
# True-age bands of the signed error (inclusive years; the last one open).
SIGNED_ERROR_BANDS = ((0, 12), (13, 20), (21, 35), (36, 50), (51, 65), (66, 200))
# Resamples of the bootstrap interval of the gender gap; the generator is seeded so a card's
# figures are repeatable.
GAP_RESAMPLES = 1000


def figures(true_age, true_gender, true_eth, age, age_bin_pred, female_p, eth_p, age_low, age_high) -> dict:
    """Return n, age MAE, bin, gender and ethnicity accuracy and age range coverage for aligned arrays.

    Gender and ethnicity are measured on the faces that have that label (MISSING is negative);
    None when no face has it.
    """
    n = len(true_age)
    if n == 0:
        return {
            "n": 0,
            "age_mae": None,
            "age_bin_accuracy": None,
            "gender_accuracy": None,
            "ethnicity_accuracy": None,
            "age_range_coverage": None,
        }
    true_bins = np.array([age_bin(a) for a in true_age])
    genders, ethnicities = true_gender >= 0, true_eth >= 0
    return {
        "n": int(n),
        "age_mae": round(float(np.mean(np.abs(age - true_age))), 3),
        "age_bin_accuracy": round(float(np.mean(age_bin_pred == true_bins)), 4),
        "gender_accuracy": _mean_or_none(gender_correct(female_p[genders], true_gender[genders])),
        "ethnicity_accuracy": _mean_or_none(eth_p[ethnicities].argmax(axis=1) == true_eth[ethnicities]),
        "age_range_coverage": coverage(true_age, age_low, age_high),
    }


def _mean_or_none(right: np.ndarray) -> float | None:
    """Return the fraction of True, rounded, or None for no faces."""
    return round(float(np.mean(right)), 4) if len(right) else None


def signed_error_by_band(true_age: np.ndarray, age: np.ndarray) -> dict[str, dict]:
    """Return the mean signed error (predicted minus true) and the face count in each true-age band."""
    bands = {}
    for low, high in SIGNED_ERROR_BANDS:
        inside = (true_age >= low) & (true_age <= high)
        name = f"{low}+" if high >= 200 else f"{low}-{high}"
        error = float(np.mean(age[inside] - true_age[inside])) if inside.any() else None
        bands[name] = {"n": int(inside.sum()), "mean_signed_error": None if error is None else round(error, 2)}
    return bands


def gender_correct(female_p: np.ndarray, true_gender: np.ndarray) -> np.ndarray:
    """Return whether each face's gender is right, reading P(female) >= 0.5 as female."""
    return (female_p >= 0.5).astype(int) == true_gender


def coverage(true_age: np.ndarray, low: np.ndarray, high: np.ndarray) -> float | None:
    """Return the fraction of true ages inside [low, high], or None for a model that gives no range."""
    if np.isnan(low).all():
        return None
    return round(float(np.mean((low <= true_age) & (true_age <= high))), 4)


def all_figures(labels: dict[str, np.ndarray], preds: dict[str, np.ndarray]) -> dict:
    """Return the overall figures and a `groups` object per ethnicity x gender and per age bin."""

    def subset(mask: np.ndarray) -> dict:
        return figures(
            *(labels[k][mask] for k in ("age", "gender", "ethnicity")),
            *(preds[k][mask] for k in ("age", "age_bin", "female", "ethnicity", "age_low", "age_high")),
        )

    everything = np.ones(len(labels["age"]), dtype=bool)
    group = np.where(
        (labels["ethnicity"] >= 0) & (labels["gender"] >= 0), labels["ethnicity"] * len(GENDERS) + labels["gender"], -1
    )
    groups = {name: subset(group == index) for index, name in enumerate(GROUP_NAMES)}
    true_bins = np.array([age_bin(a) for a in labels["age"]])
    for b, name in enumerate(AGE_BIN_NAMES):
        groups[f"age_{name}"] = subset(true_bins == b)
    grouped = group >= 0
    correct = gender_correct(preds["female"], labels["gender"])[grouped]
    adults = labels["age"][grouped] > AGE_BINS[0][1]
    return {
        **subset(everything),
        "signed_error_by_age": signed_error_by_band(labels["age"], preds["age"]),
        "gender_gap": gender_gap(group[grouped], correct),
        "gender_gap_ages_21_plus": gender_gap(group[grouped][adults], correct[adults]),
        "groups": groups,
    }


def gender_gap(group: np.ndarray, correct: np.ndarray, resamples: int = GAP_RESAMPLES) -> dict | None:
    """Return the points of gender accuracy between the best and the worst ethnicity x gender group.

    A group of a few hundred faces moves by a point or more when a handful of faces change, so the
    figure comes with the 5th and 95th percentiles of the gap over bootstrap resamples of the faces.
    """
    if len(group) == 0:
        return None
    accuracy = _group_accuracy(group[None, :], correct[None, :])[0]
    if np.isfinite(accuracy).sum() < 2:
        return None
    rows = np.random.default_rng(0).integers(0, len(group), (resamples, len(group)))
    boot = _group_accuracy(group[rows], correct[rows])
    gaps = np.nanmax(boot, axis=1) - np.nanmin(boot, axis=1)
    return {
        "points": round(100 * float(np.nanmax(accuracy) - np.nanmin(accuracy)), 2),
        "worst": GROUP_NAMES[int(np.nanargmin(accuracy))],
        "best": GROUP_NAMES[int(np.nanargmax(accuracy))],
        "interval_90": [round(100 * float(q), 2) for q in np.percentile(gaps, [5, 95])],
    }


def _group_accuracy(group: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Return each row's accuracy per group (NaN where a row has no face of a group)."""
    offsets = group + len(GROUP_NAMES) * np.arange(len(group))[:, None]
    size = len(group) * len(GROUP_NAMES)
    faces = np.bincount(offsets.ravel(), minlength=size).reshape(len(group), -1)
    right = np.bincount(offsets.ravel(), weights=correct.ravel(), minlength=size).reshape(len(group), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(faces > 0, right / faces, np.nan)


def figures_by_dataset(dataset: np.ndarray, y: dict[str, np.ndarray], p) -> dict[str, dict]:
    """Return each dataset's figures and signed error by age band, from labels `y` and served predictions `p`."""
    result = {}
    for name in dict.fromkeys(dataset.tolist()):
        rows = dataset == name
        result[name] = {
            **figures(
                y["age"][rows],
                y["gender"][rows],
                y["ethnicity"][rows],
                p.age[rows],
                p.age_bin[rows],
                p.female_probability[rows],
                p.ethnicity_probabilities[rows],
                p.age_low[rows],
                p.age_high[rows],
            ),
            "signed_error_by_age": signed_error_by_band(y["age"][rows], p.age[rows]),
        }
    return result
