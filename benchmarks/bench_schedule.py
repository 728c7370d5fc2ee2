"""Speed of scheduling one slot with 10^3 to 10^6 requests, against bounds; writes JSON (no assertions).

Per size, for the greedy and FCFS policies:
- core: the policy on a `SlotTable` (the numpy path: priorities, exact order, walk, leftover, ranks), up to 10^6;
- reference: the same policy's reference on the equal `Slot` (one object per request), up to 10^5;
- bound: what any exact implementation must at least do: a numpy lexsort by the float keys (greedy) or a stable
  argsort by arrival (FCFS), then the fastest exact walk we have (`fast.greedy_walk`), nothing else;
- cli: the whole `gridchain schedule` process (start, JSON parse and validation, schedule, JSON out), up to 10^5,
  against parsing its input alone: in this process (`json.loads`) and as a process (`python -c json.load`), the
  three taking turns in every round (per-round ratios over the parse process).
The exact optimum runs where it is practical. Requests follow the paper's Fig. 2 distributions; the capacity is
a tenth of the total demand, so most requests are deferred and the walk visits all of them. The JSON ends with
the ratios core/bound at 10^6 and process/parse at 10^5.

Usage: python benchmarks/bench_schedule.py [--out results/bench_schedule.json] [--repeat 5] [--cli-repeat 11]
       [--sizes 1000,...]
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

from gridchain.coordination.model import fast, get_policy
from gridchain.coordination.model.table import SlotTable

SIZES = (1_000, 10_000, 100_000, 1_000_000)
REFERENCE_MAX = 100_000  # the reference takes seconds at 10^6
CLI_MAX = 100_000
OPTIMAL_MAX = 1_000  # the frontier grows with n: 3.6 s at 10^3, minutes at 10^4


def make_table(n: int, seed: int = 0) -> SlotTable:
    rng = np.random.default_rng([seed, n])
    soc = rng.integers(0, 1000, n)
    tcc = rng.geometric(0.25, n)
    demand = (1000 - soc) * 200 - rng.integers(0, 200, n)  # not all multiples of 200 W
    ids = [f"esu-{i}" for i in range(n)]
    return SlotTable(int(demand.sum()) // 10, ids, demand.tolist(), soc.tolist(), tcc.tolist(), list(range(n)))


def bound(name: str, table: SlotTable) -> None:
    """The least an exact schedule needs: the sort by the policy's float keys, then the walk."""
    if name == "greedy":
        u = fast.priorities(table)
        order = np.lexsort((table.arrival, -u, -(u / table.demand_w.astype(np.float64))))
    else:
        order = np.argsort(table.arrival, kind="stable")
    fast.greedy_walk(table.demand_w, order, table.capacity_w)


def time_calls(fns: dict[str, object], repeat: int) -> dict[str, dict[str, float]]:
    """Each function's time, the functions taking turns in every round, so that a change in the machine's load
    falls on all of them alike; with each round's ratio to the first function ("per_round_ratio_median")."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    first = next(iter(fns))
    out = {}
    for name, ts in times.items():
        out[name] = {"median_s": round(statistics.median(ts), 4), "min_s": round(min(ts), 4), "repeat": repeat}
        if name != first:
            ratios = [t / b for t, b in zip(ts, times[first])]
            out[name]["per_round_ratio_median"] = round(statistics.median(ratios), 3)
    return out


def slot_json(table: SlotTable) -> str:
    columns = zip(table.ids, table.demand_w.tolist(), table.soc_pm.tolist(), table.tcc.tolist(), table.arrival.tolist())
    return json.dumps(
        {
            "capacity_w": table.capacity_w,
            "requests": [{"id": i, "demand_w": d, "soc_pm": s, "tcc": t, "arrival": a} for i, d, s, t, a in columns],
        }
    )


def ratio(rows: list[dict], n: int, name: str, part: str, base: str) -> float | None:
    """Median time of `part` over that of `base`."""
    for row in rows:
        if row["requests"] == n and row["policy"] == name and part in row and base in row:
            return round(row[part]["median_s"] / row[base]["median_s"], 2)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/bench_schedule.json"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cli-repeat", type=int, default=11, help="rounds of the process against the parses")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated numbers of requests")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    rows = []
    for n in sizes:
        table = make_table(n)
        text = slot_json(table) if n <= CLI_MAX else None
        for name in ("greedy", "fcfs", "optimal"):
            if name == "optimal" and n > OPTIMAL_MAX:
                continue
            policy = get_policy(name)
            row = {"requests": n, "policy": name}
            if name == "optimal":
                slot = table.to_slot()
                row |= time_calls({"core": lambda: policy.schedule(slot)}, args.repeat)
            else:
                row |= time_calls(
                    {"bound": lambda: bound(name, table), "core": lambda: policy.schedule(table)}, args.repeat
                )
                if n <= REFERENCE_MAX:
                    slot = table.to_slot()
                    row |= time_calls({"reference": lambda: policy.reference(slot)}, args.repeat)
            if text is not None and name != "optimal":
                with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                    f.write(text)
                cmd = [sys.executable, "-m", "gridchain", "schedule", "--input", f.name, "--policy", name]
                parse_cmd = [sys.executable, "-c", f"import json; json.load(open({f.name!r}))"]
                run = subprocess.run
                row |= time_calls(  # the first is the base of the per-round ratios: the parse as a process
                    {
                        "parse_process": lambda: run(parse_cmd, check=True),
                        "cli": lambda: run(cmd, check=True, stdout=subprocess.DEVNULL),
                        "parse": lambda: json.loads(text),
                    },
                    args.cli_repeat,
                )
                os.unlink(f.name)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    top, cli_top = max(sizes), max(n for n in sizes if n <= CLI_MAX)
    ratios = {
        f"{name}_{what}_at_{n}": ratio(rows, n, name, part, base)
        for name in ("greedy", "fcfs")
        for what, n, part, base in (
            ("core_over_bound", top, "core", "bound"),
            ("reference_over_core", min(top, REFERENCE_MAX), "reference", "core"),
            ("process_over_parse", cli_top, "cli", "parse"),
            ("process_over_parse_process", cli_top, "cli", "parse_process"),
        )
    }
    report = {
        "benchmark": "schedule",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "capacity": "total demand // 10",
        "bound": "greedy: lexsort by (-u/d float, -u, arrival), fcfs: stable argsort by arrival; fast.greedy_walk",
        "ratios": ratios,
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
