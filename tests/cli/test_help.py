"""Every command's --help at 80 columns: no `<bool>` beside a flag, no word broken across lines, no line wider."""

import re

import pytest
import typer.main
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.ui.help import reflow

BOX = "│╭╮╰╯─┃━┏┓┗┛"


def command_paths(command, path=()):
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from command_paths(sub, (*path, name))


PATHS = list(command_paths(typer.main.get_command(app)))


def help_text(path, columns):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": str(columns), "TERMINAL_WIDTH": None})
    assert result.exit_code == 0, result.output
    return result.stdout


def words(text):
    return set(re.sub(f"[{BOX}]", " ", text).split())


def test_every_command_is_covered():
    assert ("node",) in PATHS and ("demo",) in PATHS and len(PATHS) > 15


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "gridchain")
def test_help_at_80_columns(path):
    narrow = help_text(path, 80)
    assert "<bool>" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80
    broken = words(narrow) - words(help_text(path, 1000))  # a word cut in two leaves pieces found nowhere else
    assert not broken, f"words broken across lines: {sorted(broken)}"


def test_reflow_joins_paragraph_lines_but_keeps_lists_and_examples():
    text = "First line\n    goes on.\n\n    Second\n    paragraph.\n\n    - a\n    - b\n\n    $ gridchain x\n    output"
    assert reflow(text) == "First line goes on.\n\nSecond paragraph.\n\n- a\n- b\n\n$ gridchain x\noutput"


def test_brackets_in_help_are_printed():
    assert "([keys] dev_funding)" in " ".join(help_text(("init",), 1000).split())
