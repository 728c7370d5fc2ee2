"""contracts/call_market.vy deployed on the embedded chain with a clock and the events each interval has logged,
so a test commits, reveals and clears in a few lines (the keeper's arguments come from tests/market/book.py)."""

from __future__ import annotations

import os

import boa

from tests.market.book import ClearArgs, commitment, order_word, prepare_clear
from tests.support.deployers import CONTRACTS, load
from tests.support.events import event_args

CONTRACT = CONTRACTS / "call_market.vy"
INTERVAL_S, REVEAL_S, GATE_S, HORIZON, ZONES = 900, 300, 60, 96, 2
FEES = (0, 20_000)  # [micro-coins per kWh] zone 0, zone 1
ZONE_FEES = FEES[0] | (FEES[1] << 32)


def deploy(
    interval_s=INTERVAL_S, reveal_s=REVEAL_S, gate_s=GATE_S, horizon=HORIZON, zones=ZONES, zone_fees=ZONE_FEES, rule=0
):
    return load(CONTRACT).deploy(interval_s, reveal_s, gate_s, horizon, zones, zone_fees, rule)


class Market:
    """A deployed call market, its clock and, per interval, the Committed and Revealed events seen so far."""

    def __init__(self, rule: int = 0, zone_fees: int = ZONE_FEES, **params) -> None:
        self.c = deploy(rule=rule, zone_fees=zone_fees, **params)
        self.zone_fees = zone_fees
        self.rule = rule
        self.interval_s = self.c.INTERVAL_S()
        self.lead_s = self.c.GATE_S() + self.c.REVEAL_S()
        self.gate_s = self.c.GATE_S()
        self.committed: dict[int, list[dict]] = {}
        self.revealed: dict[int, list[dict]] = {}

    # -- the clock ------------------------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return boa.env.evm.patch.timestamp

    def travel_to(self, t: int) -> None:
        assert t >= self.now, (t, self.now)
        if t > self.now:
            boa.env.time_travel(seconds=t - self.now)

    def start(self, k: int) -> int:
        return k * self.interval_s

    def reveal_open(self, k: int) -> int:
        return k * self.interval_s - self.lead_s

    def reveal_close(self, k: int) -> int:
        return k * self.interval_s - self.gate_s

    def next_interval(self) -> int:
        """An interval whose commits are still open now (two intervals ahead)."""
        return self.now // self.interval_s + 2

    # -- the calls --------------------------------------------------------------------------------------------
    def commit(self, trader: str, k: int, order_terms: int, salt: bytes | None = None) -> tuple[int, bytes]:
        """Commit `order_terms` of `trader`; returns (its index, its salt)."""
        salt = salt if salt is not None else os.urandom(32)
        c = commitment(self.c.address, k, order_word(trader, order_terms), salt)
        return self.commit_raw(trader, k, c), salt

    def commit_raw(self, sender: str, k: int, c: bytes) -> int:
        self.c.commit(k, c, sender=sender)
        (event,) = event_args(self.c, "Committed")
        self.committed.setdefault(k, []).append(event)
        return event["index"]

    def reveal(self, trader: str, k: int, commit_index: int, order_terms: int, salt: bytes) -> dict:
        self.c.reveal(k, commit_index, order_terms, salt, sender=trader)
        (event,) = event_args(self.c, "Revealed")
        self.revealed.setdefault(k, []).append(event)
        return event

    def book(self, k: int) -> ClearArgs:
        return prepare_clear(k, self.committed.get(k, []), self.revealed.get(k, []), self.zone_fees, self.rule)

    def clear(self, args: ClearArgs, keeper: str | None = None) -> dict:
        self.c.clear(*args.args(), sender=keeper or boa.env.eoa)
        (event,) = event_args(self.c, "Cleared")
        return event

    def trade(self, k: int, orders: list[tuple[str, int]]) -> ClearArgs:
        """Commit every (trader, terms) of `orders` for k, reveal them all, move to reveal_close(k) and return
        the keeper's arguments."""
        salts = [self.commit(trader, k, t)[1] for trader, t in orders]
        self.travel_to(self.reveal_open(k))
        for i, ((trader, t), salt) in enumerate(zip(orders, salts, strict=True)):
            self.reveal(trader, k, i, t, salt)
        self.travel_to(self.reveal_close(k))
        return self.book(k)
