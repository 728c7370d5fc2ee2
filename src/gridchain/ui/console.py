"""The console commands print tables on: 80 columns when stdout is not a terminal (a pipe, a file, a test),
so that tables stay readable wherever they land; the terminal's width otherwise."""

from __future__ import annotations

import sys

from rich.console import Console

PIPE_WIDTH = 80


def console() -> Console:
    return Console() if sys.stdout.isatty() else Console(width=PIPE_WIDTH)
