"""`gridchain schedule`: one slot (or an array of slots) in, the schedule(s) out, as JSON."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from gridchain.coordination.model.policies import POLICIES, get_policy
from gridchain.coordination.model.table import ScheduleTable
from gridchain.coordination.model.validate import load_json, parse_tables
from gridchain.errors import InputError
from gridchain.ui.errors import bad_input_exits

FAST = ("greedy", "fcfs")
"""Policies that schedule a SlotTable directly (model.fast); the others get the equal Slot."""
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
    text, source = read_input(input)
    tables, is_array = parse_tables(load_json(text, source))
    engine = get_policy(str(policy))
    results = [engine.schedule(table if str(policy) in FAST else table.to_slot()) for table in tables]
    if indent is None:  # greedy and FCFS give columns, written without a dict per request
        texts = [r.to_json() if isinstance(r, ScheduleTable) else json.dumps(r.to_dict()) for r in results]
        out = f"[{', '.join(texts)}]" if is_array else texts[0]
    else:
        dicts = [r.to_dict() for r in results]
        out = json.dumps(dicts if is_array else dicts[0], indent=indent)
    sys.stdout.write(out + "\n")


def run_alone(args: list[str]) -> None:
    """`gridchain schedule ARGS` as its own app: the root CLI's other commands are not imported. Plain arguments
    (see `plain_arguments`) call the command directly, which spares typer's set-up (a tenth of a second)."""
    plain = plain_arguments(args)
    if plain is None:
        app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        app.command("schedule")(schedule)
        app(args=args, prog_name="gridchain schedule")
        return
    try:
        schedule(**plain)
    except typer.Exit as e:
        sys.exit(e.exit_code)


def plain_arguments(args: list[str]) -> dict[str, object] | None:
    """The command's arguments when `args` are only `--input/-i FILE`, `--policy/-p NAME` (a known one),
    `--indent N` and `--json`, each at most once and valid; else None, and typer parses them (and reports)."""
    values: dict[str, object] = {"input": None, "policy": PolicyName("greedy"), "indent": None, "as_json": False}
    names = {"--input": "input", "-i": "input", "--policy": "policy", "-p": "policy", "--indent": "indent"}
    seen, k = set(), 0
    while k < len(args):
        arg = args[k]
        if arg == "--json" and "as_json" not in seen:
            seen.add("as_json")
            values["as_json"] = True
            k += 1
            continue
        key = names.get(arg)
        if key is None or key in seen or k + 1 == len(args):
            return None
        seen.add(key)
        value = args[k + 1]
        if key == "input":
            if value.startswith("-"):
                return None
            values["input"] = Path(value)
        elif key == "policy":
            if value not in POLICIES:
                return None
            values["policy"] = PolicyName(value)
        else:
            if not (value.isascii() and value.isdigit()):
                return None
            values["indent"] = int(value)
        k += 2
    return values
