"""A provider EV as a running program: it watches the chain for auctions, underbids those it can serve, and
settles each trade on chain once the consumer's receipts cover it (the HTTP side of the trade is the service).

How it bids (`BidPolicy`): an English reverse auction. While another provider holds the lowest bid of an auction
still open for bids, it bids `step_pm` per mille below that rate (at least 1 wei/kWh lower), never below its
reserve rate, and only if the energy fits its capacity next to what it already leads or has won. With
`step_pm = 1000` it bids its reserve at once. The provider with the lowest reserve wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gridchain.chain.gateway import ChainRevert, Event
from gridchain.errors import Refused
from gridchain.v2v.parties.book import AuctionRecord, EventReader
from gridchain.v2v.parties.ev import ProviderEV


@dataclass(frozen=True)
class BidPolicy:
    reserve_wei_per_kwh: int  # the lowest rate it sells at
    capacity_wh: int  # the most energy it commits to at once (auctions it leads or won, not yet closed)
    step_pm: int = 50  # how far below the current rate it bids [per mille of that rate]

    def rate(self, auction: AuctionRecord, me: str, committed_wh: int, now: int) -> int | None:
        """The rate to bid in `auction` now, or None: not open for bids, its own, already leading, too much
        energy, or the current rate is at or below the reserve."""
        if auction.state(now) != "bidding" or auction.consumer.lower() == me.lower():
            return None
        if (auction.leader or "").lower() == me.lower() or committed_wh + auction.amount_wh > self.capacity_wh:
            return None
        current = auction.rate_wei_per_kwh
        rate = max(self.reserve_wei_per_kwh, current - max(1, current * self.step_pm // 1000))
        return rate if rate < current else None


@dataclass
class ProviderDaemon:
    """One provider's loop: `step()` reads the new events, bids, settles and withdraws; `log` gets one dict per
    action. Its HTTP service (another thread) shares `provider`; the gateway must be thread-safe (LockedGateway)."""

    provider: ProviderEV
    reader: EventReader
    policy: BidPolicy
    log: Callable[[dict], None]
    settle_margin_s: int = 60  # settle a partly receipted trade this long before its token expires
    settled: set[bytes] = field(default_factory=set)
    unseen: dict[str, int] = field(default_factory=dict)  # consumer -> block of its own bid the book has not read

    @property
    def me(self) -> str:
        return self.provider.address

    def committed_wh(self, exclude: AuctionRecord | None = None) -> int:
        """Energy of the unclosed auctions it leads or has won [Wh]."""
        mine = (a for a in self.reader.book.open.values() if a is not exclude)
        return sum(a.amount_wh for a in mine if (a.winner or a.leader or "").lower() == self.me.lower())

    def step(self) -> None:
        arrived = self.reader.poll()
        for event, record in arrived:
            self._note(event, record)
        now = self.provider.client.gateway.now()
        for auction in list(self.reader.book.open.values()):
            self._bid(auction, now)
        self._settle(now)
        if arrived:
            self._withdraw()

    def run(self, stop: threading.Event, poll_s: float) -> None:
        """Step every `poll_s` seconds until `stop` is set; an error of one step is logged, not fatal (a node
        that restarts or a transaction that loses a race is retried at the next step)."""
        while not stop.is_set():
            try:
                self.step()
            except Exception as e:  # noqa: BLE001 - a daemon logs and goes on
                self.log({"action": "error", "reason": f"{type(e).__name__}: {e}"[:300]})
            stop.wait(poll_s)

    def _note(self, event: Event, record: AuctionRecord | None) -> None:
        if record is None or event.name not in ("AuctionStarted", "AuctionEnded"):
            return
        if event.name == "AuctionStarted":
            self.log(
                {
                    "action": "auction seen",
                    "consumer": record.consumer,
                    "amount_wh": record.amount_wh,
                    "start_rate_wei_per_kwh": record.start_rate_wei_per_kwh,
                    "closing_time": record.closing_time,
                }
            )
        elif (record.winner or "").lower() == self.me.lower():
            self.log({"action": "won", "consumer": record.consumer, "rate_wei_per_kwh": record.rate_wei_per_kwh})

    def _bid(self, auction: AuctionRecord, now: int) -> None:
        if self.unseen.get(auction.consumer.lower(), -1) >= self.reader.checkpoint:
            return  # its last bid here is not in the book yet (confirmations): it would underbid itself
        rate = self.policy.rate(auction, self.me, self.committed_wh(exclude=auction), now)
        if rate is None:
            return
        try:
            receipt = self.provider.bid(auction.consumer, rate)
        except ChainRevert as e:  # outbid in the meantime, or bidding closed: the next step sees why
            self.log(
                {"action": "bid refused", "consumer": auction.consumer, "rate_wei_per_kwh": rate, "reason": e.reason}
            )
            return
        self.log(
            {
                "action": "bid",
                "consumer": auction.consumer,
                "rate_wei_per_kwh": rate,
                "block": receipt.block,
                "gas": receipt.gas_used,
            }
        )
        self.unseen[auction.consumer.lower()] = receipt.block

    def _settle(self, now: int) -> None:
        for token, session in list(self.provider.sessions.items()):
            if token in self.settled or session.receipt is None:
                continue
            done = session.receipted_wh >= session.amount_wh
            if not done and now < session.expires_at - self.settle_margin_s:
                continue
            self.settled.add(token)
            try:
                closed = self.provider.settle(token).named("TradeClosed")[0].args
            except (ChainRevert, Refused) as e:  # the consumer settled first, or the trade expired
                self.log({"action": "settle refused", "consumer": session.consumer, "reason": e.reason})
                continue
            self.log(
                {
                    "action": "settled",
                    "consumer": session.consumer,
                    "delivered_wh": closed["delivered_wh"],
                    "to_provider_wei": closed["to_provider_wei"],
                    "to_consumer_wei": closed["to_consumer_wei"],
                }
            )

    def _withdraw(self) -> None:
        client = self.provider.client
        if client.pending_returns(self.me) == 0:
            return
        try:
            receipt = client.withdraw(self.me)
        except ChainRevert as e:
            self.log({"action": "withdraw refused", "reason": e.reason})
            return
        amount = receipt.named("Withdrawn")[0].args["amount_wei"]
        self.log({"action": "withdrew", "amount_wei": amount, "block": receipt.block})
