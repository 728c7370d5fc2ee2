"""`--help` that reads well at any width: the root app's group class tidies every command's help once.

typer (0.29) prints a value type for flags (`--json <bool>`), although a flag takes no value, and keeps the
line breaks of a docstring, so that a paragraph written at 110 columns comes out ragged at 80, and reads help
as rich markup (`[keys]` vanishes). The root app uses `HelpGroup`: a flag shows no type, help is literal
text, and each paragraph of a command's help is one line that rich wraps at the terminal's width, between
words; a long list of choices shows as `<choice>`, its values in the help. A paragraph whose lines start
with spaces, `- ` or `$ ` (a list, a command example), or that click's `\\b` marks, keeps its lines.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from rich.markup import escape
from typer.core import TyperGroup, TyperOption

KEEP_LINES = (" ", "- ", "* ", "$ ", "\b")
TYPE_WIDTH = 20  # the widest type label (`<greedy|fcfs>`) that fits the type column at 80 columns


class HelpGroup(TyperGroup):
    """The root group: built last, after every subcommand, it tidies the help of the whole tree."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _flags_show_no_type()
        for command in _walk(self):
            command.help = _literal(reflow(command.help))
            command.short_help = _literal(command.short_help)
            for param in command.params:
                _short_choices(param)
                if getattr(param, "help", None):
                    param.help = _literal(param.help)


def reflow(text: str | None) -> str | None:
    """Each paragraph on one line (but lists and examples), so that the terminal wraps it between words."""
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(p if _keeps_lines(p) else " ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def _short_choices(param: Any) -> None:
    """A long list of choices (`<greedy|fcfs|optimal|edf|llf>`) would be cut in the narrow type column: show
    `<choice>` there and the choices in the help, unless it names them all already."""
    desc = getattr(param, "type_descriptor", None)
    if desc is None or not desc.is_choice:
        return
    choices = [str(getattr(c, "value", c)) for c in desc.choices or ()]
    if param.metavar is not None or len("|".join(choices)) + 2 <= TYPE_WIDTH:
        return
    param.metavar = "<choice>"
    if not all(c in (param.help or "") for c in choices):
        param.help = f"{param.help or ''} One of: {', '.join(choices)}.".strip()


def _literal(text: str | None) -> str | None:
    """Help is printed as rich markup: `[keys]` would vanish as a style tag, so brackets are escaped."""
    return escape(text) if text else text


def _keeps_lines(paragraph: str) -> bool:
    return any(line.startswith(KEEP_LINES) for line in paragraph.splitlines())


def _walk(command: Any) -> Iterator[Any]:
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _walk(sub)


def _flags_show_no_type() -> None:
    """A flag (`--json`) takes no value: print no `<bool>` beside it (typer 0.29 does, for every option)."""
    typed = TyperOption.display_type_rich
    if getattr(typed, "flags_untyped", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag and not self.count:
            return None
        return typed(self, ctx)

    display_type_rich.flags_untyped = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
