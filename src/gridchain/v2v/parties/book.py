"""What the chain says about the auctions: the contract's events folded into one record per auction, read
incrementally from a checkpoint (each poll reads only the blocks it has not seen, never from block 0 again).

The book is what a provider watches to find auctions to bid in, and what `gridchain v2v auctions` lists. It holds
no key and sends nothing; it trusts only the chain. It lives in memory: a restarted provider rebuilds it from the
chain (read-only, so idempotent; the provider's own sessions and settlements are in its store).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gridchain.chain.events import DEFAULT_MAX_RANGE, ChainReorganized, EventLog
from gridchain.chain.gateway import Event
from gridchain.v2v.client import V2VClient
from gridchain.v2v.model import ZERO

EVENTS = ("AuctionStarted", "BidPlaced", "AuctionEnded", "TradeClosed")


@dataclass
class Bid:
    provider: str
    rate_wei_per_kwh: int
    block: int


@dataclass
class AuctionRecord:
    """One auction from its start to its close, as its events tell it (addresses checksummed)."""

    consumer: str
    amount_wh: int
    start_rate_wei_per_kwh: int
    closing_time: int  # [s]
    deposit_wei: int
    min_collateral_wei: int
    started_block: int
    bids: list[Bid] = field(default_factory=list)
    winner: str | None = None  # set when it ended with a bid
    token: bytes | None = None
    ended: bool = False
    closed: bool = False  # settled or expired, or ended without a bid
    delivered_wh: int | None = None  # from TradeClosed
    to_provider_wei: int | None = None
    to_consumer_wei: int | None = None

    @property
    def rate_wei_per_kwh(self) -> int:
        """The rate a new bid must undercut: the lowest bid's, else the start rate."""
        return self.bids[-1].rate_wei_per_kwh if self.bids else self.start_rate_wei_per_kwh

    @property
    def leader(self) -> str | None:
        return self.bids[-1].provider if self.bids else None

    def state(self, now: int) -> str:
        """bidding, to end (bidding closed, not ended), ended (trading: delivery and settlement), closed."""
        if self.closed:
            return "closed"
        if self.ended:
            return "ended"
        return "bidding" if now < self.closing_time else "to end"

    def to_json(self, now: int) -> dict:
        return {
            "consumer": self.consumer,
            "state": self.state(now),
            "amount_wh": self.amount_wh,
            "start_rate_wei_per_kwh": self.start_rate_wei_per_kwh,
            "rate_wei_per_kwh": self.rate_wei_per_kwh,
            "closing_time": self.closing_time,
            "deposit_wei": self.deposit_wei,
            "min_collateral_wei": self.min_collateral_wei,
            "started_block": self.started_block,
            "bids": [vars(b) for b in self.bids],
            "winner": self.winner,
            "token": "0x" + self.token.hex() if self.token else None,
            "delivered_wh": self.delivered_wh,
            "to_provider_wei": self.to_provider_wei,
            "to_consumer_wei": self.to_consumer_wei,
        }


class AuctionBook:
    """Every auction seen, oldest first; `open` is each consumer's latest auction that has not closed."""

    def __init__(self) -> None:
        self.auctions: list[AuctionRecord] = []
        self.open: dict[str, AuctionRecord] = {}  # consumer (lower case) -> its unclosed auction

    def apply(self, event: Event) -> AuctionRecord | None:
        """Fold one event in; returns the auction it concerns (None: an auction started before the book did)."""
        args = event.args
        consumer = args["consumer"]
        if event.name == "AuctionStarted":
            record = AuctionRecord(
                consumer,
                args["amount_wh"],
                args["start_rate_wei_per_kwh"],
                args["closing_time"],
                args["deposit_wei"],
                args["min_collateral_wei"],
                event.block,
            )
            self.auctions.append(record)
            self.open[consumer.lower()] = record
            return record
        record = self.open.get(consumer.lower())
        if record is None:
            return None
        if event.name == "BidPlaced":
            record.bids.append(Bid(args["provider"], args["rate_wei_per_kwh"], event.block))
        elif event.name == "AuctionEnded":
            record.ended = True
            if args["provider"].lower() == ZERO:
                self._close(record)
            else:
                record.winner, record.token = args["provider"], bytes(args["token"])
        elif event.name == "TradeClosed":
            record.delivered_wh = args["delivered_wh"]
            record.to_provider_wei, record.to_consumer_wei = args["to_provider_wei"], args["to_consumer_wei"]
            self._close(record)
        return record

    def _close(self, record: AuctionRecord) -> None:
        record.closed = True
        self.open.pop(record.consumer.lower(), None)


class EventReader:
    """The contract's auction events folded into `book` as they arrive: an `EventLog` reads them (from its
    checkpoint, `max_blocks` blocks per log query, `confirmations` below the head, reorganisations detected);
    a reorganisation below what was read makes it read the history afresh into a new book."""

    def __init__(
        self, client: V2VClient, from_block: int, confirmations: int = 0, max_blocks: int = DEFAULT_MAX_RANGE
    ) -> None:
        self.client = client
        self._log = (from_block, max_blocks, confirmations)
        self._restart()

    def _restart(self) -> None:
        from_block, max_blocks, confirmations = self._log
        c = self.client
        self.log = EventLog(c.gateway, c.artifact, c.address, EVENTS, from_block, max_blocks, confirmations)
        self.book = AuctionBook()

    @property
    def checkpoint(self) -> int:
        """The next block to read."""
        return self.log.checkpoint + 1

    def poll(self) -> list[tuple[Event, AuctionRecord | None]]:
        """The events that arrived since the last poll, each with the auction it changed."""
        try:
            new = self.log.sync()
        except ChainReorganized:
            self._restart()
            new = self.log.sync()
        self.log.events.clear()  # the book keeps what matters of them
        return [(e, self.book.apply(e)) for e in new]

    def catch_up(self) -> None:
        """Read up to the head (a first read of a long history, page by page)."""
        self.poll()
