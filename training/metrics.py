"""Accuracy figures overall and per group, from predictions and true labels."""

from __future__ import annotations

import numpy as np

from whoru.labels import AGE_BIN_NAMES, ETHNICITIES, GENDERS, age_bin


def figures(true_age, true_gender, true_eth, age, age_bin_pred, female_p, eth_p, age_low, age_high) -> dict:
    """Return n, age MAE, bin, gender and ethnicity accuracy and age range coverage for aligned arrays."""
    n = len(true_age)
    if n == 0:
        return {"n": 0, "age_mae": None, "age_bin_accuracy": None, "gender_accuracy": None, "ethnicity_accuracy": None,
                "age_range_coverage": None}
    true_bins = np.array([age_bin(a) for a in true_age])
    return {
        "n": int(n),
        "age_mae": round(float(np.mean(np.abs(age - true_age))), 3),
        "age_bin_accuracy": round(float(np.mean(age_bin_pred == true_bins)), 4),
        "gender_accuracy": round(float(np.mean((female_p >= 0.5).astype(int) == true_gender)), 4),
        "ethnicity_accuracy": round(float(np.mean(eth_p.argmax(axis=1) == true_eth)), 4),
        "age_range_coverage": coverage(true_age, age_low, age_high),
    }


def coverage(true_age: np.ndarray, low: np.ndarray, high: np.ndarray) -> float | None:
    """Return the fraction of true ages inside [low, high], or None for a model that gives no range."""
    if np.isnan(low).all():
        return None
    return round(float(np.mean((low <= true_age) & (true_age <= high))), 4)


def all_figures(labels: dict[str, np.ndarray], preds: dict[str, np.ndarray]) -> dict:
    """Return the overall figures and a `groups` object per ethnicity x gender and per age bin."""
    def subset(mask: np.ndarray) -> dict:
        return figures(*(labels[k][mask] for k in ("age", "gender", "ethnicity")),
                       *(preds[k][mask] for k in ("age", "age_bin", "female", "ethnicity", "age_low", "age_high")))

    everything = np.ones(len(labels["age"]), dtype=bool)
    groups = {}
    for e, eth in enumerate(ETHNICITIES):
        for g, gender in enumerate(GENDERS):
            groups[f"{eth}_{gender}"] = subset((labels["ethnicity"] == e) & (labels["gender"] == g))
    true_bins = np.array([age_bin(a) for a in labels["age"]])
    for b, name in enumerate(AGE_BIN_NAMES):
        groups[f"age_{name}"] = subset(true_bins == b)
    return {**subset(everything), "groups": groups}
