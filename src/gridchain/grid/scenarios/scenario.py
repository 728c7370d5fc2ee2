"""Grid-experiment scenarios: which households have an EV, and each EV's sessions, deterministic in a seed.

A simulated day runs from noon to noon, so an evening arrival and its night at home fall in one day; slots
last 15 minutes (SimBench's step). Each EV plugs in once a day at its household's bus, with a session
(arrival time of day, stay, energy) resampled from the synPRO home sessions of its vehicle type
(`ev_sessions`); its charger power is drawn with SimBench's home-charger shares. A stay is cut at the end of
its day, and the energy an EV asks for is what its charger could deliver in the stay at full power, at most
the session's energy and its battery: uncontrolled charging (full power from arrival) serves every EV fully,
so any shortfall under a coordinated policy is the price of keeping the transformer within its rating.

EVs beyond the number of households go to households that already have one (two or more EVs per household);
the first min(N, households) EVs are on distinct households, and the EVs of a smaller N are the first N of a
larger N for the same seed (nested scenarios, so a penetration sweep compares like with like).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.grid.model.network import STEPS_PER_DAY
from gridchain.grid.scenarios.sessions import BATTERY_WH, charger_powers, session_pool

SLOT_MINUTES = 15
SLOTS_PER_HOUR = 60 // SLOT_MINUTES
DAY_START_MINUTE = 12 * 60  # noon


@dataclass(frozen=True, slots=True)
class EvSession:
    """One EV's stay: slots arrival..departure-1 of the scenario, energy_wh it wants [Wh], its charger [W],
    battery [Wh] and household (index into the feeder's household loads)."""

    id: str
    ev: int
    household: int
    arrival: int
    departure: int
    energy_wh: int
    charger_w: int
    battery_wh: int

    @property
    def energy_ws(self) -> int:
        """The energy in W x slot (a grant of W for one 15-minute slot delivers W / 4 Wh)."""
        return self.energy_wh * SLOTS_PER_HOUR


@dataclass(frozen=True)
class GridScenario:
    evs: int
    days: int
    seed: int
    households: int
    sessions: tuple[EvSession, ...]

    @property
    def slots(self) -> int:
        return self.days * STEPS_PER_DAY

    def first(self, n: int) -> GridScenario:
        """The same scenario with only EVs 0..n-1 (what `build_scenario` gives for n EVs and the same seed)."""
        check_int("evs", n, 0, self.evs)
        return GridScenario(n, self.days, self.seed, self.households, tuple(s for s in self.sessions if s.ev < n))


def build_scenario(households: int, evs: int, days: int, seed: int) -> GridScenario:
    """`evs` EVs on a feeder with `households` household loads, for `days` noon-to-noon days."""
    check_int("households", households, 1, 10**6)
    check_int("evs", evs, 0, 10**6)
    check_int("days", days, 1, 365)
    check_int("seed", seed, 0, 2**32 - 1)
    pool = session_pool()
    vehicles = np.array(pool.vehicle)
    kinds = sorted(BATTERY_WH)
    share = np.array([np.sum(vehicles == k) for k in kinds], dtype=float)
    # one generator per EV, derived from (seed, ev): EV k's draws do not depend on how many EVs there are
    place = np.random.default_rng([seed, 0]).permutation(households)
    sessions = []
    for k in range(evs):
        rng = np.random.default_rng([seed, 1, k])
        kind = kinds[int(rng.choice(len(kinds), p=share / share.sum()))]
        charger = int(charger_powers(rng, 1)[0])
        candidates = np.flatnonzero(vehicles == kind)
        for day in range(days):
            s = int(rng.choice(candidates))
            offset = (int(pool.arrival_minute[s]) - DAY_START_MINUTE) % 1440
            arrival = day * STEPS_PER_DAY + offset // SLOT_MINUTES
            stay = max(1, -(-int(pool.stay_minutes[s]) // SLOT_MINUTES))
            departure = min(arrival + stay, (day + 1) * STEPS_PER_DAY)
            feasible = charger * (departure - arrival) // SLOTS_PER_HOUR
            energy = int(min(pool.energy_wh[s], feasible, BATTERY_WH[kind]))
            if energy > 0:
                sessions.append(
                    EvSession(
                        f"ev{k:03d}.d{day}",
                        k,
                        int(place[k % households]),
                        arrival,
                        departure,
                        energy,
                        charger,
                        BATTERY_WH[kind],
                    )
                )
    return GridScenario(evs, days, seed, households, tuple(sessions))


def penetration_evs(households: int, percent: int) -> int:
    """EVs for a penetration of `percent` EVs per 100 households (rounded, at least 1 above 0 %)."""
    if percent < 0:
        raise InputError("penetration", f"{percent} is below 0")
    return max(1 if percent else 0, round(households * percent / 100))
