"""A day of one community, for `gridchain demo`: households' base load, evening EV arrivals, home batteries.

Illustrative numbers, not measurements: a 250 kW community transformer (C) serving about 120 homes whose
hourly base load P_R has the usual residential shape (night trough, morning and evening peaks); EVs come
home between noon and 22:00 and must be charged by their departure the next morning; home batteries ask
to charge overnight. Slot t is hour t (0 = midnight of day 1); C - P_R repeats on day 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridchain.coordination.model.multislot import (
    EsuArrival,
    SimulationResult,
    simulate,
)
from gridchain.coordination.model.policies import POLICIES, get_policy
from gridchain.coordination.model.request import DEFAULT_BETA1_PM

TRANSFORMER_W = 250_000
BASE_LOAD_W = (  # P_R per hour of the day [W]
    95_000,
    85_000,
    80_000,
    78_000,
    80_000,
    95_000,
    130_000,
    160_000,
    150_000,
    130_000,
    120_000,
    120_000,
    125_000,
    120_000,
    115_000,
    120_000,
    140_000,
    185_000,
    215_000,
    225_000,
    210_000,
    180_000,
    150_000,
    115_000,
)
EV_BATTERIES_WH = (40_000, 58_000, 77_000, 100_000)
HOME_BATTERY_WH = 13_500


@dataclass(frozen=True)
class CommunityDay:
    seed: int
    arrivals: list[list[EsuArrival]]
    capacities: list[int]  # C - P_R per slot [W], two days

    @property
    def esus(self) -> int:
        return sum(len(batch) for batch in self.arrivals)


def build(seed: int = 0, evs: int = 50, home_batteries: int = 15) -> CommunityDay:
    """The scenario; deterministic in its arguments."""
    rng = np.random.default_rng([seed, evs, home_batteries])
    arrivals: list[list[EsuArrival]] = [[] for _ in range(24)]
    for k in range(evs):
        hour = int(np.clip(round(rng.normal(18, 2)), 12, 22))
        departure = 24 + int(np.clip(round(rng.normal(7.5, 1)), 5, 10))
        battery = int(rng.choice(EV_BATTERIES_WH))
        soc_pm = int(rng.integers(100, 600))
        energy = battery * soc_pm // 1000
        arrivals[hour].append(EsuArrival(f"ev{k:02d}", battery, energy, battery - energy, departure - hour))
    for k in range(home_batteries):
        hour = int(rng.integers(20, 24))
        soc_pm = int(rng.integers(50, 400))
        energy = HOME_BATTERY_WH * soc_pm // 1000
        arrivals[hour].append(EsuArrival(f"hb{k:02d}", HOME_BATTERY_WH, energy, HOME_BATTERY_WH - energy, 30 - hour))
    capacities = [TRANSFORMER_W - p for p in BASE_LOAD_W] * 2
    return CommunityDay(seed, arrivals, capacities)


def run(day: CommunityDay, policy: str, beta1_pm: int = DEFAULT_BETA1_PM) -> SimulationResult:
    return simulate(day.arrivals, day.capacities, get_policy(policy), beta1_pm, keep_schedules=True)


def compare_policies(day: CommunityDay) -> dict[str, dict[str, float]]:
    """The day through the multi-slot model under each policy (there, SoC rises with each grant)."""
    out = {}
    for name in POLICIES:
        r = run(day, name)
        out[name] = {
            "charging_index": round(r.charging_index, 4),
            "energy_delivered": round(r.energy_delivered, 4),
            "fully_served": round(r.fully_served, 4),
        }
    return out
