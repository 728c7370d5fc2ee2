"""A call market's interval driven through the twin: traders commit, reveal (honestly or not), the keeper clears."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils import keccak

from gridchain.market.clearing import ClearArgs, prepare_clear
from gridchain.market.model import CallMarketModel, Cleared, Committed, Order, Params, Revealed, commitment, terms

K = 2_000_000  # an interval in 2027 (15-minute intervals since 1970)
MARKET = "0x" + "ca11" * 10


def zone_fees(*per_zone: int) -> int:
    """The packed fees [micro-coin/kWh], zone z at bits 32z.."""
    return sum(f << (32 * z) for z, f in enumerate(per_zone))


PARAMS = Params(interval_s=900, reveal_s=300, gate_s=300, horizon=4, zones=3, zone_fees=zone_fees(10, 25, 0))


def trader(n: int) -> str:
    return "0x" + format(0xA11CE000 + n, "040x")


def salt(n: int) -> bytes:
    return keccak(text=f"gridchain market test salt {n}")


def order(n: int, price: int, energy_wh: int, side: int, zone: int = 0) -> Order:
    return Order(trader(n), price, energy_wh, zone, side)


@dataclass
class Interval:
    """One interval's events as the twin emitted them, and the times of its phases."""

    model: CallMarketModel
    k: int = K
    committed: list[Committed] = field(default_factory=list)
    revealed: list[Revealed] = field(default_factory=list)

    @property
    def commit_time(self) -> int:
        return self.model.params.reveal_open(self.k) - 1

    @property
    def reveal_time(self) -> int:
        return self.model.params.reveal_open(self.k)

    @property
    def clear_time(self) -> int:
        return self.model.params.reveal_close(self.k)

    def commit(self, o: Order, s: bytes) -> Committed:
        event = self.model.commit(o.trader, self.k, commitment(self.model.market, self.k, o, s), self.commit_time)
        self.committed.append(event)
        return event

    def reveal(self, o: Order, s: bytes, commit_index: int, sender: str | None = None) -> Revealed:
        sender = o.trader if sender is None else sender
        event = self.model.reveal(sender, self.k, commit_index, terms(o), s, self.reveal_time)
        self.revealed.append(event)
        return event

    def args(self) -> ClearArgs:
        p = self.model.params
        return prepare_clear(self.model.market, self.k, self.committed, self.revealed, p.zone_fees, p.rule)

    def clear(self, args: ClearArgs | None = None, now: int | None = None) -> Cleared:
        args = self.args() if args is None else args
        return self.model.clear(self.k, *args.as_args(), now=self.clear_time if now is None else now)


def honest(orders: list[Order], params: Params = PARAMS, k: int = K) -> Interval:
    """Every order committed with its own salt, then revealed at its own index."""
    interval = Interval(CallMarketModel(params, MARKET), k)
    for n, o in enumerate(orders):
        interval.commit(o, salt(n))
    for n, o in enumerate(orders):
        interval.reveal(o, salt(n), n)
    return interval


BOOK = [
    order(1, 300, 2_000, 0),
    order(2, 280, 1_500, 0, zone=1),
    order(3, 240, 1_000, 0),
    order(4, 200, 1_000, 1),
    order(5, 230, 2_000, 1, zone=1),
    order(6, 260, 1_500, 1, zone=2),
]
