"""The served age, its bin and its 80% range, all read from one predicted age distribution.

The age is the median of the tempered distribution and the range its 10th to 90th percentile, so
the age always lies inside its own range. The temperature (p ** (1 / T), renormalised) widens an
over-confident distribution; it may depend on the face's untempered median age, because some ages
are read less surely than others, but never on where the photo comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from whoru.labels import AGE_BINS, age_bin_matrix

# The age range is the central 80% of the tempered age distribution.
RANGE_QUANTILES = (0.1, 0.9)


@dataclass(frozen=True)
class RangeRule:
    """Temperatures by untempered median age: `temperatures[i]` up to `upper_ages[i]`, the last one above them all."""

    upper_ages: tuple[float, ...] = ()
    temperatures: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        if len(self.temperatures) != len(self.upper_ages) + 1 or min(self.temperatures) <= 0:
            raise ValueError(f"a range rule needs one positive temperature more than its ages: {self}")

    def per_face(self, distribution: np.ndarray) -> np.ndarray:
        """Return each face's temperature, from the band its untempered median falls in."""
        band = np.searchsorted(np.asarray(self.upper_ages), quantile(distribution, 0.5), side="left")
        return np.asarray(self.temperatures, dtype=np.float64)[band]


@dataclass(frozen=True)
class AgeReading:
    """Age in years, bin probabilities and the range of each face of a batch."""

    age: np.ndarray
    bins: np.ndarray
    low: np.ndarray
    high: np.ndarray


def read_ages(distribution: np.ndarray, rule: RangeRule) -> AgeReading:
    """Return the age, bins and range of each face from its distribution over 0..116 years."""
    tempered = temper(distribution, rule.per_face(distribution))
    low, high = (np.floor(quantile(tempered, q) + 0.5).astype(np.float32) for q in RANGE_QUANTILES)
    bins = distribution @ age_bin_matrix()
    age = _within_bins(quantile(tempered, 0.5).astype(np.float32), bins.argmax(axis=1))
    return AgeReading(np.clip(age, low, high), bins, low, high)


def temper(distribution: np.ndarray, temperature: np.ndarray | float) -> np.ndarray:
    """Return p ** (1 / T), renormalised, with one temperature for all faces or one per face."""
    t = np.broadcast_to(np.asarray(temperature, dtype=np.float64), (len(distribution),))[:, None]
    logs = np.log(np.maximum(distribution.astype(np.float64), 1e-30)) / t
    tempered = np.exp(logs - logs.max(axis=1, keepdims=True))
    return tempered / tempered.sum(axis=1, keepdims=True)


def quantile(distribution: np.ndarray, q: float) -> np.ndarray:
    """Return the q-quantile of each row in years, each year's probability spread evenly over year +- 0.5."""
    cumulative = np.cumsum(distribution, axis=1)
    cumulative /= cumulative[:, -1:]
    year = (cumulative < q).sum(axis=1).clip(0, distribution.shape[1] - 1)
    rows = np.arange(len(distribution))
    below = np.where(year > 0, cumulative[rows, np.maximum(year - 1, 0)], 0.0)
    mass = np.maximum(cumulative[rows, year] - below, 1e-12)
    return year - 0.5 + np.clip((q - below) / mass, 0.0, 1.0)


def _within_bins(age: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Clip each age into its most probable bin, so years and bin never disagree.

    Both come from one distribution, so they agree for nearly every face; a wide, two-peaked
    distribution can put the median outside the heaviest bin, and then the bin wins.
    """
    low = np.array([AGE_BINS[b][0] for b in bins], dtype=np.float32)
    high = np.array([AGE_BINS[b][1] + 0.49 for b in bins], dtype=np.float32)
    return np.clip(age, low, high)
