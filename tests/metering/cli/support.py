"""Running gridchain as a separate process from the tests, and a light pilot to run it on."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"


@dataclass(frozen=True)
class Cli:
    command: tuple[str, ...]
    env: dict


cli_env = {**os.environ, "PYTHONPATH": str(SRC)}
cli_env.pop("GRIDCHAIN_CONFIG", None)
cli = Cli((sys.executable, "-c", "from gridchain.cli import main; main()"), cli_env)


def run(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*cli.command, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=cli.env)


def cli_json(*args) -> dict:
    """Run a command that must succeed with --json; its output."""
    p = run(*args, "--json")
    assert p.returncode == 0, f"{args}: {p.stderr}"
    return json.loads(p.stdout)


def gridchain_process(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [*cli.command, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_pilot(folder: Path, rpc_url: str, ocpp_port: int) -> Path:
    """`gridchain init --light-keystores` into `folder`, on `rpc_url`, the central system on `ocpp_port`."""
    p = run("init", folder / "p", "--members", "0", "--light-keystores", "--rpc-url", rpc_url)
    assert p.returncode == 0, p.stderr
    config = folder / "p" / "gridchain.toml"
    text = re.sub(r'listen = "127.0.0.1:\d+"', f'listen = "127.0.0.1:{ocpp_port}"', config.read_text())
    config.write_text(text)
    return config
