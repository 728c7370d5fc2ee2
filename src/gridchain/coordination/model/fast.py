"""The greedy and FCFS policies on a `SlotTable` with numpy: the same orders, walk and leftover, exactly.

Order: numpy sorts by a float key (u / demand as float64, then the tie keys), then every adjacent pair is
checked with the exact comparison of `priority.precedes` (u_a * d_b against u_b * d_a in 128 bits, as two
uint64 words; ids compared in Python where everything else ties). A sequence whose every adjacent pair is in
order under a strict total order is sorted, so a clean check proves the order exact. A float key can misorder
only ratios within a few ulps of each other: each run of near-equal keys around a failed pair is re-sorted
with exact fractions, and checked again; should anything remain, the reference sort decides.

Walk: cumulative sums schedule the prefix that fits; the first misfit is skipped and every later request too
big for what remains is dropped (what remains only shrinks); the prefix of the rest fits, and so on. After
64 rounds the rest is walked in Python. When the demands could overflow int64 (max demand x n >= 2**63) the
reference walk in Python ints decides.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from gridchain.coordination.model.priority import priority_order as reference_priority_order
from gridchain.coordination.model.priority import urgency_pm
from gridchain.coordination.model.request import PM, ChargingRequest
from gridchain.coordination.model.table import ScheduleTable, SlotTable

INT64_MAX = 2**63 - 1
WALK_ROUNDS = 64
NEAR = 1e-9
"""Relative gap under which two float keys may misorder their exact ratios (the float error is ~2**-52)."""


def priorities(table: SlotTable) -> np.ndarray:
    """U of every request (int64), as `priority.priority`."""
    b = table.beta1_pm
    weighted_urgency = np.array([(PM - b) * urgency_pm(k) for k in (1, 2, 3)], dtype=np.int64)
    return weighted_urgency[np.minimum(table.tcc, 3) - 1] + b * (PM - table.soc_pm)


def _times(u: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u * d (u < 2**20, d < 2**64) as (high, low) words with low < 2**32, both uint64."""
    u = u.astype(np.uint64)
    p = u * (d >> np.uint64(32))
    q = u * (d & np.uint64(0xFFFFFFFF))
    return p + (q >> np.uint64(32)), q & np.uint64(0xFFFFFFFF)


def _ratio_cmp(u: np.ndarray, d: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sign of u[a] / d[a] - u[b] / d[b] per pair (int8), by u[a] * d[b] against u[b] * d[a]."""
    lh, ll = _times(u[a], d[b])
    rh, rl = _times(u[b], d[a])
    return np.where(lh != rh, np.where(lh > rh, 1, -1), np.where(ll > rl, 1, np.where(ll < rl, -1, 0))).astype(np.int8)


def _greedy_in_order(table: SlotTable, u: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Positions k where order[k] does not strictly precede order[k + 1] under `precedes`."""
    a, b = order[:-1], order[1:]
    cmp = _ratio_cmp(u, table.demand_w, a, b)
    ua, ub = u[a], u[b]
    ra, rb = table.arrival[a], table.arrival[b]
    tied = (cmp == 0) & (ua == ub) & (ra == rb)
    ok = (cmp > 0) | ((cmp == 0) & ((ua > ub) | ((ua == ub) & (ra < rb))))
    for k in np.flatnonzero(tied).tolist():
        ok[k] = table.ids[order[k]] < table.ids[order[k + 1]]
    return np.flatnonzero(~ok)


def greedy_order(table: SlotTable, u: np.ndarray) -> np.ndarray:
    """Indices in the greedy order of `priority.priority_order` (descending U / demand; ties: higher U,
    earlier arrival, smaller id), exactly."""
    d = table.demand_w
    if len(d) < 2:
        return np.arange(len(d))
    key = u.astype(np.float64) / d.astype(np.float64)
    order = np.lexsort((table.arrival, -u, -key))
    bad = _greedy_in_order(table, u, order)
    if len(bad):
        keys = key[order]
        near = np.abs(keys[1:] - keys[:-1]) <= NEAR * np.maximum(keys[1:], keys[:-1])
        starts = np.flatnonzero(np.concatenate(([True], ~near)))  # first position of each run of near keys
        ids, us, ds, arrivals = table.ids, u.tolist(), d.tolist(), table.arrival.tolist()
        for run in np.unique(np.searchsorted(starts, bad, side="right") - 1).tolist():
            s = int(starts[run])
            e = int(starts[run + 1]) if run + 1 < len(starts) else len(order)
            order[s:e] = sorted(
                order[s:e].tolist(), key=lambda i: (-Fraction(us[i], ds[i]), -us[i], arrivals[i], ids[i])
            )
        if len(_greedy_in_order(table, u, order)):  # pragma: no cover - the proof above says it cannot happen
            return np.array(reference_priority_order(_requests(table), u.tolist()), dtype=np.int64)
    return order


def arrival_order(table: SlotTable) -> np.ndarray:
    """Indices in FCFS order (smaller arrival, then smaller id), exactly."""
    order = np.argsort(table.arrival, kind="stable")
    arrivals = table.arrival[order]
    tied = np.flatnonzero(arrivals[1:] == arrivals[:-1])
    if len(tied):
        starts = np.flatnonzero(np.concatenate(([True], arrivals[1:] != arrivals[:-1])))
        ends = np.append(starts[1:], len(order))
        ids = table.ids
        for run in np.unique(np.searchsorted(starts, tied, side="right") - 1).tolist():
            s, e = int(starts[run]), int(ends[run])
            order[s:e] = sorted(order[s:e].tolist(), key=ids.__getitem__)
    return order


def _requests(table: SlotTable) -> list[ChargingRequest]:
    return list(table.to_slot().requests)


def greedy_walk(demand: np.ndarray, order: np.ndarray, capacity_w: int) -> np.ndarray | None:
    """Scheduled flags by position in `order` (skip-and-continue), or None when int64 could overflow."""
    n = len(order)
    scheduled = np.zeros(n, dtype=bool)
    if n == 0:
        return scheduled
    if int(demand.max()) * n > INT64_MAX:
        return None
    d = demand[order].astype(np.int64)
    remaining = min(capacity_w, INT64_MAX)  # the demands sum below 2**63: a larger capacity takes them all
    candidates = np.arange(n)
    for _ in range(WALK_ROUNDS):
        sums = np.cumsum(d[candidates])
        fit = int(np.searchsorted(sums, remaining, side="right"))
        scheduled[candidates[:fit]] = True
        if fit:
            remaining -= int(sums[fit - 1])
        candidates = candidates[fit + 1 :]
        candidates = candidates[d[candidates] <= remaining]
        if len(candidates) == 0:
            return scheduled
    for k, dk in zip(candidates.tolist(), d[candidates].tolist()):
        if dk <= remaining:
            scheduled[k] = True
            remaining -= dk
    return scheduled


def schedule(policy: str, table: SlotTable) -> ScheduleTable:
    """The `greedy` or `fcfs` schedule of `table`, equal field by field to the reference policy's."""
    n = len(table)
    u = priorities(table)
    order = greedy_order(table, u) if policy == "greedy" else arrival_order(table)
    d = table.demand_w
    on_order = greedy_walk(d, order, table.capacity_w)
    exact_sum = on_order is not None  # the walk ran in int64: every sum of demands fits
    if on_order is None:  # demands near 2**64: the walk in Python ints
        ds, remaining, on_order = d.tolist(), table.capacity_w, np.zeros(n, dtype=bool)
        for k, i in enumerate(order.tolist()):
            if ds[i] <= remaining:
                on_order[k] = True
                remaining -= ds[i]
    scheduled = np.zeros(n, dtype=bool)
    scheduled[order] = on_order
    granted = np.where(scheduled, d, np.uint64(0))
    used = int(d[scheduled].sum()) if exact_sum else sum(d[scheduled].tolist())
    remaining = table.capacity_w - used
    assert remaining >= 0, "scheduled requests exceed the capacity"
    status = np.where(scheduled, 0, 2).astype(np.int8)
    if remaining > 0 and not on_order.all():
        best = int(order[int(np.argmax(np.where(on_order, -1, u[order])))])  # highest U, earliest in order
        assert remaining < int(d[best]), "a request that fits was left unscheduled"
        granted[best], status[best], remaining = remaining, 1, 0
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return ScheduleTable(policy, table.capacity_w, table.ids, granted, status, u, rank, remaining)
