"""`gridchain schedule`: one slot (or an array of slots) in, the schedule(s) out, as JSON."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from gridchain.coordination.cli.schedule_run import write_schedules
from gridchain.coordination.model.policies import POLICIES
from gridchain.ui.errors import bad_input_exits

PolicyName = StrEnum("PolicyName", {name: name for name in POLICIES})


@bad_input_exits
def schedule(
    input: Path | None = typer.Option(
        None, "--input", "-i", help="JSON file with one slot or an array of slots (default: stdin)."
    ),
    policy: PolicyName = typer.Option(
        "greedy",
        "--policy",
        "-p",
        help="greedy (the paper's), fcfs (its baseline), optimal (exact knapsack), "
        "edf (earliest deadline first) or llf (least laxity first).",
    ),
    indent: int | None = typer.Option(
        None, "--indent", min=0, help="Indent the JSON by this many spaces, for reading (default: one line)."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON line (the default; kept for scripts that pass it)."),
) -> None:
    """Schedule charging requests against a slot's capacity and print the result as JSON.

    A slot is {"capacity_w": int >= 0, "beta1_pm": 0..1000 (default 500), "requests": [{"id": str,
    "demand_w": int > 0, "soc_pm": 0..999, "tcc": int >= 1, "arrival": int >= 0 (default: its index),
    "remaining_w": int >= demand_w (energy wanted over the whole stay, read by llf; default demand_w)}]}.
    Units: W (a slot is 1 h, so W is Wh), state of charge in per-mille, time to complete charging in slots.

    The output is one line of JSON (`--indent N` for reading). The result has one allocation per request in
    input order ({"id", "granted_w", "status": scheduled | partial | deferred, "priority", "rank"}) and
    "unused_w". An array of slots gives an array of results in the same order. Bad input
    exits with code 2 and one line naming the field.

    Example:

        echo '{"capacity_w": 100000, "requests": [{"id": "a", "demand_w": 60000, "soc_pm": 200, "tcc": 1}]}'
        | gridchain schedule --policy greedy
    """
    write_schedules(input, str(policy), indent)
