"""One simulated day with 200 EVs on SimBench's 1-LV-rural2 (the default grid scenario), power flows included,
on each power-flow solver (lightsim2grid's Newton-Raphson driven directly, and pandapower's runpp); writes JSON
(no assertions).

Measured separately per solver: reading the SimBench grid and profiles, building the scenario, the 96 base-case
power flows that give C - P_R, and for each policy the scheduling of the day and its 96 power flows; then the
power flow per slot [ms]: the 96 slots of the uncontrolled day (its EV power at each bus) timed alone, the
median of --flow-repeat passes, and pandapower's over lightsim2grid's (issue 22 asks >= 50x), with the largest
differences between the two solvers' flows over every slot measured. Peak memory is the process's maximum
resident set size.

Usage: python benchmarks/bench_grid.py [--out results/bench_grid.json] [--evs 200] [--repeat 3]
       [--solvers lightsim2grid,pandapower] [--flow-repeat 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from gridchain.grid.model.network import day_steps, resolve_solver, simbench_feeder
from gridchain.grid.scenarios.day import (
    ALL_POLICIES,
    ev_buses,
    run_policy,
    schedule_day,
)
from gridchain.grid.scenarios.experiment import DEFAULT_GRID, peak_day
from gridchain.grid.scenarios.scenario import build_scenario


def installed() -> set[str]:
    return {d.metadata["Name"].lower() for d in metadata.distributions()}


def clock(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def slot_ms(feeder, steps: range, ev_w: np.ndarray, repeat: int) -> float:
    """Median over `repeat` passes of the mean time of one slot's power flow [ms] (flows only)."""
    passes = []
    for _ in range(repeat):
        start = time.perf_counter()
        for t, step in enumerate(steps):
            feeder.flow(step, ev_w[t])
        passes.append((time.perf_counter() - start) / len(steps) * 1000)
    return statistics.median(passes)


def measure(solver: str, evs: int, repeat: int, flow_repeat: int) -> tuple[dict, dict]:
    """The day on one solver: its timings, and every flow it computed (for the differences)."""
    feeder, t_load = clock(lambda: simbench_feeder(DEFAULT_GRID, solver))
    day = peak_day(feeder)
    steps = day_steps(day, 1)
    scenario, t_scenario = clock(lambda: build_scenario(len(feeder.household_loads), evs, 1, 0))
    feeder.attach_ev_buses(ev_buses(scenario, feeder))
    feeder.flow(steps[0])  # builds lightsim2grid's model (one pandapower flow), as the first slot of a run does
    (capacity, base), t_base = clock(lambda: feeder.capacities(steps))
    policies, flows, per_flow = {}, {"base": base}, []
    total = t_load + t_scenario + t_base
    for name in ALL_POLICIES:
        sched = [clock(lambda: schedule_day(scenario, capacity, name))[1] for _ in range(repeat)]
        runs = [clock(lambda: run_policy(scenario, feeder, steps, capacity, name)) for _ in range(repeat)]
        s, f = statistics.median(sched), statistics.median(t for _, t in runs)
        flows[name] = runs[-1][0].flows
        per_flow.append((f - s) / len(steps) * 1000)
        policies[name] = {
            "schedule_day_s": round(s, 3),
            "schedule_and_96_flows_s": round(f, 3),
            "per_flow_ms": round(per_flow[-1], 4),
        }
        total += f
    uncontrolled = schedule_day(scenario, capacity, "uncontrolled")
    buses = feeder.ev_buses
    at = np.array([buses.index(feeder.household_bus(s.household)) for s in scenario.sessions], dtype=np.int64)
    ev_w = np.array([np.bincount(at, weights=g, minlength=len(buses)) for g in uncontrolled])
    report = {
        "per_slot_ms": round(slot_ms(feeder, steps, ev_w, flow_repeat), 4),
        "load_simbench_s": round(t_load, 3),
        "build_scenario_s": round(t_scenario, 3),
        "base_flows_and_capacity_s": round(t_base, 3),
        "base_per_flow_ms": round(t_base / len(steps) * 1000, 4),
        "per_flow_ms_from_policies": round(statistics.median(per_flow), 4),
        "policies": policies,
        "one_day_all_policies_s": round(total, 2),
    }
    return report, {"day": day, "slots": len(steps), "sessions": len(scenario.sessions), "flows": flows}


def max_differences(a: dict, b: dict) -> dict:
    """Largest |a - b| over every slot of every run: voltage [p.u.], loadings [%], transformer P and Q [W, var]."""
    fields = ("min_vm_pu", "trafo_loading_pct", "max_line_loading_pct", "p_trafo_w", "q_trafo_var")
    out = dict.fromkeys(fields, 0.0)
    for run in a:
        for x, y in zip(a[run], b[run], strict=True):
            for k in fields:
                out[k] = max(out[k], abs(getattr(x, k) - getattr(y, k)))
    return {k: float(f"{v:.3g}") for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("results/bench_grid.json"))
    ap.add_argument("--evs", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--solvers", default="lightsim2grid,pandapower")
    ap.add_argument("--flow-repeat", type=int, default=10)
    args = ap.parse_args()

    solvers = [resolve_solver(s.strip()) for s in args.solvers.split(",") if s.strip()]
    reports, runs = {}, {}
    for solver in solvers:
        reports[solver], runs[solver] = measure(solver, args.evs, args.repeat, args.flow_repeat)
    first = runs[solvers[0]]
    report = {
        "benchmark": "grid_day",
        "grid": DEFAULT_GRID,
        "evs": args.evs,
        "sessions": first["sessions"],
        "day": first["day"],
        "slots": first["slots"],
        "solvers": reports,
    }
    if {"lightsim2grid", "pandapower"} <= set(solvers):
        ls, pp = reports["lightsim2grid"], reports["pandapower"]
        report["speedup_per_slot"] = round(pp["per_slot_ms"] / ls["per_slot_ms"], 1)
        report["speedup_base_per_flow"] = round(pp["base_per_flow_ms"] / ls["base_per_flow_ms"], 1)
        report["max_difference"] = max_differences(runs["pandapower"]["flows"], runs["lightsim2grid"]["flows"])
    report |= {
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "repeat": args.repeat,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()},
        "versions": {p: metadata.version(p) for p in ("lightsim2grid", "pandapower") if p in installed()},
        "note": "lightsim2grid's NR (KLU) on pandapower's Ybus, warm-started from the previous slot; pandapower "
        "3.1.2 runpp without numba, warm-started from the previous slot's results; per_slot_ms: the uncontrolled "
        "day's 96 flows alone (median of --flow-repeat passes); per_flow_ms_from_policies: median over policies "
        "of (day with flows - scheduling) / 96, noisy for lightsim2grid where scheduling dominates",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
