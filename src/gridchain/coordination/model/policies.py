"""Scheduling policies behind one interface, after ACN-Sim's algorithms: each sees a `Slot` and returns a
`Schedule`; none keeps state between slots.

- greedy: the paper's (Section IV): order by U / demand, greedy walk, leftover grant.
- fcfs: the paper's baseline: order by arrival only, the same walk and leftover.
- optimal: the exact knapsack optimum of Eq. 2 (max sum of U over fully scheduled requests), then the
  same leftover; for comparison.
- edf, llf: earliest deadline first (smallest TCC) and least laxity first (smallest TCC minus the slots the
  remaining energy needs at the request's rate), ACN-Sim's best simple sorted policies: whole demands in
  that order until one does not fit, which takes what is left; nothing overtakes it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from gridchain.coordination.model import fast
from gridchain.coordination.model.knapsack import max_value_subset
from gridchain.coordination.model.priority import (
    arrival_order,
    priority,
    priority_order,
)
from gridchain.coordination.model.request import ChargingRequest, Slot
from gridchain.coordination.model.schedule import (
    Schedule,
    compose,
    greedy_walk,
    prefix_walk,
)
from gridchain.coordination.model.table import ScheduleTable, SlotTable
from gridchain.errors import InputError


class SchedulingPolicy(ABC):
    name: ClassVar[str]

    @abstractmethod
    def schedule(self, slot: Slot) -> Schedule:
        """Allocate `slot.capacity_w` [W] among `slot.requests`."""


class _OrderedGreedy(SchedulingPolicy):
    """Greedy and FCFS: a `SlotTable` (columns) is scheduled by `fast`, exactly as the reference below
    schedules the equal `Slot` (the differential tests hold it), and gives a `ScheduleTable`."""

    @abstractmethod
    def order(self, slot: Slot, us: list[int]) -> list[int]:
        """Indices of the slot's requests in the order the walk visits them."""

    def schedule(self, slot: Slot | SlotTable) -> Schedule | ScheduleTable:  # type: ignore[override]
        if isinstance(slot, SlotTable):
            return fast.schedule(self.name, slot)
        return self.reference(slot)

    def reference(self, slot: Slot) -> Schedule:
        """The reference: one object per request, Python ints throughout."""
        us = [priority(r, slot.beta1_pm) for r in slot.requests]
        order = self.order(slot, us)
        return compose(self.name, slot, us, order, greedy_walk(slot, order))


class Greedy(_OrderedGreedy):
    name = "greedy"

    def order(self, slot: Slot, us: list[int]) -> list[int]:
        return priority_order(slot.requests, us)


class Fcfs(_OrderedGreedy):
    name = "fcfs"

    def order(self, slot: Slot, us: list[int]) -> list[int]:
        return arrival_order(slot.requests)


class Optimal(SchedulingPolicy):
    """Max sum of U over fully scheduled requests subject to the capacity (ties: least total demand).

    Requests of U = 0 (possible only with beta1_pm = 0 and tcc >= 3) add nothing to the objective; any of
    them that still fit are then scheduled by the greedy walk, so capacity is never left idle beside a
    request that fits, and the leftover rule applies as in the other policies.
    """

    name = "optimal"

    def schedule(self, slot: Slot) -> Schedule:
        reqs = slot.requests
        us = [priority(r, slot.beta1_pm) for r in reqs]
        order = priority_order(reqs, us)
        scheduled = [False] * len(reqs)
        if sum(r.demand_w for r in reqs) > slot.capacity_w:
            chosen = max_value_subset([reqs[i].demand_w for i in order], [us[i] for i in order], slot.capacity_w)
            for k in chosen:
                scheduled[order[k]] = True
        return compose(self.name, slot, us, order, greedy_walk(slot, order, scheduled))


class _Sorted(SchedulingPolicy):
    """ACN-Sim's sorted algorithms: a key orders the requests, the prefix walk and leftover follow it."""

    @staticmethod
    @abstractmethod
    def key(request: ChargingRequest) -> tuple[int, ...]:
        """Smaller first; ties are broken by arrival, then id."""

    def schedule(self, slot: Slot) -> Schedule:
        reqs = slot.requests
        us = [priority(r, slot.beta1_pm) for r in reqs]
        order = sorted(range(len(reqs)), key=lambda i: (*self.key(reqs[i]), reqs[i].arrival, reqs[i].id))
        return compose(self.name, slot, us, order, prefix_walk(slot, order), leftover_by_order=True)


class Edf(_Sorted):
    name = "edf"

    @staticmethod
    def key(request: ChargingRequest) -> tuple[int, ...]:
        return (request.tcc,)


class Llf(_Sorted):
    name = "llf"

    @staticmethod
    def key(request: ChargingRequest) -> tuple[int, ...]:
        return (request.laxity, request.tcc)


POLICIES: dict[str, SchedulingPolicy] = {p.name: p for p in (Greedy(), Fcfs(), Optimal(), Edf(), Llf())}


def get_policy(name: str) -> SchedulingPolicy:
    try:
        return POLICIES[name]
    except KeyError:
        raise InputError("policy", f"{name!r} is not one of {', '.join(POLICIES)}") from None
