"""The paper's priority U = beta1 (1 - SoC) + beta2 F(TCC) (Eq. 1) and the greedy order by U / demand.

All in integers: `u = beta1_pm * (1000 - soc_pm) + beta2_pm * F(tcc)` lies in 0..1_000_000, and ratios are
compared by cross-multiplication, never divided, exactly as the contract does.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from gridchain.coordination.model.request import PM, ChargingRequest


def urgency_pm(tcc: int) -> int:
    """F(K) [per-mille]: 1000 for K = 1 slot, 500 for K = 2, 0 for K >= 3 (the paper's evaluation)."""
    if tcc <= 1:
        return 1000
    if tcc == 2:
        return 500
    return 0


def priority(request: ChargingRequest, beta1_pm: int) -> int:
    """U [per-mille squared, 0..1_000_000] of one request under weights (beta1_pm, 1000 - beta1_pm)."""
    return beta1_pm * (PM - request.soc_pm) + (PM - beta1_pm) * urgency_pm(request.tcc)


def precedes(a: ChargingRequest, u_a: int, b: ChargingRequest, u_b: int) -> bool:
    """True when `a` comes strictly before `b` in the greedy order.

    Descending U / demand (by cross-multiplication); ties: higher U, then smaller arrival, then smaller id.
    This is the reference comparison; `priority_order` must agree with sorting by it.
    """
    lhs, rhs = u_a * b.demand_w, u_b * a.demand_w
    if lhs != rhs:
        return lhs > rhs
    if u_a != u_b:
        return u_a > u_b
    if a.arrival != b.arrival:
        return a.arrival < b.arrival
    return a.id < b.id


def _tie_key(r: ChargingRequest, u: int) -> tuple[int, int, str]:
    return (-u, r.arrival, r.id)


def priority_order(requests: Sequence[ChargingRequest], us: Sequence[int]) -> list[int]:
    """Indices of `requests` in greedy order (see `precedes`), in O(n log n).

    Sorting by the float u / demand is safe: int / int true division in Python is correctly rounded, hence
    monotone, so floats never invert two ratios; they can only merge distinct ones. Each run of equal floats
    whose exact ratios differ is re-sorted with exact fractions.
    """
    n = len(requests)
    ratio = [us[i] / requests[i].demand_w for i in range(n)]
    order = sorted(range(n), key=lambda i: (-ratio[i], *_tie_key(requests[i], us[i])))
    start = 0
    while start < n:
        end = start + 1
        while end < n and ratio[order[end]] == ratio[order[start]]:
            end += 1
        if end - start > 1:
            first = order[start]
            if any(
                us[i] * requests[first].demand_w != us[first] * requests[i].demand_w for i in order[start + 1 : end]
            ):
                order[start:end] = sorted(
                    order[start:end],
                    key=lambda i: (-Fraction(us[i], requests[i].demand_w), *_tie_key(requests[i], us[i])),
                )
        start = end
    return order


def arrival_order(requests: Sequence[ChargingRequest]) -> list[int]:
    """Indices in first-come-first-served order: smaller arrival first, then smaller id."""
    return sorted(range(len(requests)), key=lambda i: (requests[i].arrival, requests[i].id))
