"""The work of `gridchain schedule`, without typer: read, schedule, write; and the command run on its own.

`gridchain.cli.main` runs `run_alone` for `gridchain schedule`, so that the command imports numpy and the model,
not typer, the chain or the other features.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from gridchain.coordination.model.policies import POLICIES, get_policy
from gridchain.coordination.model.table import ScheduleTable
from gridchain.coordination.model.validate import load_tables
from gridchain.errors import InputError
from gridchain.ui.errors import bad_input_exits

FAST = ("greedy", "fcfs")
"""Policies that schedule a SlotTable directly (model.fast); the others get the equal Slot."""


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


def write_schedules(input: Path | None, policy: str, indent: int | None) -> None:
    """Schedule the slot(s) read from `input` (None: stdin) under `policy` and write the JSON to stdout."""
    text, source = read_input(input)
    tables, is_array = load_tables(text, source)
    engine = get_policy(policy)
    results = [engine.schedule(table if policy in FAST else table.to_slot()) for table in tables]
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
        import typer

        from gridchain.coordination.cli.schedule import schedule

        app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        app.command("schedule")(schedule)
        app(args=args, prog_name="gridchain schedule")
        return
    try:
        bad_input_exits(write_schedules)(**plain)
    except Exception as e:  # typer.Exit from bad_input_exits, which imports typer only then
        typer = sys.modules.get("typer")
        if typer is not None and isinstance(e, typer.Exit):
            sys.exit(e.exit_code)
        raise
    end_now()


def end_now() -> None:
    """Flush the output and end the process at once, without freeing its objects one by one and tearing down
    numpy's modules (about 10 ms after a slot of 10^5 requests; mypy ends the same way). Only for a process that
    ran this command alone: nothing after it runs."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def plain_arguments(args: list[str]) -> dict[str, object] | None:
    """The command's arguments when `args` are only `--input/-i FILE`, `--policy/-p NAME` (a known one),
    `--indent N` and `--json`, each at most once and valid; else None, and typer parses them (and reports)."""
    values: dict[str, object] = {"input": None, "policy": "greedy", "indent": None}
    names = {"--input": "input", "-i": "input", "--policy": "policy", "-p": "policy", "--indent": "indent"}
    seen, k = set(), 0
    while k < len(args):
        arg = args[k]
        if arg == "--json" and "as_json" not in seen:  # the default
            seen.add("as_json")
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
            values["policy"] = value
        else:
            if not (value.isascii() and value.isdigit()):
                return None
            values["indent"] = int(value)
        k += 2
    return values
