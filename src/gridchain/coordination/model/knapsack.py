"""Exact 0/1 knapsack by the sparse (Pareto-frontier) dynamic programme, in integers.

The frontier holds, after each item, the states (total weight, total value) that no other state dominates
(lighter or equal weight and at least the value). Its size is bounded by both the capacity + 1 and the number
of distinct reachable values, and stays small on the coordination instances (tens of ms at n = 250 with a
capacity of 10^6 W, see benchmarks/), where the dense table over the capacity would be 10^6 x n.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def max_value_subset(weights: Sequence[int], values: Sequence[int], capacity: int) -> list[int]:
    """Indices (ascending) of a subset with maximum total value and total weight <= capacity.

    weights > 0, values >= 0, capacity >= 0, all ints. Among subsets of maximum value, the one returned has
    the smallest total weight; remaining ties go, item by item from the last, to not taking the item.
    """
    n = len(weights)
    if n == 0:
        return []
    # int64 holds every sum below: items heavier than the capacity are skipped, so weights stay <= 2 * capacity;
    # values stay <= n * max(values).
    dtype = np.int64 if capacity < 2**62 and n * max(values) < 2**62 else object
    w_state = np.zeros(1, dtype=dtype)
    v_state = np.zeros(1, dtype=dtype)
    history: list[tuple[np.ndarray, np.ndarray]] = []
    for w_item, v_item in zip(weights, values):
        if w_item > capacity:  # never fits; skipping it also keeps int64 sums in range
            history.append((np.zeros(len(w_state), bool), np.arange(len(w_state))))
            continue
        fits = w_state + w_item <= capacity
        new_w = w_state[fits] + w_item
        new_v = v_state[fits] + v_item
        all_w = np.concatenate([w_state, new_w])
        all_v = np.concatenate([v_state, new_v])
        taken = np.concatenate([np.zeros(len(w_state), bool), np.ones(len(new_w), bool)])
        parent = np.concatenate([np.arange(len(w_state)), np.flatnonzero(fits)])
        # weight ascending, then value descending, then "not taken" first; keep strictly rising values
        by = np.lexsort((taken, -all_v, all_w))
        all_w, all_v, taken, parent = all_w[by], all_v[by], taken[by], parent[by]
        best_before = np.maximum.accumulate(np.concatenate([all_v[:1] * 0 - 1, all_v[:-1]]))
        keep = all_v > best_before
        w_state, v_state = all_w[keep], all_v[keep]
        history.append((taken[keep], parent[keep]))
    state = len(w_state) - 1  # the highest value; the lightest among equals
    chosen = []
    for item in range(n - 1, -1, -1):
        taken, parent = history[item]
        if taken[state]:
            chosen.append(item)
        state = int(parent[state])
    return chosen[::-1]
