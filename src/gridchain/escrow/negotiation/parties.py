"""The negotiators: a seller lists offers and answers bids, a buyer bids on listings and answers counters, each
with a new one-time key and a new Ethereum account per trade; both end with the same `Terms` for the escrow.

The parties are driven by `step()` (fetch the mailboxes, answer each envelope at once), so a thread alternates
buyer, seller, buyer... for exactly TURNS envelopes. A seller accepts one buyer at a time per offer (the others are
rejected while it waits for a confirmation, which must come before the terms' deadline); the seller concedes
halfway towards the bid, never below its reserve; the buyer raises halfway towards the ask, never above its limit.
Reserve and limit are private: they travel in no listing and change no envelope's size or count. A party stops
polling a mailbox once its trade is over (see the package docstring: polls link).

Layer `parties` of escrow/negotiation: imports its model and the kernel; reaches the board through `BoardPort`,
which both the board and its HTTP client fill.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from eth_account.signers.local import LocalAccount

from gridchain.checks import parse_address
from gridchain.errors import InputError
from gridchain.escrow.negotiation.model import (
    ETH,
    Listing,
    Terms,
    Thread,
    TradeKey,
    advance,
    allowed,
    amount_of,
    fresh_account,
    open_envelope,
    seal,
)

DEADLINE_S = 3600  # the escrow must be opened within this of the agreement [s]
LISTING_TTL_S = 6 * 3600  # a listing's default life [s]
BID_MARGIN_S = 600  # a buyer bids on no listing that expires sooner than this [s]


class BoardPort(Protocol):
    """What the parties need of the board (the in-process `Board` and the HTTP `BoardClient` both have it)."""

    def post_offer(self, listing: Listing) -> Listing: ...

    def offers(self, community: str) -> list[Listing]: ...

    def post(self, mailbox: str, ciphertext: bytes) -> int: ...

    def fetch(self, mailbox: str, after: int = 0) -> list[tuple[int, bytes]]: ...


@dataclass
class _Party:
    """What both negotiators share: the board, the community and its arbiter, where keys and accounts come from."""

    board: BoardPort
    community: str
    arbiter: str
    rng: random.Random | None = None
    clock: Callable[[], float] = time.time
    new_key: Callable[[], TradeKey] | None = None  # the default draws a fresh key per trade; tests inject leaks
    new_account: Callable[[], LocalAccount] | None = None  # the default draws a fresh account per trade
    agreed: list[Terms] = field(default_factory=list)
    accounts: dict[str, LocalAccount] = field(default_factory=dict)  # the fresh addresses' keys, for the escrow
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (field, reason) of envelopes refused

    def __post_init__(self) -> None:
        self.arbiter = parse_address("arbiter", self.arbiter)

    def _key(self) -> TradeKey:
        return self.new_key() if self.new_key is not None else TradeKey.fresh(self.rng)

    def _account(self) -> LocalAccount:
        account = self.new_account() if self.new_account is not None else fresh_account(self.rng)
        self.accounts[account.address] = account
        return account

    def _send(self, key: TradeKey, to: str, thread: Thread, body: dict) -> Thread:
        body = {**body, "turn": thread.turn}
        after = advance(thread, body)  # our own message obeys the turns too
        self.board.post(to, seal(key, to, body))
        return after

    def _inbox(self, key: TradeKey, cursor: int) -> tuple[int, list[tuple[str, dict]]]:
        """The new envelopes of `key`'s mailbox, opened (those that do not open are dropped and noted)."""
        opened = []
        for seq, ciphertext in self.board.fetch(key.public, cursor):
            cursor = seq
            try:
                opened.append(open_envelope(key, ciphertext))
            except InputError as e:
                self.dropped.append((e.field, e.reason))
        return cursor, opened


@dataclass
class Offer:
    """A seller's offer: its listing, its one-time key and payout account, its private reserve, its threads."""

    listing: Listing
    key: TradeKey
    payout: LocalAccount
    reserve_wei_per_kwh: int
    cursor: int = 0
    threads: dict[str, Thread] = field(default_factory=dict)  # by the buyer's one-time key
    asks: dict[str, int] = field(default_factory=dict)  # the seller's standing ask in each thread
    buyers: dict[str, str] = field(default_factory=dict)  # each thread's buyer address, as its bid gave it
    held_by: str | None = None  # the buyer whose thread holds the offer (accepted, or agreed)
    terms: Terms | None = None  # once agreed
    closed: bool = False  # its mailbox is no longer polled


@dataclass
class Seller(_Party):
    """Lists offers of its meter's energy and answers the bids on them."""

    meter: str = ""  # required: the meter whose production the offers sell
    deadline_s: int = DEADLINE_S
    offers: list[Offer] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.meter = parse_address("meter", self.meter)

    def offer(
        self,
        energy_wh: int,
        first_interval: int,
        intervals: int,
        price_min_wei_per_kwh: int,
        price_max_wei_per_kwh: int,
        reserve_wei_per_kwh: int,
        token: str = ETH,
        expires: int | None = None,
    ) -> Listing:
        """List an offer under a new key; the seller accepts no price below `reserve_wei_per_kwh` (its secret)."""
        key = self._key()
        expires = int(self.clock()) + LISTING_TTL_S if expires is None else expires
        listing = Listing(
            key.public,
            self.community,
            energy_wh,
            first_interval,
            intervals,
            price_min_wei_per_kwh,
            price_max_wei_per_kwh,
            token,
            expires,
        )
        listed = self.board.post_offer(listing)
        self.offers.append(Offer(listed, key, self._account(), reserve_wei_per_kwh))
        return listed

    def step(self) -> int:
        """Answer every new envelope on every offer; how many were handled."""
        handled = 0
        for offer in self.offers:
            if offer.closed or self._close(offer):
                continue
            offer.cursor, inbox = self._inbox(offer.key, offer.cursor)
            for buyer, body in inbox:
                handled += self._answer(offer, buyer, body)
        return handled

    def _close(self, offer: Offer) -> bool:
        """Stop polling an offer's mailbox once its listing has expired and each of its threads is over (a
        mailbox polled after its trade would tie that trade to this party's next ones)."""
        offer.closed = self.clock() >= offer.listing.expires and all(t.over for t in offer.threads.values())
        return offer.closed

    def _answer(self, offer: Offer, buyer: str, body: dict) -> int:
        thread = offer.threads.get(buyer, Thread())
        try:
            if thread.turn == 0 and body.get("offer") != offer.key.public:
                raise InputError("offer", "is not this offer's key")
            thread = advance(thread, body)
        except InputError as e:
            self.dropped.append((e.field, e.reason))
            return 0
        if body["kind"] == "bid":
            offer.asks[buyer], offer.buyers[buyer] = offer.listing.price_max_wei_per_kwh, body["buyer"]
        if offer.held_by == buyer and body["kind"] == "confirm":
            if self.clock() <= thread.terms.deadline:
                offer.terms = thread.terms
                self.agreed.append(thread.terms)
            else:  # too late: the escrow could no longer be opened on these terms
                offer.held_by = None
        elif offer.held_by == buyer and thread.terms is None:
            offer.held_by = None  # the buyer countered or rejected our acceptance: the offer is free again
        offer.threads[buyer] = thread
        if not thread.over:
            offer.threads[buyer] = self._send(offer.key, buyer, thread, self._reply(offer, buyer, thread))
        return 1

    def _reply(self, offer: Offer, buyer: str, thread: Thread) -> dict:
        if thread.outcome != "open":
            return {"kind": "pad"}
        bid = thread.price or 0
        if offer.held_by not in (None, buyer):
            held = offer.threads[offer.held_by].terms
            if offer.terms is not None or held is None or self.clock() <= held.deadline:
                return {"kind": "reject", "reason": "the offer is taken"}
            offer.held_by = None  # a buyer that never confirmed holds the offer until its terms' deadline only
        worth = amount_of(bid, offer.listing.energy_wh) > 0  # an amount of 0 wei is no trade
        if worth and bid >= offer.reserve_wei_per_kwh and "accept" in allowed(thread):
            offer.held_by = buyer
            return {"kind": "accept", "terms": self._terms(offer, offer.buyers[buyer], thread.price or 0).to_json()}
        ask = max(offer.reserve_wei_per_kwh, (offer.asks[buyer] + bid) // 2)
        if "counter" in allowed(thread):
            offer.asks[buyer] = ask
            return {"kind": "counter", "price_wei_per_kwh": ask}
        return {"kind": "reject", "reason": "no agreement"}

    def _terms(self, offer: Offer, buyer: str, price: int) -> Terms:
        listing = offer.listing
        return Terms(
            buyer=buyer,
            seller=offer.payout.address,
            arbiter=self.arbiter,
            token=listing.token,
            amount=amount_of(price, listing.energy_wh),
            meter=self.meter,
            first_interval=listing.first_interval,
            intervals=listing.intervals,
            energy_wh=listing.energy_wh,
            deadline=int(self.clock()) + self.deadline_s,
            salt="0x" + (self.rng.randbytes(32) if self.rng is not None else secrets.token_bytes(32)).hex(),
        )


@dataclass
class Bid:
    """A buyer's bid on one listing: its one-time key and payment account, its private limit, its thread."""

    listing: Listing
    key: TradeKey
    payment: LocalAccount
    limit_wei_per_kwh: int
    price_wei_per_kwh: int  # the buyer's standing bid
    thread: Thread = field(default_factory=Thread)
    cursor: int = 0

    @property
    def terms(self) -> Terms | None:
        return self.thread.terms if self.thread.outcome == "agreed" else None


@dataclass
class Buyer(_Party):
    """Finds listings and bids on them, one new key and account per bid."""

    token: str = ETH  # the payment token it expects
    bids: list[Bid] = field(default_factory=list)

    def listings(self) -> list[Listing]:
        return self.board.offers(self.community)

    def bid(self, listing: Listing, price_wei_per_kwh: int, limit_wei_per_kwh: int) -> Bid:
        """Open a thread on `listing` at `price_wei_per_kwh`; the buyer pays no more than `limit_wei_per_kwh`. A
        listing that expires within BID_MARGIN_S is refused (its seller may stop listening before it answers)."""
        if listing.expires - self.clock() < BID_MARGIN_S:
            raise InputError("listing.expires", f"the listing expires within {BID_MARGIN_S} s")
        bid = Bid(listing, self._key(), self._account(), limit_wei_per_kwh, price_wei_per_kwh)
        body = {
            "kind": "bid",
            "offer": listing.key,
            "price_wei_per_kwh": price_wei_per_kwh,
            "buyer": bid.payment.address,
        }
        bid.thread = self._send(bid.key, listing.key, bid.thread, body)
        self.bids.append(bid)
        return bid

    def step(self) -> int:
        """Answer every new envelope on every bid; how many were handled."""
        handled = 0
        for bid in self.bids:
            if bid.thread.over or self.clock() >= bid.listing.expires + DEADLINE_S:
                continue  # done, or the seller never answered: its mailbox is no longer polled
            bid.cursor, inbox = self._inbox(bid.key, bid.cursor)
            for sender, body in inbox:
                handled += self._answer(bid, sender, body)
        return handled

    def _answer(self, bid: Bid, sender: str, body: dict) -> int:
        try:
            if sender != bid.listing.key:
                raise InputError("sender", "is not the offer's key")
            bid.thread = advance(bid.thread, body)
        except InputError as e:
            self.dropped.append((e.field, e.reason))
            return 0
        if not bid.thread.over:
            reply = self._reply(bid, body)
            bid.thread = self._send(bid.key, bid.listing.key, bid.thread, reply)
            if reply["kind"] == "confirm":
                self.agreed.append(bid.thread.terms)
        return 1

    def _reply(self, bid: Bid, body: dict) -> dict:
        thread = bid.thread
        if thread.outcome != "open":
            return {"kind": "pad"}
        if body["kind"] == "accept":
            why = self._refuse(bid, thread.terms)
            if why is None:
                return {"kind": "confirm", "terms_digest": thread.terms.digest()}
            return {"kind": "reject", "reason": why}
        ask = thread.price or 0
        if ask <= bid.limit_wei_per_kwh and "counter" in allowed(thread):
            bid.price_wei_per_kwh = ask
            return {"kind": "counter", "price_wei_per_kwh": ask}
        raised = min(bid.limit_wei_per_kwh, max(bid.price_wei_per_kwh, (bid.price_wei_per_kwh + ask) // 2))
        if "counter" in allowed(thread):
            bid.price_wei_per_kwh = raised
            return {"kind": "counter", "price_wei_per_kwh": raised}
        return {"kind": "reject", "reason": "no agreement"}

    def _refuse(self, bid: Bid, terms: Terms) -> str | None:
        """Why the seller's terms are not what was listed and bid (None: they are)."""
        listing = bid.listing
        expected = {
            "buyer": bid.payment.address,
            "arbiter": self.arbiter,
            "token": listing.token,
            "first_interval": listing.first_interval,
            "intervals": listing.intervals,
            "energy_wh": listing.energy_wh,
            "amount": amount_of(bid.price_wei_per_kwh, listing.energy_wh),
        }
        for name, value in expected.items():
            if getattr(terms, name) != value:
                return f"terms.{name} is not what was listed and bid"
        if listing.token != self.token:
            return "terms.token is not the token this buyer pays in"
        if terms.deadline <= self.clock():
            return "terms.deadline has passed"
        return None


def run(parties: Iterable[Seller | Buyer], max_rounds: int = 100) -> int:
    """Step every party until none has anything to answer; the rounds it took."""
    parties = list(parties)
    for rounds in range(1, max_rounds + 1):
        if sum(p.step() for p in parties) == 0:
            return rounds
    raise RuntimeError(f"the parties still talk after {max_rounds} rounds")
