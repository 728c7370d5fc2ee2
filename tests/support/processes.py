"""Process-level tests: run `gridchain` of this checkout as its own OS process, start its daemons and read their
JSON banners, stop them by PID (SIGTERM, exit code 0), find free ports, wait for a condition with a deadline.

The one place for these jobs: every process test imports them from here (the pilot folders they run on come
from tests/support/pilot.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

SRC = Path(__file__).resolve().parents[2] / "src"
T = TypeVar("T")


def gridchain_argv(*args: object) -> list[str]:
    """The argv that runs `gridchain ARGS` with this interpreter."""
    return [sys.executable, "-c", "from gridchain.cli import main; main()", *map(str, args)]


def gridchain_env(config: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for it: this checkout's sources first on the path, GRIDCHAIN_CONFIG only if `config`."""
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, **extra}
    env.pop("GRIDCHAIN_CONFIG", None)
    if config is not None:
        env["GRIDCHAIN_CONFIG"] = str(config)
    return env


def gridchain(*args: object, config: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `gridchain ARGS` to its end (stdout and stderr captured as text)."""
    env = gridchain_env(config)
    return subprocess.run(gridchain_argv(*args), env=env, capture_output=True, text=True, timeout=timeout)


def gridchain_json(*args: object, config: Path | None = None, timeout: float = 180) -> dict:
    """Run `gridchain ARGS --json`, which must exit 0; its answer."""
    p = gridchain(*args, "--json", config=config, timeout=timeout)
    assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr[-2000:])
    return json.loads(p.stdout)


def one_line_error(p: subprocess.CompletedProcess) -> str:
    """The error of a command that must have refused its input: exit 2, nothing on stdout, one line on stderr."""
    assert p.returncode == 2 and p.stdout == "" and p.stderr.count("\n") == 1, (p.returncode, p.stdout, p.stderr)
    return p.stderr.strip()


def start(*args: object, config: Path | None = None) -> subprocess.Popen:
    """Start `gridchain ARGS` as a process (stdout and stderr piped as text)."""
    return subprocess.Popen(
        gridchain_argv(*args), env=gridchain_env(config), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def done(p: subprocess.Popen, timeout: float = 120) -> tuple[str, str]:
    """Wait for a command started with `start` (to run several at once); it must exit 0. Its stdout and stderr."""
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, (p.args[3:], p.returncode, out, err[-2000:])
    return out, err


def read_banner(p: subprocess.Popen) -> dict:
    """A daemon's first stdout line, its JSON banner (started with --json); the daemon's stderr if it exited."""
    line = p.stdout.readline()
    if not line:
        p.wait(30)
        raise AssertionError(f"exited {p.returncode} before its banner: {p.stderr.read()[-2000:]}")
    return json.loads(line)


def stop(p: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 60) -> tuple[str, str]:
    """Stop a process by its PID with `sig`; it must exit 0. Its remaining stdout and stderr."""
    os.kill(p.pid, sig)
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, (p.args[3:], p.returncode, err[-2000:])
    return out, err


def kill(p: subprocess.Popen) -> None:
    """SIGKILL by PID if it still runs (a test's cleanup after a failure)."""
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()


@dataclass
class Processes:
    """A test's gridchain processes on one config: one-shot commands, and daemons by name, each stopped by its
    PID (`stop`, or `kill_all` at the end of a fixture)."""

    config: Path | None = None

    def __post_init__(self) -> None:
        self.daemons: dict[str, subprocess.Popen] = {}

    def run(self, *args: object, timeout: float = 180) -> subprocess.CompletedProcess:
        return gridchain(*args, config=self.config, timeout=timeout)

    def json(self, *args: object) -> dict:
        return gridchain_json(*args, config=self.config)

    def bad(self, *args: object) -> str:
        """The one-line error of a command that must refuse its input (exit 2)."""
        return one_line_error(self.run(*args))

    def start(self, name: str, *args: object) -> dict:
        """Start daemon `name` as `gridchain ARGS --json`; its banner."""
        self.daemons[name] = p = start(*args, "--json", config=self.config)
        return read_banner(p)

    def stop(self, name: str) -> tuple[str, str]:
        """SIGTERM daemon `name` by PID; it must exit 0. Its remaining stdout and stderr."""
        return stop(self.daemons.pop(name))

    def kill_all(self) -> None:
        for p in self.daemons.values():
            kill(p)


def json_lines(text: str) -> list[dict]:
    """A daemon's JSON log lines (other lines skipped)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def wait_until(check: Callable[[], T], timeout_s: float, what: str, interval_s: float = 0.25) -> T:
    """Call `check` until it returns something true (returned) or `timeout_s` passes (an AssertionError)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def free_port() -> int:
    """A port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(offsets: Iterable[int] = (0, 1)) -> int:
    """A base port p with p + k free now for every k of `offsets` (`init --port-base p` puts the utility at
    p, the relayer at p + 1, the V2V providers at p + 10 and 11, the central system at p + 20)."""
    offsets = tuple(offsets)
    for _ in range(200):
        base = free_port() - min(offsets)
        if base > 1024 and base + max(offsets) < 65536 and all(_free(base + k) for k in offsets):
            return base
    raise RuntimeError(f"no free ports at offsets {offsets}")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def rpc(url: str, method: str, params: list | None = None) -> object:
    """One JSON-RPC call (a node's answer, or its error raised as RuntimeError)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]
