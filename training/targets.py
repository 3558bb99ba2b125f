"""Turn integer labels into the training targets each architecture's outputs learn."""

from __future__ import annotations

import numpy as np

from whoru.labels import AGE_BINS, ETHNICITIES, MAX_AGE, age_bin

# Neighbouring ages look alike: a Gaussian over years, not a one-hot age, is what the
# age head learns (label distribution learning), and it keeps the estimate smooth.
AGE_SIGMA = 2.5


def age_distribution(ages: np.ndarray) -> np.ndarray:
    """Return a normalised Gaussian over 0..MAX_AGE around each age."""
    years = np.arange(MAX_AGE + 1, dtype=np.float32)
    weights = np.exp(-0.5 * ((years[None, :] - ages[:, None]) / AGE_SIGMA) ** 2)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def one_hot(indices: np.ndarray, size: int) -> np.ndarray:
    """Return float one-hot rows; a missing label (negative) is a row of zeros, which the masked losses skip."""
    indices = np.asarray(indices)
    return np.eye(size, dtype=np.float32)[np.maximum(indices, 0)] * (indices >= 0)[:, None]


def default_targets(ages: np.ndarray, genders: np.ndarray, ethnicities: np.ndarray) -> dict[str, np.ndarray]:
    """Return the targets of the multi-task network, keyed by output name."""
    return {
        "age_distribution": age_distribution(ages.astype(np.float32)),
        "age": ages.astype(np.float32)[:, None],
        "gender": genders.astype(np.float32)[:, None],
        "ethnicity": one_hot(ethnicities, len(ETHNICITIES)),
    }


def seed_targets(task: str, ages: np.ndarray, genders: np.ndarray, ethnicities: np.ndarray) -> np.ndarray:
    """Return the original project's target for one of its three CNNs."""
    if task == "gender":
        return genders.astype(np.float32)[:, None]
    if task == "age_bins":
        return one_hot(np.array([age_bin(age) for age in ages]), len(AGE_BINS))
    return one_hot(ethnicities, len(ETHNICITIES))
