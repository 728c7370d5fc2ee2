"""A slot and its schedule as columns (one numpy array per field), for large slots.

`SlotTable` holds what a `Slot` holds, one array per field instead of one object per request; it accepts exactly
the values a `Slot` accepts (a bad value is reported by building the `Slot`, so the error is the same one).
`ScheduleTable` is a `Schedule` as columns: `to_schedule()` gives the `Schedule`, `to_dict()` its dict and
`to_json()` the text `json.dumps(to_dict())` gives, without building a dict per request.
"""

from __future__ import annotations

import array
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from gridchain.checks import ID_MAX_LEN
from gridchain.coordination.model.request import (
    ARRIVAL_MAX,
    DEFAULT_BETA1_PM,
    ENERGY_MAX,
    PM,
    POWER_MAX_W,
    SOC_PM_MAX,
    TCC_MAX,
    ChargingRequest,
    Slot,
)
from gridchain.coordination.model.schedule import Allocation, Schedule, Status
from gridchain.errors import InputError

STATUSES = (Status.SCHEDULED, Status.PARTIAL, Status.DEFERRED)
"""Status codes of `ScheduleTable.status`: 0 scheduled, 1 partial, 2 deferred."""


def _column(values: list[object], lo: int, hi: int, code: str) -> np.ndarray | None:
    """The values as a numpy array of array-module type `code` ("q" int64, "Q" uint64), or None unless every value
    is an int (not a bool) in lo..hi. C-level loops only: `type`, `array.array`, numpy's min and max."""
    if not values:
        return np.zeros(0, dtype=np.int64 if code == "q" else np.uint64)
    if set(map(type, values)) != {int}:
        return None
    try:
        column = np.frombuffer(array.array(code, values), dtype=np.int64 if code == "q" else np.uint64)
    except OverflowError:
        return None
    return column if lo <= int(column.min()) and int(column.max()) <= hi else None


def _within(values: Iterable[int], lo: int, hi: int) -> bool:
    column = np.frombuffer(array.array("q", values), dtype=np.int64)
    return lo <= int(column.min()) and int(column.max()) <= hi


class SlotTable:
    """The requests of one slot as columns: ids (list of str), demand_w, soc_pm, tcc, arrival (numpy arrays)."""

    __slots__ = ("capacity_w", "beta1_pm", "ids", "demand_w", "soc_pm", "tcc", "arrival", "remaining_w")

    def __init__(
        self,
        capacity_w: int,
        ids: Sequence[str],
        demand_w: Sequence[int],
        soc_pm: Sequence[int],
        tcc: Sequence[int],
        arrival: Sequence[int] | None = None,
        remaining_w: Sequence[int | None] | None = None,
        beta1_pm: int = DEFAULT_BETA1_PM,
    ) -> None:
        """Columns of equal length; `arrival` defaults to the index, `remaining_w` (None or per request) to the
        demand. Raises the InputError `Slot` would raise for the same values (`requests[i].field`)."""
        ids = list(ids)
        n = len(ids)
        arrival = list(range(n)) if arrival is None else list(arrival)
        columns = (list(demand_w), list(soc_pm), list(tcc), arrival)
        if remaining_w is not None:
            remaining_w = list(remaining_w)
            if all(r is None for r in remaining_w):
                remaining_w = None
        if any(len(c) != n for c in columns) or (remaining_w is not None and len(remaining_w) != n):
            raise ValueError("SlotTable: columns of different lengths")
        demand, soc, tccs, arrival = columns
        checked = (
            _column(demand, 1, POWER_MAX_W, "Q"),
            _column(soc, 0, SOC_PM_MAX, "q"),
            _column(tccs, 1, TCC_MAX, "q"),
            _column(arrival, 0, ARRIVAL_MAX, "Q"),
        )
        valid = (
            type(capacity_w) is int
            and 0 <= capacity_w <= POWER_MAX_W
            and type(beta1_pm) is int
            and 0 <= beta1_pm <= PM
            and (not ids or (set(map(type, ids)) == {str} and _within(map(len, ids), 1, ID_MAX_LEN)))
            and len(set(ids)) == n
            and all(c is not None for c in checked)
            and (
                remaining_w is None
                or all(r is None or (type(r) is int and d <= r <= ENERGY_MAX) for r, d in zip(remaining_w, demand))
            )
        )
        if not valid:
            _slot(capacity_w, beta1_pm, ids, demand, soc, tccs, arrival, remaining_w)  # raises the Slot's error
            raise AssertionError("SlotTable refused what Slot accepts")  # pragma: no cover
        self.capacity_w = capacity_w
        self.beta1_pm = beta1_pm
        self.ids = ids
        self.demand_w, self.soc_pm, self.tcc, self.arrival = checked
        self.remaining_w = remaining_w

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of(cls, slot: Slot) -> SlotTable:
        reqs = slot.requests
        remaining = [None if r.remaining_w == r.demand_w else r.remaining_w for r in reqs]
        return cls(
            slot.capacity_w,
            [r.id for r in reqs],
            [r.demand_w for r in reqs],
            [r.soc_pm for r in reqs],
            [r.tcc for r in reqs],
            [r.arrival for r in reqs],
            remaining,
            slot.beta1_pm,
        )

    def to_slot(self) -> Slot:
        return _slot(
            self.capacity_w,
            self.beta1_pm,
            self.ids,
            self.demand_w.tolist(),
            self.soc_pm.tolist(),
            self.tcc.tolist(),
            self.arrival.tolist(),
            self.remaining_w,
        )


def _slot(capacity_w, beta1_pm, ids, demand, soc, tcc, arrival, remaining) -> Slot:  # noqa: ANN001
    requests = []
    for i in range(len(ids)):
        try:
            requests.append(
                ChargingRequest(
                    ids[i], demand[i], soc[i], tcc[i], arrival[i], None if remaining is None else remaining[i]
                )
            )
        except InputError as e:
            raise e.within(f"requests[{i}]") from None
    return Slot(capacity_w, tuple(requests), beta1_pm)


@dataclass(frozen=True, slots=True, eq=False)
class ScheduleTable:
    """A `Schedule` as columns, in the slot's input order: granted_w (uint64), status (codes of STATUSES),
    priority and rank (int64)."""

    policy: str
    capacity_w: int
    ids: list[str]
    granted: np.ndarray
    status: np.ndarray
    priority: np.ndarray
    rank: np.ndarray
    unused_w: int

    @property
    def granted_w(self) -> int:
        return self.capacity_w - self.unused_w

    def to_schedule(self) -> Schedule:
        allocations = tuple(
            Allocation(i, g, STATUSES[s], u, k)
            for i, g, s, u, k in zip(
                self.ids, self.granted.tolist(), self.status.tolist(), self.priority.tolist(), self.rank.tolist()
            )
        )
        return Schedule(self.policy, self.capacity_w, allocations, self.unused_w)

    def to_dict(self) -> dict[str, object]:
        return self.to_schedule().to_dict()

    def to_json(self) -> str:
        """Exactly `json.dumps(self.to_dict())`, formatted in one `%` over all allocations instead of a dict each."""
        row = '{"id": %s, "granted_w": %d, "status": %s, "priority": %d, "rank": %d}'
        names = ('"scheduled"', '"partial"', '"deferred"')
        values = zip(
            map(json.encoder.encode_basestring_ascii, self.ids),
            self.granted.tolist(),
            map(names.__getitem__, self.status.tolist()),
            self.priority.tolist(),
            self.rank.tolist(),
        )
        rows = ", ".join([row] * len(self.ids)) % tuple(chain.from_iterable(values))
        return (
            f'{{"policy": {json.dumps(self.policy)}, "capacity_w": {self.capacity_w}, "allocations": [{rows}], '
            f'"granted_w": {self.granted_w}, "unused_w": {self.unused_w}}}'
        )
