"""Label orders and age bins shared by the models, the API and the exports."""

from __future__ import annotations

import numpy as np

GENDERS = ("male", "female")
ETHNICITIES = ("white", "black", "asian", "indian", "others")
# The original project's five age bins, inclusive year ranges; the last one is open.
AGE_BINS = ((0, 20), (21, 40), (41, 60), (61, 80), (81, 200))
AGE_BIN_NAMES = ("0-20", "21-40", "41-60", "61-80", "81+")
MAX_AGE = 116


def age_bin(age: float) -> int:
    """Return the index of the bin holding an age in years (rounded to the nearest year)."""
    years = int(round(float(age)))
    return next(index for index, (low, high) in enumerate(AGE_BINS) if years <= high)


def age_bin_matrix() -> np.ndarray:
    """Return the (MAX_AGE+1, 5) 0/1 matrix that sums an age distribution into bins."""
    matrix = np.zeros((MAX_AGE + 1, len(AGE_BINS)), dtype=np.float32)
    for years in range(MAX_AGE + 1):
        matrix[years, age_bin(years)] = 1.0
    return matrix
