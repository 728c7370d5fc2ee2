"""What the security fixes of issue 14 cost: each function's gas before them, beside today's.

`gridchain gas-report` wrote the reports in benchmarks/baseline/gas_before_issue14/ at commit b3d15a8, the last
commit before the fixes (one per hardfork and chain, named as the report is). `compare` lines a new report up
with the one of the same configuration: every integer figure of the coordination, V2V and metering sections
(the close per request at each n included), before and after; a function that is new has no figure before.
"""

from __future__ import annotations

import json
from pathlib import Path

import gridchain

# a source checkout's benchmarks (<root>/src/gridchain -> <root>/benchmarks/baseline); an installed wheel has none
BASELINE_DIR = Path(gridchain.__file__).resolve().parents[2] / "benchmarks" / "baseline"
BEFORE_DIR = BASELINE_DIR / "gas_before_issue14"
SECTIONS = ("coordination", "v2v", "metering")
PER_REQUEST = "close_slot_per_request"


def before_report(name: str) -> dict | None:
    """The report of configuration `name` (e.g. gas_osaka_anvil_seed0) from before the fixes, if kept."""
    path = BEFORE_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def flatten(report: dict) -> dict[str, int]:
    """`section.function` -> gas for every integer figure, and `coordination.close_per_request@n` for each n."""
    out: dict[str, int] = {}
    for section in SECTIONS:
        for name, value in report.get(section, {}).items():
            if isinstance(value, int) and not isinstance(value, bool):
                out[f"{section}.{name}"] = value
        for n, gas in report.get(section, {}).get(PER_REQUEST, {}).items():
            out[f"{section}.close_per_request@{n}"] = gas
    return out


def compare(report: dict, before: dict) -> dict[str, dict[str, int | None]]:
    """For every figure in either report: {"before": gas or None (new), "after": gas or None (gone)}."""
    old, new = flatten(before), flatten(report)
    return {
        name: {"before": old.get(name), "after": new.get(name)} for name in [*new, *(k for k in old if k not in new)]
    }
