"""One scenario through one charging policy, slot by slot, and the feeder's power flow in each slot.

Each 15-minute slot, every EV that is plugged in and still wants energy asks for
    demand_w = min(charger power, remaining energy [W x slot])
with its state of charge, its time to complete charging (slots to its departure) and its remaining energy;
the policy shares the slot's capacity C - P_R among the requests (`core.multislot` and `core.policies`, the code the
on-chain coordinator's twin runs). A demand never exceeds the charger, so neither does a grant.

Besides the five scheduling policies:
- uncontrolled: every plugged-in EV charges at min(charger, remaining) from arrival, ignoring the capacity.
- offline: the best any schedule could do with perfect foresight of the day (not an online policy): a linear
  programme maximising the energy delivered subject to each slot's capacity, each charger and each stay
  (then, among such schedules, charging as early as possible). An upper bound for the online policies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gridchain.coordination import POLICIES, POWER_MAX_W, EsuArrival, Schedule, get_policy, simulate
from gridchain.errors import InputError
from gridchain.grid.model.network import Feeder, Flow
from gridchain.grid.scenarios.scenario import SLOT_MINUTES, SLOTS_PER_HOUR, GridScenario

ONLINE = ("uncontrolled", *POLICIES)
FULL_TOLERANCE_WH = 0.01
"""An EV counts as fully served within this [Wh] (the offline LP's grants are real numbers)."""
ALL_POLICIES = (*ONLINE, "offline")


@dataclass(frozen=True)
class PolicyDay:
    """A policy's outcome: grants_w[t, i] for session i in slot t [W]; with flows, one Flow per slot."""

    policy: str
    scenario: GridScenario
    capacity_w: np.ndarray
    grants_w: np.ndarray
    flows: tuple[Flow, ...] = ()

    @property
    def ev_w(self) -> np.ndarray:
        return self.grants_w.sum(axis=1)

    @property
    def received_wh(self) -> np.ndarray:
        return self.grants_w.sum(axis=0) / SLOTS_PER_HOUR

    @property
    def required_wh(self) -> np.ndarray:
        return np.array([s.energy_wh for s in self.scenario.sessions], dtype=float)

    def metrics(self) -> dict[str, float]:
        req, got = self.required_wh, self.received_wh
        ratio = got / req if len(req) else np.ones(0)
        out = {
            "energy_delivered": float(got.sum() / req.sum()) if req.sum() else 1.0,
            "fully_served": float(np.mean(got >= req - FULL_TOLERANCE_WH)) if len(req) else 1.0,
            "charging_index": float(ratio.mean()) if len(req) else 1.0,
            "energy_required_kwh": float(req.sum() / 1000),
            "energy_delivered_kwh": float(got.sum() / 1000),
            "peak_ev_kw": float(self.ev_w.max() / 1000) if len(self.ev_w) else 0.0,
            "slots_over_capacity": int(np.sum(self.ev_w > self.capacity_w + 1e-6)),
        }
        if self.flows:
            loading = np.array([f.trafo_loading_pct for f in self.flows])
            out |= {
                "peak_trafo_loading_pct": float(loading.max()),
                "hours_above_100": float(np.sum(loading > 100.0) * SLOT_MINUTES / 60),
                "min_vm_pu": float(min(f.min_vm_pu for f in self.flows)),
                "max_line_loading_pct": float(max(f.max_line_loading_pct for f in self.flows)),
            }
        return out


def schedule_day(scenario: GridScenario, capacity_w: np.ndarray, policy: str) -> np.ndarray:
    """grants_w[t, i] [W] of session i in slot t under `policy` (see ALL_POLICIES).

    The online policies run in the core's multi-slot model (`core.multislot.simulate`), each session an ESU
    whose energies are in W x slot and whose charger is its `max_w`; uncontrolled is any policy with a
    capacity no slot's demands reach (every request is granted in full).
    """
    if len(capacity_w) != scenario.slots:
        raise InputError("capacity_w", f"{len(capacity_w)} slots for a scenario of {scenario.slots}")
    if policy == "offline":
        return offline_schedule(scenario, capacity_w)
    sessions = scenario.sessions
    arrivals: list[list[EsuArrival]] = [[] for _ in range(scenario.slots)]
    for s in sessions:
        battery = s.battery_wh * SLOTS_PER_HOUR
        arrivals[s.arrival].append(
            EsuArrival(s.id, battery, battery - s.energy_ws, s.energy_ws, s.departure - s.arrival, s.charger_w)
        )
    if policy == "uncontrolled":
        engine, capacities = get_policy("fcfs"), [POWER_MAX_W]
    else:
        engine, capacities = get_policy(policy), [int(c) for c in capacity_w]
    column = {s.id: i for i, s in enumerate(sessions)}
    grants = np.zeros((scenario.slots, len(sessions)), dtype=np.int64)

    def record(t: int, schedule: Schedule) -> None:
        for a in schedule.allocations:
            grants[t, column[a.id]] = a.granted_w

    simulate(arrivals, capacities, engine, on_slot=record)
    return grants


def offline_schedule(scenario: GridScenario, capacity_w: np.ndarray) -> np.ndarray:
    """The perfect-foresight bound: max total energy (HiGHS LP), then the earliest among the maximisers.
    Grants are real numbers [W] (the other policies' are integers)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    sessions = scenario.sessions
    var_t, var_i = [], []
    for i, s in enumerate(sessions):
        for t in range(s.arrival, s.departure):
            var_t.append(t)
            var_i.append(i)
    grants = np.zeros((scenario.slots, len(sessions)), dtype=np.int64)
    if not var_t:
        return grants
    t_of, i_of = np.array(var_t), np.array(var_i)
    nv = len(t_of)
    cols = np.arange(nv)
    a_ub = coo_matrix(
        (np.ones(2 * nv), (np.concatenate((t_of, scenario.slots + i_of)), np.concatenate((cols, cols)))),
        shape=(scenario.slots + len(sessions), nv),
    ).tocsr()
    b_ub = np.concatenate((capacity_w.astype(float), [s.energy_ws for s in sessions]))
    bounds = np.column_stack((np.zeros(nv), [sessions[i].charger_w for i in i_of]))
    first = linprog(-np.ones(nv), A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if first.status != 0:
        raise RuntimeError(f"offline LP failed: {first.message}")
    best = -first.fun
    # second pass: keep (almost) the best total, charge as early as possible
    from scipy.sparse import vstack

    a2 = vstack([a_ub, coo_matrix(-np.ones((1, nv)))]).tocsr()
    b2 = np.concatenate((b_ub, [-(best - 1e-3)]))
    second = linprog(t_of.astype(float), A_ub=a2, b_ub=b2, bounds=bounds, method="highs")
    x = second.x if second.status == 0 else first.x
    grants = grants.astype(float)
    grants[t_of, i_of] = np.clip(x, 0.0, None)
    return grants


def run_policy(
    scenario: GridScenario,
    feeder: Feeder,
    steps: range,
    capacity_w: np.ndarray,
    policy: str,
    with_flows: bool = True,
    progress: Callable[[], None] | None = None,
) -> PolicyDay:
    """Schedule the scenario under `policy`, then (with_flows) one power flow per slot on `feeder`, which
    must have every EV's bus attached (`feeder.attach_ev_buses(ev_buses(scenario, feeder))` or a superset)."""
    grants = schedule_day(scenario, capacity_w, policy)
    flows: list[Flow] = []
    if with_flows:
        buses = feeder.ev_buses
        index = {b: j for j, b in enumerate(buses)}
        missing = {feeder.household_bus(s.household) for s in scenario.sessions} - set(index)
        if missing:
            raise InputError("feeder", f"EV buses {sorted(missing)} are not attached")
        at = np.array([index[feeder.household_bus(s.household)] for s in scenario.sessions], dtype=np.int64)
        for t, step in enumerate(steps):
            ev_w = np.bincount(at, weights=grants[t], minlength=len(buses)) if len(at) else np.zeros(len(buses))
            flows.append(feeder.flow(step, ev_w))
            if progress is not None:
                progress()
    return PolicyDay(policy, scenario, capacity_w, grants, tuple(flows))


def ev_buses(scenario: GridScenario, feeder: Feeder) -> tuple[int, ...]:
    """The distinct buses of the scenario's EVs, sorted."""
    return tuple(sorted({feeder.household_bus(s.household) for s in scenario.sessions}))
