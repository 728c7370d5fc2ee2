"""Grid impact of EV charging on a SimBench LV feeder: every policy on the same scenario, a power flow per
slot, and a sweep over EV penetration (`gridchain experiment grid`).

The day (noon to noon) defaults to the feeder's day of highest base load in 2016, the case a planner checks.
The sweep re-runs the scheduling (not the power flows) for nested scenarios of 10..250 EVs per 100
households, and the uncontrolled case's power flows, so it shows where uncontrolled charging first takes the
transformer above its rating and what each policy still delivers there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.grid.model.network import (
    DEFAULT_RESERVE,
    SIMBENCH_DAYS,
    SIMBENCH_LV_GRIDS,
    STEPS_PER_DAY,
    Feeder,
    day_steps,
    simbench_feeder,
)
from gridchain.grid.scenarios.day import (
    ALL_POLICIES,
    PolicyDay,
    ev_buses,
    run_policy,
    schedule_day,
)
from gridchain.grid.scenarios.scenario import (
    SLOT_MINUTES,
    GridScenario,
    build_scenario,
    penetration_evs,
)

DEFAULT_GRID = "1-LV-rural2--0-sw"
DEFAULT_SWEEP = (10, 25, 50, 75, 100, 125, 150, 175, 200, 250)


@dataclass(frozen=True)
class GridConfig:
    """grid: a SimBench LV code; evs: EVs on the feeder; days: noon-to-noon days; seed: of the scenario;
    day: first day of year 2016 (0 = 1 January), None for the feeder's peak base-load day; reserve: share of
    the transformer's headroom posted as capacity; sweep: penetrations [EVs per 100 households]."""

    grid: str = DEFAULT_GRID
    evs: int = 200
    days: int = 1
    seed: int = 0
    day: int | None = None
    reserve: float = DEFAULT_RESERVE
    policies: tuple[str, ...] = ALL_POLICIES
    sweep: tuple[int, ...] = DEFAULT_SWEEP

    def __post_init__(self) -> None:
        if self.grid not in SIMBENCH_LV_GRIDS:
            raise InputError("grid", f"{self.grid!r} is not one of {', '.join(SIMBENCH_LV_GRIDS)}")
        check_int("evs", self.evs, 0, 5000)
        check_int("days", self.days, 1, 14)
        check_int("seed", self.seed, 0, 2**32 - 1)
        if self.day is not None:
            check_int("day", self.day, 0, SIMBENCH_DAYS - self.days - 1)
        if not 0 < self.reserve <= 1:
            raise InputError("reserve", f"{self.reserve} is outside (0, 1]")
        for p in self.policies:
            if p not in ALL_POLICIES:
                raise InputError("policies", f"{p!r} is not one of {', '.join(ALL_POLICIES)}")
        for p in self.sweep:
            check_int("sweep", p, 1, 1000)

    @property
    def name(self) -> str:
        short = self.grid.removeprefix("1-LV-").removesuffix("--0-sw")
        return f"grid_{short}_{self.evs}ev_{self.days}d_s{self.seed}"

    @property
    def steps_total(self) -> int:
        """Units of work for a progress bar: power flows plus sweep schedules."""
        slots = self.days * STEPS_PER_DAY
        return slots * (1 + len(self.policies)) + len(self.sweep) * (len(self.policies) + 1)


def peak_day(feeder: Feeder, days: int = 1) -> int:
    """The first day of the `days` noon-to-noon days with the highest apparent base load (no power flow)."""
    p = feeder.base_p_w.sum(axis=1) - feeder.sgen_p_w.sum(axis=1)
    s = np.hypot(p, feeder.base_q_var.sum(axis=1))
    best, best_day = -1.0, 0
    for d in range(SIMBENCH_DAYS - days):
        r = day_steps(d, days)
        peak = float(s[r.start : r.stop].max())
        if peak > best:
            best, best_day = peak, d
    return best_day


@dataclass
class GridResult:
    config: GridConfig
    day: int
    households: int
    sn_va: float
    capacity_w: np.ndarray
    scenario: GridScenario
    base: PolicyDay
    runs: dict[str, PolicyDay]
    sweep: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def table(self) -> dict[str, dict[str, float]]:
        return {name: run.metrics() for name, run in self.runs.items()}

    def summary(self) -> dict:
        cfg = asdict(self.config)
        cfg["policies"] = list(self.config.policies)
        cfg["sweep"] = list(self.config.sweep)
        return {
            "config": cfg,
            "day": self.day,
            "date": str(np.datetime64("2016-01-01") + np.timedelta64(self.day, "D")) + "T12:00",
            "households": self.households,
            "penetration": round(self.config.evs * 100 / self.households, 1),
            "sessions": len(self.scenario.sessions),
            "transformer_kva": self.sn_va / 1000,
            "slot_minutes": SLOT_MINUTES,
            "base": self.base.metrics(),
            "policies": self.table(),
            "series": {
                "capacity_kw": [round(c / 1000, 3) for c in self.capacity_w],
                "base_loading_pct": [round(f.trafo_loading_pct, 2) for f in self.base.flows],
                **{
                    name: {
                        "ev_kw": [round(float(x) / 1000, 3) for x in run.ev_w],
                        "loading_pct": [round(f.trafo_loading_pct, 2) for f in run.flows],
                        "min_vm_pu": [round(f.min_vm_pu, 4) for f in run.flows],
                    }
                    for name, run in self.runs.items()
                },
            },
            "sweep": self.sweep,
            "seconds": round(self.seconds, 1),
        }


def run(config: GridConfig, progress: Callable[[int], None] | None = None, solver: str = "auto") -> GridResult:
    """The whole experiment; `progress(n)` is called with units of work done (see `steps_total`); `solver`: the
    power flow's (network.SOLVERS; the results are the same within 1e-6 p.u. and 1e-4 % loading)."""
    import time

    began = time.perf_counter()
    tick = (lambda n=1: progress(n)) if progress is not None else (lambda n=1: None)
    feeder = simbench_feeder(config.grid, solver)
    households = len(feeder.household_loads)
    day = peak_day(feeder, config.days) if config.day is None else config.day
    steps = day_steps(day, config.days)
    biggest = max([config.evs, *(penetration_evs(households, p) for p in config.sweep)])
    full = build_scenario(households, biggest, config.days, config.seed)
    scenario = full.first(config.evs)
    feeder.attach_ev_buses(ev_buses(full, feeder))
    capacity, base_flows = feeder.capacities(steps, config.reserve, progress=tick)
    empty = scenario.first(0)
    base = PolicyDay("base", empty, capacity, np.zeros((len(steps), 0)), tuple(base_flows))
    runs = {}
    for name in config.policies:
        runs[name] = run_policy(scenario, feeder, steps, capacity, name, progress=tick)
    sweep = []
    for percent in config.sweep:
        sub = full.first(penetration_evs(households, percent))
        point: dict = {"penetration": percent, "evs": sub.evs}
        for name in config.policies:
            day_run = PolicyDay(name, sub, capacity, schedule_day(sub, capacity, name))
            m = day_run.metrics()
            point[name] = {k: round(m[k], 4) for k in ("energy_delivered", "fully_served", "charging_index")}
            tick()
        unc = run_policy(sub, feeder, steps, capacity, "uncontrolled", with_flows=True)
        point["uncontrolled_peak_loading_pct"] = round(unc.metrics()["peak_trafo_loading_pct"], 2)
        tick()
        sweep.append(point)
    return GridResult(
        config, day, households, feeder.sn_va, capacity, scenario, base, runs, sweep, time.perf_counter() - began
    )
