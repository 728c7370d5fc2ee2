"""Speed of scheduling one slot with 10^3, 10^4 and 10^5 requests; writes JSON (no assertions).

Two measurements per size: the policy alone (core: priorities, order, walk, leftover) and the whole
`gridchain schedule` command (process start, JSON parse and validation, schedule, JSON out), for the
greedy and FCFS policies; the exact optimum for the sizes where it is practical. Requests follow the
paper's Fig. 2 distributions; the capacity is a tenth of the total demand, so most requests are deferred
and the walk visits all of them.

Usage: python benchmarks/bench_schedule.py [--out results/bench_schedule.json] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gridchain.coordination.model import ChargingRequest, Slot, get_policy

SIZES = (1_000, 10_000, 100_000)
OPTIMAL_MAX = 1_000  # the frontier grows with n: 3.6 s at 10^3, minutes at 10^4


def make_slot(n: int, seed: int = 0) -> Slot:
    rng = np.random.default_rng([seed, n])
    soc = rng.integers(0, 1000, n)
    tcc = rng.geometric(0.25, n)
    demand = (1000 - soc) * 200 - rng.integers(0, 200, n)  # not all multiples of 200 W
    requests = tuple(ChargingRequest(f"esu-{i}", int(demand[i]), int(soc[i]), int(tcc[i]), i) for i in range(n))
    return Slot(int(demand.sum()) // 10, requests)


def time_call(fn, repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4), "repeat": repeat}


def slot_json(slot: Slot) -> str:
    return json.dumps(
        {
            "capacity_w": slot.capacity_w,
            "requests": [
                {"id": r.id, "demand_w": r.demand_w, "soc_pm": r.soc_pm, "tcc": r.tcc, "arrival": r.arrival}
                for r in slot.requests
            ],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/bench_schedule.json"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for n in SIZES:
        slot = make_slot(n)
        for name in ("greedy", "fcfs", "optimal"):
            if name == "optimal" and n > OPTIMAL_MAX:
                continue
            policy = get_policy(name)
            core = time_call(lambda: policy.schedule(slot), args.repeat)
            row = {"requests": n, "policy": name, "core": core}
            if name != "optimal":
                with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                    f.write(slot_json(slot))
                cmd = [sys.executable, "-m", "gridchain", "schedule", "--input", f.name, "--policy", name]
                row["cli"] = time_call(lambda: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL), args.repeat)
                os.unlink(f.name)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    report = {
        "benchmark": "schedule",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "capacity": "total demand // 10",
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
