"""The call market's events folded into what the Market page shows: per delivery interval its commits, its
reveals (bids and asks, from the revealed order words) and its clearing as the `Cleared` event logged it, and
where an interval not cleared stands at the chain's time (committing, revealing, to clear, or void: its
delivery ended uncleared). Pure: events in, records out; prices stay in micro-coins per kWh, energy in Wh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from gridchain.chain.gateway import Event
from gridchain.market.model import BUY, Cleared, Params

EVENTS = ("Committed", "Revealed", "Cleared")  # what the page reads of the market's history


@dataclass
class Interval:
    """Delivery interval `number` (k: it starts at k x INTERVAL_S, unix seconds) as the chain logged it."""

    number: int
    commits: int = 0
    bids: int = 0  # revealed buy orders (void ones included: the clear decides)
    asks: int = 0
    cleared: Cleared | None = None
    cleared_block: int | None = None
    cleared_tx: str | None = None
    last_block: int = 0  # the newest block with an event of this interval

    @property
    def reveals(self) -> int:
        return self.bids + self.asks

    def state(self, params: Params, now: int) -> str:
        """cleared; else at chain time `now` [s]: committing, revealing, to clear, or void (delivery over)."""
        if self.cleared is not None:
            return "cleared"
        if now < params.reveal_open(self.number):
            return "committing"
        if now < params.reveal_close(self.number):
            return "revealing"
        if now < params.start(self.number) + params.interval_s:
            return "to clear"
        return "void"


@dataclass
class Summary:
    """The market so far: intervals seen and cleared, the energy cleared [Wh] and the volume-weighted mean
    prices [micro-coin/kWh, exact fractions; None before any energy was cleared]."""

    intervals: int
    cleared: int
    volume_wh: int
    mean_buy_price: Fraction | None
    mean_sell_price: Fraction | None


@dataclass
class MarketDay:
    """Every interval the market's events name, by number."""

    intervals: dict[int, Interval] = field(default_factory=dict)

    def apply(self, event: Event) -> Interval | None:
        """Fold one event in; the interval it changed (None for an event the page does not read)."""
        if event.name not in EVENTS:
            return None
        args = event.args
        k = int(args["interval"])
        interval = self.intervals.setdefault(k, Interval(k))
        interval.last_block = max(interval.last_block, event.block)
        if event.name == "Committed":
            interval.commits += 1
        elif event.name == "Revealed":
            if int(args["order"]) & 1 == BUY:
                interval.bids += 1
            else:
                interval.asks += 1
        else:
            interval.cleared = Cleared(
                k,
                int(args["buy_price"]),
                int(args["sell_price"]),
                int(args["volume_wh"]),
                int(args["orders"]),
                bytes(args["book"]),
            )
            interval.cleared_block, interval.cleared_tx = event.block, event.tx_hash
        return interval

    def ordered(self) -> list[Interval]:
        """The intervals, oldest first."""
        return [self.intervals[k] for k in sorted(self.intervals)]

    def summary(self) -> Summary:
        cleared = [i.cleared for i in self.intervals.values() if i.cleared is not None]
        volume_wh = sum(c.volume_wh for c in cleared)

        def mean(price) -> Fraction | None:
            return None if volume_wh == 0 else Fraction(sum(price(c) * c.volume_wh for c in cleared), volume_wh)

        return Summary(
            len(self.intervals),
            len(cleared),
            volume_wh,
            mean(lambda c: c.buy_price),
            mean(lambda c: c.sell_price),
        )
