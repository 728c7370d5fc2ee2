"""A slot's schedule, and the rules every policy shares: the greedy walk and the leftover grant.

Invariant (asserted in `compose`): the grants sum to at most the capacity, no grant exceeds its demand,
and `unused_w = capacity_w - sum(grants)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from gridchain.coordination.model.request import Slot


class Status(StrEnum):
    SCHEDULED = "scheduled"  # gets its whole demand this slot
    PARTIAL = "partial"  # gets the capacity left after the walk (less than its demand)
    DEFERRED = "deferred"  # gets nothing this slot


@dataclass(frozen=True, slots=True)
class Allocation:
    """What one request gets: granted_w [W], its status, its priority U and its rank in the policy's order."""

    id: str
    granted_w: int
    status: Status
    priority: int
    rank: int

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "granted_w": self.granted_w,
            "status": str(self.status),
            "priority": self.priority,
            "rank": self.rank,
        }


@dataclass(frozen=True, slots=True)
class Schedule:
    """A slot's result: one allocation per request, in the slot's input order, and the capacity left unused."""

    policy: str
    capacity_w: int
    allocations: tuple[Allocation, ...]
    unused_w: int

    @property
    def granted_w(self) -> int:
        return self.capacity_w - self.unused_w

    def to_dict(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "capacity_w": self.capacity_w,
            "allocations": [a.to_dict() for a in self.allocations],
            "granted_w": self.granted_w,
            "unused_w": self.unused_w,
        }


def greedy_walk(slot: Slot, order: Sequence[int], scheduled: list[bool] | None = None) -> list[bool]:
    """Walk `order` and schedule every request whose whole demand still fits; a misfit is skipped, not a stop.

    `scheduled` marks requests already chosen (their demand is taken first); it is extended in place.
    """
    reqs = slot.requests
    if scheduled is None:
        scheduled = [False] * len(reqs)
    remaining = slot.capacity_w - sum(reqs[i].demand_w for i in range(len(reqs)) if scheduled[i])
    for i in order:
        if not scheduled[i] and reqs[i].demand_w <= remaining:
            scheduled[i] = True
            remaining -= reqs[i].demand_w
    return scheduled


def prefix_walk(slot: Slot, order: Sequence[int]) -> list[bool]:
    """Walk `order` and schedule whole demands until the first that does not fit; nothing after it.

    The sorted algorithms of ACN-Sim (EDF, LLF) walk this way: a later request never overtakes an earlier
    one; with `compose(..., leftover_by_order=True)` the first misfit then takes what is left.
    """
    reqs = slot.requests
    scheduled = [False] * len(reqs)
    remaining = slot.capacity_w
    for i in order:
        if reqs[i].demand_w > remaining:
            break
        scheduled[i] = True
        remaining -= reqs[i].demand_w
    return scheduled


def compose(
    policy: str,
    slot: Slot,
    us: Sequence[int],
    order: Sequence[int],
    scheduled: Sequence[bool],
    leftover_by_order: bool = False,
) -> Schedule:
    """Grant the scheduled requests their demand, then the leftover, and build the Schedule.

    Leftover: if capacity remains and some request is unscheduled, the unscheduled request with the highest U
    (ties: earliest in `order`) gets all of it as a partial grant, or with `leftover_by_order` the earliest
    unscheduled one in `order`. Every other request is deferred.
    """
    reqs = slot.requests
    granted = [reqs[i].demand_w if scheduled[i] else 0 for i in range(len(reqs))]
    remaining = slot.capacity_w - sum(granted)
    assert remaining >= 0, "scheduled requests exceed the capacity"
    status = [Status.SCHEDULED if s else Status.DEFERRED for s in scheduled]
    if remaining > 0:
        best = -1
        for i in order:
            if not scheduled[i] and (best < 0 or us[i] > us[best]):
                best = i
                if leftover_by_order:
                    break
        if best >= 0:
            assert remaining < reqs[best].demand_w, "a request that fits was left unscheduled"
            granted[best], status[best], remaining = remaining, Status.PARTIAL, 0
    rank = [0] * len(reqs)
    for position, i in enumerate(order):
        rank[i] = position
    allocations = tuple(Allocation(r.id, granted[i], status[i], us[i], rank[i]) for i, r in enumerate(reqs))
    assert sum(granted) + remaining == slot.capacity_w
    assert all(0 <= granted[i] <= reqs[i].demand_w for i in range(len(reqs)))
    return Schedule(policy, slot.capacity_w, allocations, remaining)
