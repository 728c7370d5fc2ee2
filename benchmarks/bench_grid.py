"""One simulated day with 200 EVs on SimBench's 1-LV-rural2 (the default grid scenario), power flows included;
writes JSON (no assertions).

Measured separately: reading the SimBench grid and profiles, building the scenario, the 96 base-case power
flows that give C - P_R, and for each policy the scheduling of the day and its 96 power flows. Peak memory is
the process's maximum resident set size.

Usage: python benchmarks/bench_grid.py [--out results/bench_grid.json] [--evs 200] [--repeat 3]
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
from pathlib import Path

from gridchain.grid.model.network import day_steps, simbench_feeder
from gridchain.grid.scenarios.day import (
    ALL_POLICIES,
    ev_buses,
    run_policy,
    schedule_day,
)
from gridchain.grid.scenarios.experiment import DEFAULT_GRID, peak_day
from gridchain.grid.scenarios.scenario import build_scenario


def clock(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("results/bench_grid.json"))
    ap.add_argument("--evs", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    feeder, t_load = clock(lambda: simbench_feeder(DEFAULT_GRID))
    day = peak_day(feeder)
    steps = day_steps(day, 1)
    scenario, t_scenario = clock(lambda: build_scenario(len(feeder.household_loads), args.evs, 1, 0))
    feeder.attach_ev_buses(ev_buses(scenario, feeder))
    (capacity, _), t_base = clock(lambda: feeder.capacities(steps))
    policies = {}
    total = t_load + t_scenario + t_base
    for name in ALL_POLICIES:
        sched = [clock(lambda: schedule_day(scenario, capacity, name))[1] for _ in range(args.repeat)]
        flows = [clock(lambda: run_policy(scenario, feeder, steps, capacity, name))[1] for _ in range(args.repeat)]
        s, f = statistics.median(sched), statistics.median(flows)
        policies[name] = {
            "schedule_day_s": round(s, 3),
            "schedule_and_96_flows_s": round(f, 3),
            "per_flow_ms": round((f - s) / len(steps) * 1000, 2),
        }
        total += f
    report = {
        "benchmark": "grid_day",
        "grid": DEFAULT_GRID,
        "evs": args.evs,
        "sessions": len(scenario.sessions),
        "day": day,
        "slots": len(steps),
        "load_simbench_s": round(t_load, 3),
        "build_scenario_s": round(t_scenario, 3),
        "base_flows_and_capacity_s": round(t_base, 3),
        "policies": policies,
        "one_day_all_policies_s": round(total, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "repeat": args.repeat,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()},
        "note": "pandapower 3.1.2 Newton-Raphson without numba, warm-started from the previous slot's results",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
