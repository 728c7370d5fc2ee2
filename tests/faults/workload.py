"""The load the faults fall on: ESU wallets (each `gridchain esu ...` its own process, as in tests/pilot) that
obtain their quota of tokens, send requests at the start of every slot, and follow them until the chain confirms
them. After every wallet command the harness reads the wallet's database for the tickets the relayer acknowledged
(an id in a 202 answer), so that the checks can ask the relayer about each of them at the end."""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select

from gridchain.coordination.parties import wallet_tables as tables
from gridchain.coordination.parties.wallet_state import DATABASE, OPEN, WalletState
from tests.support.processes import gridchain


def parallel(fn, items, workers: int = 3) -> list:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


@dataclass
class Esus:
    """The pilot's wallets: `workers` send requests; `joiners` are kept fresh, one per run, to ask for tokens
    only after the faults (a member whose first tokens come from a restarted issuer)."""

    config: Path
    workers: list[str]
    joiners: list[str]
    quota: int
    spent: dict[str, int] = field(default_factory=dict)
    tickets: dict[str, dict] = field(default_factory=dict)  # acknowledged ticket id -> wallet, request, slot
    failures: list[str] = field(default_factory=list)  # wallet commands that failed (a party was down)
    marks: dict[str, int] = field(default_factory=dict)  # requests each wallet had before this run

    def begin_run(self) -> None:
        """Start a run's books: its tickets, and the requests made from now on."""
        self.tickets.clear()
        self.marks = {w: len(self.state(w)["requests"]) for w in self.workers}

    def this_run(self, wallet: str) -> list[dict]:
        """The wallet's requests made in this run."""
        return [r for r in self.state(wallet)["requests"] if r["number"] > self.marks.get(wallet, 0)]

    @property
    def wallets(self) -> Path:
        return self.config.parent / "wallets"

    def run(self, *args: object) -> dict | None:
        """`gridchain ARGS --json`: its answer, or None (recorded) if it failed while a party was down."""
        p = gridchain(*args, "--json", config=self.config)
        if p.returncode != 0:
            self.failures.append(f"{' '.join(map(str, args[:2]))}: {p.stderr.strip()[-300:]}")
            return None
        return json.loads(p.stdout)

    def tokens(self, wallet: str) -> dict | None:
        return self.run("esu", "tokens", "--wallet", wallet)

    def state(self, wallet: str) -> dict:
        """The wallet's requests, tokens obtained per "community/epoch" and unused tokens, read from its database
        (as plain dicts; an ESU command may be writing it meanwhile: SQLite's WAL lets both go on)."""
        folder = self.wallets / wallet
        if not (folder / DATABASE).is_file():
            return {"requests": [], "obtained": {}, "tokens": []}
        state = WalletState.open(folder)
        try:
            rows = state.store.read(lambda c: c.execute(select(tables.obtained)).all())
            return {
                "requests": [asdict(r) for r in state.requests],
                "obtained": {f"{r.community}/{r.epoch}": r.count for r in rows},
                "tokens": [asdict(x) for x in state.tokens],
            }
        finally:
            state.close()

    def harvest(self, wallet: str) -> None:
        """Note every ticket the wallet holds for a request of this run: the relayer acknowledged each one."""
        for r in self.this_run(wallet):
            if r["ticket"]:
                self.tickets.setdefault(r["ticket"], {"wallet": wallet, "request": r["number"], "slot": r["slot"]})

    def request_group(self, size: int) -> list[str]:
        """`size` workers with tokens left each send one request for the current slot (in parallel)."""
        left = [w for w in self.workers if self.spent.get(w, 0) < self.quota]
        group = sorted(left, key=lambda w: self.spent.get(w, 0))[:size]
        assert group, "every worker's tokens are spent: more members or a larger quota"

        def request(wallet: str) -> None:
            self.spent[wallet] = self.spent.get(wallet, 0) + 1
            self.run("esu", "request", "--wallet", wallet, "--demand-kw", "7", "--soc-pct", "40", "--slots", "2")
            self.harvest(wallet)

        parallel(request, group)
        return group

    def open_wallets(self) -> list[str]:
        return [w for w in self.workers if any(r["status"] in OPEN for r in self.this_run(w))]

    def follow(self, timeout_s: float) -> list[str]:
        """`esu status` for every wallet with an open request until none is open or `timeout_s` passes (the
        wallets re-sign and resend what missed its slot); the wallets still open."""
        deadline = time.monotonic() + timeout_s

        def status(wallet: str) -> None:
            self.run("esu", "status", "--wallet", wallet)
            self.harvest(wallet)

        while (still := self.open_wallets()) and time.monotonic() < deadline:
            parallel(status, still)  # in turn, a pass over ten wallets on busy cores outlasts a slot
            time.sleep(2)
        return still

    def twin(self, wallet: str, name: str) -> str:
        """A second wallet with `wallet`'s identity (a member asking again with an empty wallet); its name."""
        folder = self.wallets / name
        folder.mkdir()
        shutil.copy2(self.wallets / wallet / "identity.json", folder / "identity.json")
        return name
