"""A provider EV as a running program: it watches the chain for auctions, underbids those it can serve, and
settles each trade on chain once the consumer's receipts cover it (the HTTP side of the trade is the service).

How it bids (`BidPolicy`): an English reverse auction. While another provider holds the lowest bid of an auction
still open for bids, it bids `step_pm` per mille below that rate (at least 1 wei/kWh lower), never below its
reserve rate, and only if the energy fits its capacity next to what it already leads or has won. With
`step_pm = 1000` it bids its reserve at once. The provider with the lowest reserve wins.

With a store (`ProviderStore`) it is durable: `restore()` takes back the sessions, receipts, bids and
settlements of a previous run; a bid and a settlement are written before their transaction is sent, and a
settlement whose outcome is unknown (killed after sending) is looked up on chain before it is sent again, so a
trade is settled once. The auction book is rebuilt from the chain at start (read-only, idempotent).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gridchain.chain.events import read_events
from gridchain.chain.gateway import ChainRevert, Event
from gridchain.errors import Refused
from gridchain.v2v.parties.book import AuctionRecord, EventReader
from gridchain.v2v.parties.ev import ProviderEV, Session
from gridchain.v2v.parties.provider_store import ProviderStore

FAILING_STEPS = 5  # a loop whose steps failed this many times in a row fails /health


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
    settled: set[bytes] = field(default_factory=set)  # tokens whose settlement is final (or being sent)
    unseen: dict[str, int] = field(default_factory=dict)  # consumer -> block of its own bid the book has not read
    store: ProviderStore | None = None  # None: in memory only (a restart forgets)
    sent: dict[bytes, int] = field(default_factory=dict)  # token -> head block: settle sent, outcome not recorded
    on_settle_sent: Callable[[bytes], None] | None = None  # a test hook: runs after a settle transaction is sent
    consecutive_errors: int = 0  # steps failed in a row (the node away): /health fails past FAILING_STEPS
    last_error: str | None = None

    @property
    def me(self) -> str:
        return self.provider.address

    def committed_wh(self, exclude: AuctionRecord | None = None) -> int:
        """Energy of the unclosed auctions it leads or has won [Wh]."""
        mine = (a for a in self.reader.book.open.values() if a is not exclude)
        return sum(a.amount_wh for a in mine if (a.winner or a.leader or "").lower() == self.me.lower())

    def restore(self) -> dict:
        """Take back what a previous run stored: sessions (with their best receipts) into the provider, the
        blocks of its last bids, the settlements sent whose outcome is not known (checked on chain before any
        is sent again). Returns what it restored (for the log)."""
        if self.store is None:
            return {}
        sessions = self.store.sessions()
        self.provider.sessions.update({s.token: s for s in sessions})
        self.unseen.update(self.store.last_bids())
        for token, settlement in self.store.settlements().items():
            if settlement.state == "sent":
                self.sent[token] = settlement.from_block
            else:
                self.settled.add(token)
        return {
            "sessions": len(sessions),
            "receipted_wh": sum(s.receipted_wh for s in sessions),
            "settlements_to_check": len(self.sent),
        }

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
                self.consecutive_errors = 0
            except Exception as e:  # noqa: BLE001 - a daemon logs and goes on
                self.consecutive_errors += 1
                self.last_error = f"{type(e).__name__}: {e}"[:300]
                self.log({"action": "error", "reason": self.last_error})
            stop.wait(poll_s)

    def health(self) -> dict:
        """Its loop's check for /health: failing once FAILING_STEPS steps in a row failed."""
        ok = self.consecutive_errors < FAILING_STEPS
        return {"ok": ok, "consecutive_errors": self.consecutive_errors, "last_error": self.last_error}

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
        bid_id = None if self.store is None else self.store.bidding(auction.consumer, rate, self._head())
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
        if bid_id is not None:
            self.store.bid_sent(bid_id, receipt.block, receipt.tx_hash)

    def _head(self) -> int:
        return self.provider.client.gateway.block_number()

    def _settle(self, now: int) -> None:
        for token, session in list(self.provider.sessions.items()):
            if token in self.settled or session.receipt is None:
                continue
            done = session.receipted_wh >= session.amount_wh
            if not done and now < session.expires_at - self.settle_margin_s:
                continue
            self._settle_one(session)

    def _settle_one(self, session: Session) -> None:
        """Settle with the session's best receipt, once: a settlement sent before (this run or the last) is
        first looked up on chain; the intent is stored before the transaction is sent, the outcome after."""
        token = session.token
        if token in self.sent and self._closed_on_chain(session):
            return
        if self.store is not None:
            self.sent.setdefault(token, self._head())
            self.store.settling(token, session.consumer, session.receipted_wh, self.sent[token])
        self.settled.add(token)  # a transport error below leaves it in `sent`: looked up at the next step
        try:
            receipt = self.provider.settle(token)
        except (ChainRevert, Refused) as e:  # the consumer settled first, or the trade expired
            self.log({"action": "settle refused", "consumer": session.consumer, "reason": e.reason})
            if token not in self.sent or not self._closed_on_chain(session):  # closed: its outcome is recorded
                self._finish(token, "refused", None, {"reason": e.reason})
            return
        except Exception:
            self.settled.discard(token)
            raise
        if self.on_settle_sent is not None:
            self.on_settle_sent(token)
        closed = receipt.named("TradeClosed")[0].args
        outcome = {
            "delivered_wh": closed["delivered_wh"],
            "to_provider_wei": closed["to_provider_wei"],
            "to_consumer_wei": closed["to_consumer_wei"],
        }
        self._finish(token, "settled", receipt.tx_hash, {**outcome, "by": "this provider", "block": receipt.block})
        self.log({"action": "settled", "consumer": session.consumer, **outcome, "tx_hash": receipt.tx_hash})

    def _finish(self, token: bytes, state: str, tx_hash: str | None, outcome: dict) -> None:
        self.settled.add(token)
        if self.store is not None:
            self.store.finished(
                token, state, tx_hash, {k: str(v) if isinstance(v, int) else v for k, v in outcome.items()}
            )
        self.sent.pop(token, None)

    def _closed_on_chain(self, session: Session) -> bool:
        """Whether the trade of a settlement sent before is closed on chain; then its outcome is recorded with the
        transaction that closed it and how: a `settle` with the receipt it holds (its own, or the consumer's with
        the same receipt: the event does not name the sender), a settle with another receipt, or `expire`.
        False if the trade is still open with this token (the transaction did not land: send again)."""
        client = self.provider.client
        if client.token(session.consumer) == session.token:
            return False
        from_block = self.sent[session.token]
        events = read_events(client.gateway, client.artifact, client.address, ("TradeClosed",), from_block)
        mine = [e for e in events if e.args["consumer"].lower() == session.consumer.lower()]
        if not mine:
            reason = f"the trade is closed, but no TradeClosed since block {from_block}"
            self._finish(session.token, "closed", None, {"reason": reason})
            self.log({"action": "settlement checked", "consumer": session.consumer, "reason": reason})
            return True
        event = mine[0]
        function, args = client.gateway.transaction_input(client.artifact, event.tx_hash)
        ours = function == "settle" and args.get("delivered_wh") == session.receipted_wh
        by = (
            "settle with its receipt" if ours else ("expire" if function == "expire" else "settle with another receipt")
        )
        outcome = {k: event.args[k] for k in ("delivered_wh", "to_provider_wei", "to_consumer_wei")}
        self._finish(session.token, "settled" if ours else "closed", event.tx_hash, {**outcome, "by": by})
        self.log(
            {
                "action": "settlement found on chain",
                "consumer": session.consumer,
                **outcome,
                "by": by,
                "tx_hash": event.tx_hash,
            }
        )
        return True

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
