"""The V2V contract's events folded into what the V2V page shows: each auction as `gridchain v2v auctions` sees it
(the parties' own `AuctionBook`, so the page and the command agree on state, rate, leader and winner), with what
the book leaves out: the transactions, the receipts posted on chain, how a trade closed, and which accounts an
event may have given pending returns to (read again from the node). Pure: events in, records out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gridchain.chain.gateway import Event
from gridchain.v2v.model import ZERO, cost
from gridchain.v2v.parties.book import EVENTS as BOOK_EVENTS
from gridchain.v2v.parties.book import AuctionBook, AuctionRecord

AUCTION_EVENTS = (*BOOK_EVENTS, "ReceiptPosted")
EVENTS = (*AUCTION_EVENTS, "EVAdded", "Withdrawn")  # what the page reads of the contract's history


@dataclass
class Step:
    """An event of an auction's life: what it says, where it is on chain."""

    what: str
    block: int
    tx: str
    delivered_wh: int | None = None  # a posted receipt's (cumulative) energy


@dataclass
class Trade:
    """One auction with its on-chain history; `number` is its place among all auctions, oldest first (1-based,
    as `gridchain v2v auctions --all` numbers them)."""

    number: int
    record: AuctionRecord
    steps: list[Step] = field(default_factory=list)
    bid_txs: list[str] = field(default_factory=list)  # the transaction of each of record.bids
    expired: bool | None = None  # from TradeClosed: closed by `expire`, not by a receipt
    last_block: int = 0

    @property
    def consumer(self) -> str:
        return self.record.consumer

    @property
    def outcome(self) -> str:
        """bidding, to end, ended (delivering), settled, expired, or no bid (state at the chain's `now` aside)."""
        r = self.record
        if not r.closed:
            return "ended" if r.ended else "open"
        if r.winner is None:
            return "no bid"
        return "expired" if self.expired else "settled"

    @property
    def price_wei(self) -> int | None:
        """What the energy delivered cost at the winning rate (paper Eq. 1), once the trade closed [wei]."""
        r = self.record
        return None if r.delivered_wh is None else cost(r.rate_wei_per_kwh, r.delivered_wh)

    def parties(self) -> list[str]:
        """The consumer and every bidder, first appearance first (checksummed)."""
        seen = {self.consumer.lower(): self.consumer}
        for b in self.record.bids:
            seen.setdefault(b.provider.lower(), b.provider)
        return list(seen.values())


class Market:
    """Every auction seen, oldest first, and every account the contract knows of (EVs admitted, bidders)."""

    def __init__(self) -> None:
        self.book = AuctionBook()
        self.trades: list[Trade] = []
        self._of: dict[int, Trade] = {}  # id(record) -> its trade
        self.accounts: dict[str, str] = {}  # lower case -> checksummed

    def apply(self, event: Event) -> set[str]:
        """Fold one event in; the accounts (lower case) whose pending returns or auction it may have changed."""
        args = event.args
        touched = {str(args[k]).lower() for k in ("consumer", "provider", "account", "ev") if k in args} - {ZERO}
        for key in ("consumer", "provider", "account", "ev"):
            if key in args and str(args[key]).lower() != ZERO:
                self.accounts.setdefault(str(args[key]).lower(), str(args[key]))
        if event.name not in AUCTION_EVENTS:
            return touched
        before = self.book.open.get(args["consumer"].lower())
        if before is not None and before.leader is not None:
            touched.add(before.leader.lower())  # an outbid leader's collateral became its pending return
        record = self.book.apply(event)
        if record is None:
            return touched
        trade = self._trade(record)
        self._step(trade, event)
        return touched

    def _trade(self, record: AuctionRecord) -> Trade:
        trade = self._of.get(id(record))
        if trade is None:
            trade = Trade(len(self.trades) + 1, record)
            self.trades.append(trade)
            self._of[id(record)] = trade
        return trade

    def _step(self, trade: Trade, event: Event) -> None:
        trade.last_block = event.block
        if event.name == "BidPlaced":
            trade.bid_txs.append(event.tx_hash)
            return
        delivered = event.args.get("delivered_wh")
        trade.steps.append(Step(event.name, event.block, event.tx_hash, delivered))
        if event.name == "TradeClosed":
            trade.expired = bool(event.args["expired"])

    def summary(self, now: int) -> dict[str, int]:
        """Auctions by state at chain time `now`, and the energy and value of the closed trades [Wh, wei]."""
        states = [t.record.state(now) for t in self.trades]
        closed = [t for t in self.trades if t.record.delivered_wh is not None]
        return {
            "auctions": len(self.trades),
            "bidding": states.count("bidding"),
            "to_end": states.count("to end"),
            "ended": states.count("ended"),
            "settled": sum(t.outcome == "settled" for t in self.trades),
            "expired": sum(t.outcome == "expired" for t in self.trades),
            "no_bid": sum(t.outcome == "no bid" for t in self.trades),
            "volume_wh": sum(t.record.delivered_wh or 0 for t in closed),
            "value_wei": sum(t.price_wei or 0 for t in closed),
        }
