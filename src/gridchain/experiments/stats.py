"""Summary statistics for repeated runs."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats


def mean_ci95(samples: Sequence[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % confidence interval (Student t; 0 for fewer than 2 samples)."""
    n = len(samples)
    if n == 0:
        raise ValueError("no samples")
    mean = sum(samples) / n
    if n < 2:
        return mean, 0.0
    var = sum((x - mean) ** 2 for x in samples) / (n - 1)
    return mean, float(stats.t.ppf(0.975, n - 1)) * math.sqrt(var / n)
