"""A local pilot for process-level tests: `gridchain init` into a folder, the CLI as a subprocess, free ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from gridchain.cli import app

SRC = str(Path(__file__).resolve().parents[2] / "src")
runner = CliRunner()


def gridchain(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `gridchain ARGS` as its own process (the installed CLI's code from this tree)."""
    return subprocess.run(
        [sys.executable, "-c", "from gridchain.cli import main; main()", *args],
        env={**os.environ, "PYTHONPATH": SRC},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(*args: str) -> subprocess.Popen:
    """Start `gridchain ARGS` as a daemon process (stdout and stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from gridchain.cli import main; main()", *args],
        env={**os.environ, "PYTHONPATH": SRC},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def free_port_pair() -> int:
    """A port p with p and p + 1 free now (the utility's and the relayer's, from `init --port-base p`)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port > 65000:
                continue
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free ports")


def init_pilot(folder: Path, members: int = 2, port_base: int = 8700, rpc_url: str = "http://127.0.0.1:8545", **edits):
    """`gridchain init` (light keystores) into `folder`; `edits` replace `key = value` lines of the TOML
    (e.g. slot_length_s=12). Returns the config's path."""
    r = runner.invoke(
        app,
        ["init", str(folder), "--members", str(members), "--light-keystores", "--port-base", str(port_base)]
        + ["--rpc-url", rpc_url, "--json"],
    )
    assert r.exit_code == 0, r.output
    config = Path(json.loads(r.stdout)["config"])
    text = config.read_text()
    for key, value in edits.items():
        lines = text.splitlines()
        hits = [i for i, line in enumerate(lines) if line.startswith(f"{key} = ")]
        assert len(hits) == 1, key
        lines[hits[0]] = f"{key} = {value}"
        text = "\n".join(lines) + "\n"
    config.write_text(text)
    return config
