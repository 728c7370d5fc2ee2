"""Charging requests and slots: the plain data that scheduling policies see.

Units are in the names: power and energy in W (a slot lasts 1 h, so W in a slot is Wh), state of charge in
per-mille (`soc_pm` 0..999 stands for SoC in [0, 1)), time to complete charging `tcc` in slots, weights in
per-mille. The bounds below are the ones the on-chain coordinator enforces too, so a value the model accepts
is a value the contract accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridchain.checks import check_id, check_int, show
from gridchain.errors import InputError

SOC_PM_MAX = 999
"""Largest state of charge [per-mille]; SoC = 1 (full) never asks to charge."""
PM = 1000
"""One in per-mille."""
DEFAULT_BETA1_PM = 500
"""Default weight of (1 - SoC) in the priority; the weight of F(TCC) is 1000 - beta1_pm."""
POWER_MAX_W = 2**64 - 1
"""Largest demand or capacity [W] (the contract stores them as uint64)."""
TCC_MAX = 2**32 - 1
"""Largest time to complete charging [slots] (uint32 on chain)."""
ARRIVAL_MAX = 2**64 - 1
ENERGY_MAX = 2**128 - 1
"""Largest remaining energy of a request [W x slot] (off chain only)."""


@dataclass(frozen=True, slots=True)
class ChargingRequest:
    """One ESU's request for one slot.

    id: the request's name (a pseudonym on chain); demand_w: energy wanted this slot [W];
    soc_pm: state of charge [per-mille, 0..999]; tcc: time to complete charging [slots, >= 1];
    arrival: order of arrival (smaller came first), used by FCFS and to break ties;
    remaining_w: energy still wanted over the whole stay [W x slot], >= demand_w. It defaults to demand_w,
    the paper's model, where a request asks for all it still needs; when a charger caps what one slot can
    take (the grid experiment), demand_w = min(charger power, remaining_w). Only least-laxity-first reads
    it; it is not part of the on-chain request.
    """

    id: str
    demand_w: int
    soc_pm: int
    tcc: int
    arrival: int
    remaining_w: int | None = None

    def __post_init__(self) -> None:
        check_id("id", self.id)
        check_int("demand_w", self.demand_w, 1, POWER_MAX_W)
        check_int("soc_pm", self.soc_pm, 0, SOC_PM_MAX)
        check_int("tcc", self.tcc, 1, TCC_MAX)
        check_int("arrival", self.arrival, 0, ARRIVAL_MAX)
        if self.remaining_w is None:
            object.__setattr__(self, "remaining_w", self.demand_w)
        else:
            check_int("remaining_w", self.remaining_w, self.demand_w, ENERGY_MAX)

    @property
    def slots_needed(self) -> int:
        """Slots it needs at its demand rate to get remaining_w (ceil(remaining_w / demand_w))."""
        return -(-self.remaining_w // self.demand_w)

    @property
    def laxity(self) -> int:
        """Slots it can still afford to wait: tcc - slots_needed (negative: it cannot be fully served)."""
        return self.tcc - self.slots_needed


@dataclass(frozen=True, slots=True)
class Slot:
    """The requests of one community in one slot, and the capacity C - P_R [W] they share."""

    capacity_w: int
    requests: tuple[ChargingRequest, ...]
    beta1_pm: int = DEFAULT_BETA1_PM

    def __post_init__(self) -> None:
        check_int("capacity_w", self.capacity_w, 0, POWER_MAX_W)
        check_int("beta1_pm", self.beta1_pm, 0, PM)
        object.__setattr__(self, "requests", tuple(self.requests))
        seen: dict[str, int] = {}
        for i, r in enumerate(self.requests):
            if not isinstance(r, ChargingRequest):
                raise InputError(f"requests[{i}]", f"{r!r} is not a ChargingRequest")
            if r.id in seen:
                raise InputError(f"requests[{i}].id", f"{show(r.id)} is already the id of requests[{seen[r.id]}]")
            seen[r.id] = i
