"""The multi-slot model of the paper's evaluation (Section VI-A): ESUs arrive, ask every slot until served.

Each slot, every pending ESU requests its remaining demand (at most its charger's `max_w` when it has one)
with its current SoC and TCC; the policy schedules
them against that slot's capacity; a grant charges the battery (SoC rises by granted energy / battery
capacity, the remaining demand falls). At the end of the slot every pending ESU's TCC falls by 1, and an ESU
leaves when its demand is met or its TCC reaches 0. Slots last 1 h, so a grant of W is Wh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gridchain.checks import check_id, check_int
from gridchain.coordination.model.policies import SchedulingPolicy
from gridchain.coordination.model.request import (
    DEFAULT_BETA1_PM,
    PM,
    POWER_MAX_W,
    SOC_PM_MAX,
    ChargingRequest,
    Slot,
)
from gridchain.coordination.model.schedule import Schedule
from gridchain.errors import InputError

ENERGY_MAX_WH = 2**64 - 1


@dataclass(frozen=True, slots=True)
class EsuArrival:
    """An ESU joining the community: battery_wh [Wh], energy_wh stored on arrival [Wh], required_wh it wants
    [Wh] (at most battery_wh - energy_wh, so its SoC stays below 1 while it asks), tcc [slots]; max_w: what
    its charger takes in one slot [W], None for no limit (the paper's model: it asks for all it needs)."""

    id: str
    battery_wh: int
    energy_wh: int
    required_wh: int
    tcc: int
    max_w: int | None = None

    def __post_init__(self) -> None:
        check_id("id", self.id)
        check_int("battery_wh", self.battery_wh, 1, ENERGY_MAX_WH)
        check_int("energy_wh", self.energy_wh, 0, self.battery_wh - 1)
        check_int("required_wh", self.required_wh, 1, self.battery_wh - self.energy_wh)
        check_int("tcc", self.tcc, 1, 2**32 - 1)
        if self.max_w is not None:
            check_int("max_w", self.max_w, 1, POWER_MAX_W)


@dataclass(frozen=True, slots=True)
class EsuOutcome:
    """What an ESU got by the time it left: required_wh and received_wh [Wh], arrival and departure slots."""

    id: str
    arrival_slot: int
    departure_slot: int
    required_wh: int
    received_wh: int

    @property
    def charging_index(self) -> float:
        """The paper's metric: energy received / energy required, in [0, 1]."""
        return self.received_wh / self.required_wh

    @property
    def fully_served(self) -> bool:
        return self.received_wh == self.required_wh


@dataclass(slots=True)
class _Pending:
    spec: EsuArrival
    arrival_slot: int
    seq: int
    tcc_left: int
    received_wh: int = 0

    @property
    def remaining_wh(self) -> int:
        return self.spec.required_wh - self.received_wh

    @property
    def soc_pm(self) -> int:
        return min(SOC_PM_MAX, (self.spec.energy_wh + self.received_wh) * PM // self.spec.battery_wh)

    def request(self) -> ChargingRequest:
        remaining = self.remaining_wh
        demand = remaining if self.spec.max_w is None else min(self.spec.max_w, remaining)
        return ChargingRequest(self.spec.id, demand, self.soc_pm, self.tcc_left, self.seq, remaining_w=remaining)


@dataclass(frozen=True)
class SimulationResult:
    policy: str
    outcomes: tuple[EsuOutcome, ...]
    schedules: tuple[Schedule, ...] = field(default=())
    """One per slot when the simulation was asked to keep them, else empty."""

    @property
    def charging_index(self) -> float:
        """Mean over ESUs of received / required (the paper's Fig. 2 metric); 1.0 when no ESU came."""
        if not self.outcomes:
            return 1.0
        return sum(o.charging_index for o in self.outcomes) / len(self.outcomes)

    @property
    def energy_delivered(self) -> float:
        """Share of all required energy that was delivered (ACN-Sim's 'proportion of energy delivered')."""
        required = sum(o.required_wh for o in self.outcomes)
        return sum(o.received_wh for o in self.outcomes) / required if required else 1.0

    @property
    def fully_served(self) -> float:
        """Share of ESUs that left with their whole demand met."""
        if not self.outcomes:
            return 1.0
        return sum(o.fully_served for o in self.outcomes) / len(self.outcomes)


def capacity_at(capacities: Sequence[int], slot: int) -> int:
    """Capacity [W] of `slot`: a slot past the end of the list uses the last one (as the coordinator does)."""
    return capacities[min(slot, len(capacities) - 1)]


def simulate(
    arrivals: Sequence[Sequence[EsuArrival]],
    capacities: Sequence[int],
    policy: SchedulingPolicy,
    beta1_pm: int = DEFAULT_BETA1_PM,
    keep_schedules: bool = False,
    on_slot: Callable[[int, Schedule], None] | None = None,
) -> SimulationResult:
    """Run slots 0, 1, ... until every arrival has come and every ESU has left.

    arrivals[t]: the ESUs that join at slot t; capacities[t]: C - P_R of slot t [W] (see `capacity_at`).
    """
    if not capacities:
        raise InputError("capacities", "at least one slot capacity is needed")
    for t, c in enumerate(capacities):
        check_int(f"capacities[{t}]", c, 0, 2**64 - 1)
    ids = [e.id for batch in arrivals for e in batch]
    if len(set(ids)) != len(ids):
        raise InputError("arrivals", "ESU ids must be unique")
    pending: list[_Pending] = []
    outcomes: list[EsuOutcome] = []
    schedules: list[Schedule] = []
    seq = 0
    slot = 0
    while slot < len(arrivals) or pending:
        for spec in arrivals[slot] if slot < len(arrivals) else ():
            pending.append(_Pending(spec, slot, seq, spec.tcc))
            seq += 1
        capacity = capacity_at(capacities, slot)
        schedule = policy.schedule(Slot(capacity, tuple(p.request() for p in pending), beta1_pm))
        still: list[_Pending] = []
        for p, allocation in zip(pending, schedule.allocations):
            p.received_wh += allocation.granted_w
            p.tcc_left -= 1
            if p.remaining_wh == 0 or p.tcc_left == 0:
                outcomes.append(EsuOutcome(p.spec.id, p.arrival_slot, slot, p.spec.required_wh, p.received_wh))
            else:
                still.append(p)
        pending = still
        if keep_schedules:
            schedules.append(schedule)
        if on_slot is not None:
            on_slot(slot, schedule)
        slot += 1
    return SimulationResult(policy.name, tuple(outcomes), tuple(schedules))
