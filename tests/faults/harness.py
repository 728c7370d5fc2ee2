"""The fault injector: daemons of a pilot started in their own process group with their output in files, killed
with SIGKILL (the whole group: `gridchain node` takes its anvil along) and restarted with the same command; a
`Chaos` schedule of kills drawn from a seed; the tally of kills, restarts and losses written to
results/faults.json (the issue's note and docs/results.md quote it).

Processes come from tests/support/processes.py (this checkout's `gridchain` argv and environment)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from tests.support.processes import free_ports, gridchain_argv, gridchain_env, wait_until

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(os.environ.get("FAULTS_OUT", ROOT / "results/faults.json"))
BANNER_S = 90  # a restart on two busy cores: interpreter, imports, keystores, the node's first answer


@dataclass
class Daemon:
    """One long-running `gridchain` command, in a process group of its own, its stdout and stderr in files."""

    name: str
    args: tuple[str, ...]
    config: Path
    logs: Path
    process: subprocess.Popen | None = None
    banner: dict = field(default_factory=dict)
    starts: int = 0

    def start(self) -> dict:
        """Start it and wait for its JSON banner (its first stdout line); the banner."""
        self.starts += 1
        out = self.logs / f"{self.name}.{self.starts}.out"
        err = self.logs / f"{self.name}.{self.starts}.err"
        with open(out, "w") as o, open(err, "w") as e:
            self.process = subprocess.Popen(
                gridchain_argv(*self.args, "--json"),
                env=gridchain_env(self.config),
                stdout=o,
                stderr=e,
                start_new_session=True,  # its own group: a kill reaches its children (anvil) too
            )
        self.banner = wait_until(lambda: self._banner(out, err), BANNER_S, f"{self.name}'s banner")
        return self.banner

    def _banner(self, out: Path, err: Path) -> dict | None:
        first = out.read_text().partition("\n")
        if first[1]:
            return json.loads(first[0])
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.process.returncode}: {err.read_text()[-2000:]}")
        return None

    def kill(self) -> None:
        """SIGKILL its whole process group, and wait until every member is gone (a node's port is then free)."""
        pid = self.process.pid
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(30)
        wait_until(lambda: not _group_alive(pid), 30, f"{self.name}'s process group to die", 0.05)

    def stop(self) -> None:
        """At the end: SIGTERM, then SIGKILL of the group if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()


def _group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process of group `pgid` remains."""
    return any(_pgid(pid) == pgid for pid in _pids())


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _pgid(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[2]) if fields[0] != "Z" else None


@dataclass(frozen=True)
class Kill:
    """One fault: SIGKILL daemon `target` at `at` (unix time), then restart it."""

    target: str
    at: float


def chaos(seed: int, target: str, kills: int, window: tuple[float, float], gap_s: float) -> list[Kill]:
    """`kills` moments drawn from `random.Random(seed)` in `window` (unix times), at least `gap_s` apart (the
    restart before the next kill needs that long). The same seed gives the same moments relative to the window."""
    rng = random.Random(f"{seed}/{target}")
    start, end = window
    span = end - start - gap_s * kills
    assert span > 0, f"a window of {end - start:.0f} s is too short for {kills} kills {gap_s} s apart"
    offsets = sorted(rng.uniform(0, span) for _ in range(kills))
    return [Kill(target, start + offset + gap_s * i) for i, offset in enumerate(offsets)]


@dataclass
class Injector:
    """Runs a list of kills in a thread of its own, restarting each target at once; what it did."""

    daemons: dict[str, Daemon]
    schedule: list[Kill]
    done: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Injector:
        self.thread.start()
        return self

    def join(self, timeout_s: float) -> None:
        self.thread.join(timeout_s)
        assert not self.thread.is_alive(), "the kills did not finish"
        assert not self.errors, self.errors
        assert len(self.done) == len(self.schedule), (self.done, self.schedule)

    def _run(self) -> None:
        for kill in self.schedule:
            time.sleep(max(0.0, kill.at - time.time()))
            try:
                daemon = self.daemons[kill.target]
                daemon.kill()
                killed = time.time()
                daemon.start()
            except Exception as e:  # reported by `join`: a run whose faults did not happen must not pass
                self.errors.append(f"{kill.target}: {e!r}")
                return
            self.done.append({"target": kill.target, "at": round(killed, 1), "down_s": round(time.time() - killed, 1)})


@dataclass
class Loss:
    """A broken invariant: which one, and what was lost."""

    invariant: str
    detail: str


def record(target: str, seed: int, kills: int, losses: list[Loss], expected: bool, checked: dict) -> dict:
    """Add one run to results/faults.json (per target: kills, restarts, losses with the broken invariant, and
    how much each run checked). Every kill is followed by a restart (a failed one fails the run)."""
    restarts = kills
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"targets": {}}
    entry = data["targets"].setdefault(target, {"kills": 0, "restarts": 0, "losses": 0, "runs": []})
    entry["kills"] += kills
    entry["restarts"] += restarts
    entry["losses"] += len(losses)
    entry["expected_durable"] = expected
    lost = [asdict(x) for x in losses]
    entry["runs"].append({"seed": seed, "kills": kills, "restarts": restarts, "checked": checked, "losses": lost})
    data["total"] = {k: sum(t[k] for t in data["targets"].values()) for k in ("kills", "restarts", "losses")}
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    return entry


PORT_OFFSETS = (0, 1, 10, 11, 20, 30)  # init's layout from --port-base (utility, relayer, V2V, OCPP), and the node


def pilot_node(folder: Path) -> tuple[Path, Path, int, Daemon]:
    """A fault pilot's layout in `folder`: its config's path, its logs folder (made), a free port base for
    `init --port-base`, and its node (`gridchain node --state`, 1 s blocks) as a Daemon, not started yet."""
    logs = folder / "logs"
    logs.mkdir(parents=True)
    base = free_ports(PORT_OFFSETS)
    config = folder / "pilot/gridchain.toml"
    node_args = ("node", "--port", str(base + 30), "--state", str(folder / "node-state.json"), "--block-time", "1")
    return config, logs, base, Daemon("node", node_args, config, logs)


def target(name: str, durable: dict[str, tuple[str, bool]]):
    """The pytest parameter of target `name`: a target whose service is not durable yet is expected to lose
    something (xfail, strict: the day it stops losing, the suite says so)."""
    daemon, ok = durable[name]
    marks = () if ok else pytest.mark.xfail(strict=True, reason=f"{daemon} is not durable yet")
    return pytest.param(name, marks=marks, id=name)
