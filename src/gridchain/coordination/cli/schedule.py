"""`gridchain schedule`: one slot (or an array of slots) in, the schedule(s) out, as JSON."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from gridchain.coordination.model.policies import POLICIES, get_policy
from gridchain.coordination.model.validate import load_json, parse_slots
from gridchain.errors import InputError
from gridchain.ui.errors import bad_input_exits

PolicyName = StrEnum("PolicyName", {name: name for name in POLICIES})


def read_input(path: Path | None) -> tuple[str, str]:
    """The text to parse and the name to report errors under."""
    if path is None:
        if sys.stdin.isatty():
            raise InputError("input", "nothing to read: pass --input FILE or pipe JSON on stdin")
        return sys.stdin.read(), "stdin"
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as e:
        raise InputError("--input", f"cannot read {str(path)!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise InputError("--input", f"{str(path)!r} is not UTF-8 text") from None


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
    as_json: bool = typer.Option(
        False, "--json", help="One JSON line (scripts; the default prints the same JSON indented, for reading)."
    ),
) -> None:
    """Schedule charging requests against a slot's capacity and print the result as JSON.

    A slot is {"capacity_w": int >= 0, "beta1_pm": 0..1000 (default 500), "requests": [{"id": str,
    "demand_w": int > 0, "soc_pm": 0..999, "tcc": int >= 1, "arrival": int >= 0 (default: its index),
    "remaining_w": int >= demand_w (energy wanted over the whole stay, read by llf; default demand_w)}]}.
    Units: W (a slot is 1 h, so W is Wh), state of charge in per-mille, time to complete charging in slots.

    The result has one allocation per request in input order ({"id", "granted_w", "status":
    scheduled | partial | deferred, "priority", "rank"}) and "unused_w". An array of slots gives an array
    of results in the same order. Bad input exits with code 2 and one line naming the field.

    Example:

        echo '{"capacity_w": 100000, "requests": [{"id": "a", "demand_w": 60000, "soc_pm": 200, "tcc": 1}]}'
        | gridchain schedule --policy greedy
    """
    text, source = read_input(input)
    slots, is_array = parse_slots(load_json(text, source))
    engine = get_policy(str(policy))
    results = [engine.schedule(slot).to_dict() for slot in slots]
    sys.stdout.write(json.dumps(results if is_array else results[0], indent=None if as_json else 2) + "\n")
