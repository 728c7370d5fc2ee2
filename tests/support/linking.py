"""The privacy tests' yardstick: a linking attack that guesses among k candidates is "no better than chance" when
its hits stay within 3 sigma of n/k and its one-sided binomial p-value is above ALPHA."""

from __future__ import annotations

import math
from fractions import Fraction

ALPHA = 0.001  # "better than chance" needs a one-sided binomial p-value below this


def p_value(right: int, n: int, k: int) -> float:
    """P(X >= right) for X ~ Binomial(n, 1/k), exactly."""
    return float(sum(Fraction(math.comb(n, x) * (k - 1) ** (n - x), k**n) for x in range(right, n + 1)))


def assert_chance(right: int, n: int, k: int, what: str) -> None:
    p = 1 / k
    bound = p + 3 * math.sqrt(p * (1 - p) / n)
    pv = p_value(right, n, k)
    assert right / n <= bound and pv > ALPHA, (
        f"{what}: {right}/{n} = {right / n:.3f} linked, chance 1/{k} = {p:.3f}, 3-sigma bound {bound:.3f}, p = {pv:.2g}"
    )
