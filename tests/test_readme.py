"""Every `$ gridchain ...` line of the README's (and docs/operate.md's) console examples runs.

A ```console (or ```sh) block runs line by line in an empty folder, with `gridchain` on the PATH; a block
preceded by `<!-- readme-test: help ... -->` is only parsed (the command with `--help`: its options exist);
one preceded by `<!-- readme-test: node -->` runs with port 8545 moved to a free port, a line ending in `&`
started as a daemon and stopped by SIGTERM (exit code 0) after the block. The blocks marked
`<!-- readme-test: pilot -->` of one document are one tutorial: they run in order in one folder, their daemons
living on from block to block (ports 8545 and the `--port-base` 8700 moved to free ones, in `127.0.0.1:PORT`
too), all stopped by SIGTERM at the end, services first, the node last (`make pilot-test`: the tutorial's slots are
real seconds); their `curl` lines run too (against those services: use `curl -sf`, so that an error fails).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridchain.chain.anvil import free_port
from tests.support.processes import free_ports, gridchain_env

ROOT = Path(__file__).resolve().parents[1]
DOCS = [p for p in (ROOT / "README.md", ROOT / "docs/operate.md") if p.exists()]
FENCE = re.compile(r"^```(console|sh)\s*$")
MARK = re.compile(r"^<!--\s*readme-test:\s*(\w+)")
MODES = ("run", "help", "node", "pilot")
SERVICE_PORTS = (0, 1, 9, 10, 11, 20)  # what `init --port-base B` puts services on: B + these


@dataclass
class Block:
    doc: str
    line: int
    mode: str
    commands: list[str]

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}:{self.mode}"


def blocks(path: Path) -> list[Block]:
    """The console blocks of a Markdown file, each with its mode and its `$` commands (continued lines joined)."""
    lines = path.read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        if not FENCE.match(line):
            continue
        before = [x for x in lines[:i] if x.strip()][-1:]
        mark = MARK.match(before[0]) if before else None
        mode = mark.group(1) if mark else "run"
        assert mode in MODES, f"{path.name}:{i + 1}: unknown readme-test mode {mode!r}"
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        out.append(Block(path.name, i + 1, mode, commands(lines[i + 1 : end])))
    return out


def commands(lines: list[str]) -> list[str]:
    """The `$ ` lines, each with the lines that continue it (an open quote, a trailing backslash)."""
    out: list[str] = []
    for line in lines:
        if out and not complete(out[-1]):
            out[-1] += "\n" + line
        elif line.startswith("$ "):
            out.append(line[2:])
    return out


def complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:  # an open quote
        return False
    return True


def runs_gridchain(command: str) -> bool:
    return re.search(r"(^|\|\s*)gridchain\b", command) is not None


ALL = [b for doc in DOCS for b in blocks(doc) if any(runs_gridchain(c) for c in b.commands)]


def test_the_docs_have_examples_of_every_mode():
    assert {b.mode for b in ALL} == set(MODES)
    assert sum(len(b.commands) for b in ALL) >= 12


@pytest.fixture
def shell(tmp_path):
    """Run a command line in an empty folder, `gridchain` being this checkout's."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "gridchain"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'from gridchain.cli import main; main()' \"$@\"\n")
    script.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = gridchain_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", COLUMNS="80")
    env.pop("GRIDCHAIN_CONFIG", None)

    def run(command: str, background: bool = False):
        argv = ["bash", "-c", f"exec {command}" if background else f"set -o pipefail; {command}"]
        if background:
            return subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=180)

    return run


def run_block(block: Block, run) -> None:
    daemons: list = []
    try:
        run_commands(block, run, daemons)
        stop(daemons)
    finally:
        kill(daemons)


def run_commands(block: Block, run, daemons: list) -> None:
    """Run a block's gridchain commands in order (and a tutorial's curl lines); a line ending in `&` starts a
    daemon, added to `daemons`."""
    for command in block.commands:
        if not (runs_gridchain(command) or (block.mode == "pilot" and command.startswith("curl "))):
            continue
        if command.rstrip().endswith("&"):
            daemon = run(command.rstrip()[:-1], background=True)
            banner = daemon.stdout.readline()  # a daemon prints its banner first, or exits
            assert banner, f"{command!r} did not start: {daemon.stderr.read()}"
            daemons.append((command, daemon))
            continue
        p = run(command)
        assert p.returncode == 0, f"{block.id}: {command!r} exited {p.returncode}: {p.stdout[-1000:]}{p.stderr[-2000:]}"


def stop(daemons: list) -> None:
    """SIGTERM to each daemon, the last started first (the node last); each must exit 0."""
    for command, daemon in reversed(daemons):
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0, f"{command!r}: {daemon.stderr.read()[-2000:]}"


def kill(daemons: list) -> None:
    for _, daemon in daemons:
        if daemon.poll() is None:
            daemon.kill()


def parses(command: str) -> None:
    """The command and its options exist: `--help` after them exits 0 (values are not checked)."""
    from gridchain.cli import app

    argv = shlex.split(command, comments=True)
    assert argv[0] == "gridchain", f"a help-only example must be a plain gridchain command: {command!r}"
    result = CliRunner().invoke(app, [*argv[1:], "--help"])
    assert result.exit_code == 0, f"{command!r}: {result.output[-1000:]}"


@pytest.mark.parametrize("block", [b for b in ALL if b.mode == "help"], ids=lambda b: b.id)
def test_long_examples_parse(block):
    for command in block.commands:
        parses(command)


@pytest.mark.parametrize("block", [b for b in ALL if b.mode == "run"], ids=lambda b: b.id)
def test_examples_run(block, shell):
    run_block(block, shell)


@pytest.mark.integration
@pytest.mark.parametrize("block", [b for b in ALL if b.mode == "node"], ids=lambda b: b.id)
def test_examples_with_a_node_run(block, shell):
    port = str(free_port())
    moved = Block(block.doc, block.line, block.mode, [c.replace("8545", port) for c in block.commands])
    run_block(moved, shell)


TUTORIALS = sorted({b.doc for b in ALL if b.mode == "pilot"})


@pytest.mark.pilot
@pytest.mark.parametrize("doc", TUTORIALS)
def test_a_tutorial_runs_block_after_block(doc, shell):
    node, base = str(free_port()), str(free_ports(SERVICE_PORTS))
    tutorial = [b for b in ALL if b.doc == doc and b.mode == "pilot"]
    daemons: list = []
    try:
        for block in tutorial:
            moved = [move_ports(c, node, base) for c in block.commands]
            run_commands(Block(block.doc, block.line, block.mode, moved), shell, daemons)
        stop(daemons)
    finally:
        kill(daemons)


def move_ports(command: str, node: str, base: str) -> str:
    """A tutorial's command with the node's port 8545 and the services' 8700 + k moved to `node` and `base` + k."""
    command = command.replace("8545", node).replace("--port-base 8700", f"--port-base {base}")
    for k in SERVICE_PORTS:
        command = command.replace(f"127.0.0.1:{8700 + k}", f"127.0.0.1:{int(base) + k}")
    return command


def test_a_tutorial_s_ports_are_moved():
    moved = move_ports("curl -sf http://127.0.0.1:8701/metrics http://127.0.0.1:8545 --port-base 8700", "9000", "9100")
    assert moved == "curl -sf http://127.0.0.1:9101/metrics http://127.0.0.1:9000 --port-base 9100"


def test_commands_are_parsed_with_their_continuation_lines():
    text = ['$ echo \'{"a": [', "  1]}' | gridchain schedule", '{"out": 1}', "$ gridchain x \\", "  --y", "out"]
    assert commands(text) == ["echo '{\"a\": [\n  1]}' | gridchain schedule", "gridchain x \\\n  --y"]
    assert runs_gridchain(commands(text)[0]) and not runs_gridchain("make demo   # gridchain")
