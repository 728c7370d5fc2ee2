"""The call market (contracts/call_market.vy) through any gateway: a trader's sealed order (commit, then reveal),
the keeper's clear from the interval's events, and what the chain holds about an interval."""

from __future__ import annotations

import os
from dataclasses import dataclass

from gridchain.chain.client import ContractClient
from gridchain.chain.events import read_events
from gridchain.chain.gateway import Gateway, Receipt
from gridchain.market.clearing import ClearArgs, prepare_clear
from gridchain.market.model import Clearing, Committed, Order, Params, Revealed, commitment, pack, terms

CONTRACT = "call_market"


@dataclass(frozen=True)
class Sealed:
    """A trader's order for interval `interval` as committed: what it must keep (the salt) to reveal it."""

    interval: int
    order: Order
    salt: bytes
    commit_index: int


class CallMarketClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(cls, gateway: Gateway, owner: str, params: Params) -> tuple[CallMarketClient, Receipt]:
        p = params
        args = [p.interval_s, p.reveal_s, p.gate_s, p.horizon, p.zones, p.zone_fees, p.rule]
        return cls._deploy(gateway, owner, args)

    def params(self) -> Params:
        """The market's immutables, read from the chain."""
        names = ("INTERVAL_S", "REVEAL_S", "GATE_S", "HORIZON", "ZONES", "ZONE_FEES", "RULE")
        return Params(*(int(self.view(name)) for name in names))

    # -- a trader ----------------------------------------------------------------------------------------
    def commit(self, trader: str, interval: int, order: Order, salt: bytes | None = None) -> tuple[Sealed, Receipt]:
        """Commit `order` (its trader is `trader`) for `interval` with a fresh random salt unless given."""
        salt = os.urandom(32) if salt is None else salt
        c = commitment(self.address, interval, pack(order), salt)
        receipt = self._tx("commit", [interval, c], trader)
        (event,) = [e for e in receipt.events if e.name == "Committed"]
        return Sealed(interval, order, salt, int(event.args["index"])), receipt

    def reveal(self, trader: str, sealed: Sealed) -> Receipt:
        """Open a sealed order in its interval's reveal window."""
        args = [sealed.interval, sealed.commit_index, terms(sealed.order), sealed.salt]
        return self._tx("reveal", args, trader)

    # -- the keeper --------------------------------------------------------------------------------------
    def book(self, interval: int, start_block: int = 0) -> tuple[list[Committed], list[Revealed]]:
        """Interval `interval`'s Committed and Revealed events, in order."""
        committed, revealed = [], []
        for e in read_events(self.gateway, self.artifact, self.address, ("Committed", "Revealed"), start_block):
            if int(e.args["interval"]) != interval:
                continue
            if e.name == "Committed":
                committed.append(Committed(interval, int(e.args["index"]), bytes(e.args["commitment"])))
            else:
                a = e.args
                revealed.append(
                    Revealed(interval, int(a["index"]), int(a["commit_index"]), int(a["order"]), bytes(a["commitment"]))
                )
        return committed, revealed

    def prepare(self, interval: int, zone_fees: int, rule: int, start_block: int = 0) -> ClearArgs:
        """The clear's arguments for `interval` from the chain's events (the market's fees and rule given)."""
        committed, revealed = self.book(interval, start_block)
        return prepare_clear(self.address, interval, committed, revealed, zone_fees, rule)

    def clear(self, keeper: str, interval: int, args: ClearArgs) -> Receipt:
        return self._tx("clear", [interval, *args.as_args()], keeper)

    # -- reading -----------------------------------------------------------------------------------------
    def clearing(self, interval: int) -> Clearing:
        return Clearing(*self.view("clearings", interval))

    def cleared(self, interval: int) -> bool:
        return bool(self.view("cleared", interval))
