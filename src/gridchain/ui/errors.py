"""One way to fail on bad input: one line on stderr naming the field and value, exit code 2, no traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from gridchain.errors import InputError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_BAD_INPUT = 2


def bad_input_exits(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an InputError raised by `command` into `error: <field>: <reason>` and exit 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except InputError as e:
            print(f"error: {e}", file=sys.stderr)
            import typer  # here: a command that never fails need not import it (`gridchain schedule`)

            raise typer.Exit(EXIT_BAD_INPUT) from None

    return wrapper


def make_out_dir(out: Path | None) -> Path | None:
    """Create the `--out` folder (and its parents) if asked for one; a folder that cannot be made is bad input."""
    if out is None:
        return None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError("--out", f"cannot create {str(out)!r}: {e.strerror or e}") from None
    return out
