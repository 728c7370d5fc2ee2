"""contracts/call_market.vy and its twin side by side: every commit, reveal and clear goes to the twin first, then
to the contract (tests/support/mirrored.py), and both must agree on the outcome, the events, the ring words and
the stored clearing."""

from __future__ import annotations

import dataclasses

import boa

from gridchain.market.clearing import ClearArgs, prepare_clear
from gridchain.market.model import RING, CallMarketModel, MarketError, Params, commitment
from tests.market.harness_contract import GATE_S, HORIZON, INTERVAL_S, REVEAL_S, ZONE_FEES, ZONES, deploy
from tests.support.mirrored import Mirrored


class MirroredMarket(Mirrored):
    """A call market and its twin, with the events of every interval so far (the twin's, equal to the chain's)."""

    ERROR = MarketError
    EVENTS = ("Committed", "Revealed", "Cleared")

    def __init__(self, rule: int = 0, zone_fees: int = ZONE_FEES) -> None:
        params = Params(INTERVAL_S, REVEAL_S, GATE_S, HORIZON, ZONES, zone_fees, rule)
        self.c = deploy(rule=rule, zone_fees=zone_fees)
        self.model = CallMarketModel(params, str(self.c.address))
        self.params = params
        self.init_accounts()
        self.events = {}
        self.committed: dict[int, list] = {}
        self.revealed: dict[int, list] = {}

    def check(self, k: int) -> None:
        """The storage both sides expose for interval k: its ring words and its clearing."""
        assert self.c.commit_ring(k % RING) == self.model.commit_ring(k % RING)
        assert self.c.reveal_ring(k % RING) == self.model.reveal_ring(k % RING)
        assert tuple(self.c.clearings(k)) == self.model.clearings(k).as_tuple()
        assert self.c.cleared(k) == self.model.cleared(k)

    def _emitted(self, name: str, event) -> None:
        (chain,) = self.events[name]
        assert chain == {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}, (chain, event)

    def commit(self, sender: str, k: int, c: bytes) -> None:
        event, _ = self.mirror(
            sender, lambda: self.model.commit(sender.lower(), k, c, self.now), lambda: self.c.commit(k, c)
        )
        self._emitted("Committed", event)
        self.committed.setdefault(k, []).append(event)
        self.check(k)

    def reveal(self, sender: str, k: int, commit_index: int, terms: int, salt: bytes) -> None:
        event, _ = self.mirror(
            sender,
            lambda: self.model.reveal(sender.lower(), k, commit_index, terms, salt, self.now),
            lambda: self.c.reveal(k, commit_index, terms, salt),
        )
        self._emitted("Revealed", event)
        self.revealed.setdefault(k, []).append(event)
        self.check(k)

    def args(self, k: int) -> ClearArgs:
        committed, revealed = self.committed.get(k, []), self.revealed.get(k, [])
        return prepare_clear(self.model.market, k, committed, revealed, self.params.zone_fees, self.params.rule)

    def clear(self, k: int, args: ClearArgs, sender: str | None = None) -> None:
        sender = sender or str(boa.env.eoa)
        event, _ = self.mirror(
            sender,
            lambda: self.model.clear(k, *args.as_args(), now=self.now),
            lambda: self.c.clear(k, *args.as_args()),
        )
        self._emitted("Cleared", event)
        self.check(k)

    def commitment(self, trader: str, k: int, order: int, salt: bytes) -> bytes:
        return commitment(self.model.market, k, order, salt)
