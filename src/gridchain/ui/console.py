"""The console commands print tables on: 80 columns when stdout is not a terminal (a pipe, a file, a test),
so that tables stay readable wherever they land; the terminal's width otherwise."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

PIPE_WIDTH = 80


def console() -> Console:
    return Console() if sys.stdout.isatty() else Console(width=PIPE_WIDTH)


def emit(as_json: bool, data: dict, lines: list[str]) -> None:
    """A command's answer: `data` as one JSON line for scripts (--json), or `lines` for people."""
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        for line in lines:
            typer.echo(line)
