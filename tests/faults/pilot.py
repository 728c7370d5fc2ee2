"""The pilot the faults fall on: `gridchain node --state` (1 s blocks), `init`, `deploy all`, then utility, relayer,
keeper and indexer as daemons (each killable: tests/faults/harness.py), and the ESU wallets with their tokens. Slots are
30 s of real time, as in tests/pilot."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults.harness import Daemon, pilot_node
from tests.faults.invariants import chain
from tests.faults.workload import Esus, parallel
from tests.support.pilot import edit_toml
from tests.support.processes import gridchain, gridchain_json, wait_until

SLOT_S = 30  # as tests/pilot: room for a group of ESU processes and a restart within one slot on two busy cores
WORKERS, JOINERS = 10, 8  # wallets that send requests; wallets kept fresh, one per run, for the issuance check
SERVICES = {
    "utility": ("utility", "serve"),
    "relayer": ("relayer", "serve"),
    "keeper": ("keeper", "run"),
    "indexer": ("index", "run"),  # every deployed contract's events, with [index]'s default confirmations
}


@dataclass
class Pilot:
    config: Path
    daemons: dict[str, Daemon]
    esus: Esus
    start: int  # the coordinator's first slot's start [unix s]
    relayer_url: str
    joined: list[str] = field(default_factory=list)

    def slot_start(self, slot: int) -> float:
        return self.start + slot * SLOT_S

    def current_slot(self) -> int:
        return int((time.time() - self.start) // SLOT_S)

    def wait_for_slot(self, slot: int, into_s: float = 1.0) -> None:
        time.sleep(max(0.0, self.slot_start(slot) + into_s - time.time()))

    def next_joiner(self) -> str:
        joiner = next(w for w in self.esus.joiners if w not in self.joined)
        self.joined.append(joiner)
        return joiner

    def closed_past(self, slot: int, timeout_s: float) -> bool:
        """Wait until the keeper has closed `slot` (read on chain); whether it did in time."""
        try:
            wait_until(lambda: _next_to_close(self.config) > slot, timeout_s, f"the keeper to close slot {slot}", 2)
        except AssertionError:
            return False
        return True

    def heal(self) -> None:
        """Restart the services (SIGTERM, start): what a target not durable yet broke in them (a nonce run ahead
        of the chain's) must not count against the next target."""
        for name in SERVICES:
            self.daemons[name].stop()
            self.daemons[name].start()

    def stop(self) -> None:
        for daemon in reversed(self.daemons.values()):
            daemon.stop()


def _next_to_close(config: Path) -> int:
    try:
        return chain(config).next_slot_to_close
    except Exception:  # the node is being restarted: look again
        return -1


def _held(esus: Esus, wallet: str) -> int:
    """Tokens of the current epoch the wallet holds after asking for its quota (0 until the key is on chain)."""
    answer = esus.tokens(wallet)
    return answer["epochs"][0]["held"] if answer else 0


def start_pilot(folder: Path, quota: int) -> Pilot:
    """Node, deployment, services and funded wallets with their tokens; the daemons already started are stopped
    by the caller (`Pilot.stop`, or the returned daemons on failure)."""
    config, logs, base, node = pilot_node(folder)
    daemons = {"node": node}
    pilot = None
    try:
        url = daemons["node"].start()["url"]
        members = WORKERS + JOINERS
        init = ["init", config.parent, "--members", members, "--light-keystores", "--port-base", base, "--rpc-url", url]
        assert gridchain(*init, "--slot-length-s", SLOT_S).returncode == 0
        edit_toml(config, "quota", quota)
        deployed = gridchain_json("deploy", "all", config=config)["contracts"]
        for name, args in SERVICES.items():
            daemons[name] = Daemon(name, args, config, logs)
            daemons[name].start()
        wallets = [f"esu{i:02d}" for i in range(1, members + 1)]
        esus = Esus(config, wallets[:WORKERS], wallets[WORKERS:], quota)
        pilot = Pilot(config, daemons, esus, int(deployed["coordinator"]["args"][0]), f"http://127.0.0.1:{base + 1}")
        first = wait_until(lambda: _held(esus, esus.workers[0]), 60, "the utility's first epoch key on chain")
        assert first == quota, first
        for answer in parallel(esus.tokens, esus.workers[1:]):
            assert answer and answer["epochs"][0]["held"] == quota, (answer, esus.failures)
        return pilot
    finally:
        if pilot is None:
            for daemon in daemons.values():
                daemon.stop()
