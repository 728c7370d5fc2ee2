"""The consumer EV and the provider EVs of the auction through the escrow, over the negotiation's message board.

The consumer posts its request (a fresh one-time key and a fresh Ethereum address for this trade), invites every
provider that joins, collects the sealed bids until the bid deadline and selects (model.select). A provider joins
a request it can serve at its rate (its rate at most the ceiling), and on the invitation bids: a fresh one-time
key and payout address of its own, the Terms and its meter owner's offer signature. `flaw` makes a provider
hostile for demos and tests: "forged" signs with a key that is not its meter's owner, "late" bids only after the
deadline, "over" bids above the ceiling, "skewed" offers other intervals than the request's.

Layer `parties` of v2v/escrowed: its model, the kernel, crypto, and the escrow's package root (the board's port).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount

from gridchain.crypto import eip712
from gridchain.crypto.keys import Key, address_of, sign_digest
from gridchain.errors import InputError
from gridchain.escrow import BoardPort, Terms, TradeKey
from gridchain.v2v.escrowed.model import (
    COMMUNITY,
    Invite,
    Outcome,
    Received,
    Request,
    bid_body,
    check_request,
    open_envelope,
    parse_body,
    seal,
    select,
)
from gridchain.v2v.model import cost

FLAWS = ("forged", "late", "over", "skewed")


def _fresh(rng: random.Random | None) -> tuple[TradeKey, LocalAccount]:
    account = Account.create() if rng is None else Account.from_key(rng.randbytes(32))
    return TradeKey.fresh(rng), account


@dataclass
class Consumer:
    """The consumer EV: one request, its one-time key and fresh address, the envelopes it received."""

    board: BoardPort
    arbiter: str
    clock: Callable[[], float]
    rng: random.Random | None = None
    received: list[Received] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)  # the providers' one-time keys it invited
    dropped: list[str] = field(default_factory=list)  # why envelopes did not open
    cursor: int = 0

    def post(self, energy_wh: int, first_interval: int, intervals: int, ceiling_wei_per_kwh: int, token: str,
             bid_deadline: int, deadline: int) -> Request:  # fmt: skip
        """Post the request (and fix the invitation: its fresh address, the arbiter, the escrow's deadline)."""
        self.key, self.account = _fresh(self.rng)
        self.request = check_request(
            Request(self.key.public, energy_wh, first_interval, intervals, ceiling_wei_per_kwh, token, bid_deadline)
        )
        self.invite = Invite(self.account.address, self.arbiter, deadline)
        self.board.post_offer(self.request.listing())
        return self.request

    def step(self) -> int:
        """Fetch the mailbox: invite who joins, keep every other envelope with the time it came; how many."""
        now = int(self.clock())
        got = self.board.fetch(self.key.public, self.cursor)
        for seq, ciphertext in got:
            self.cursor = seq
            try:
                sender, body = open_envelope(self.key, ciphertext)
            except InputError as e:
                self.dropped.append(f"{e.field}: {e.reason}")
                continue
            if isinstance(body, dict) and body.get("kind") == "join":
                if now < self.request.bid_deadline and sender not in self.joined:
                    self.joined.append(sender)
                    self.board.post(sender, seal(self.key, sender, self.invite.body()))
                continue
            self.received.append(Received(sender, seq, now, body))
        return len(got)

    def close(self, domain: eip712.Domain, meter_owner: Callable[[str], str]) -> Outcome:
        """After the bid deadline: a last fetch, then the selection."""
        if self.clock() < self.request.bid_deadline:
            raise InputError("bid_deadline", "bidding is still open")
        self.step()
        return select(self.request, self.invite, self.received, domain, meter_owner)


@dataclass
class Provider:
    """A provider EV: its meter (owned by `owner_key`, the long-term key that signs offers) and its rate."""

    board: BoardPort
    meter: str
    owner_key: Key
    rate_wei_per_kwh: int
    domain: eip712.Domain  # the escrow's
    clock: Callable[[], float]
    rng: random.Random | None = None
    flaw: str | None = None
    offers: dict[str, tuple[Terms, bytes]] = field(default_factory=dict)  # by request key: what it bid
    keys: dict[str, tuple[TradeKey, LocalAccount]] = field(default_factory=dict)  # by request key
    cursors: dict[str, int] = field(default_factory=dict)
    pending: dict[str, Invite] = field(default_factory=dict)  # the "late" provider's invitations, not yet bid on

    def __post_init__(self) -> None:
        if self.flaw not in (None, *FLAWS):
            raise InputError("flaw", f"{self.flaw!r} is not one of {', '.join(FLAWS)}")

    def step(self, community_requests: list[Request]) -> int:
        """Join the requests it can serve (once each), bid on the invitations; how many messages it handled."""
        handled, now = 0, int(self.clock())
        for r in community_requests:
            if r.key in self.keys or now >= r.bid_deadline:
                continue
            if self.rate_wei_per_kwh > r.ceiling_wei_per_kwh and self.flaw != "over":
                continue  # it cannot serve the request at its rate
            self.keys[r.key] = _fresh(self.rng)
            self.cursors[r.key] = 0
            self.board.post(r.key, seal(self.keys[r.key][0], r.key, {"kind": "join"}))
            handled += 1
        for r in community_requests:
            handled += self._answer(r, now)
        return handled

    def late(self, r: Request) -> None:
        """The "late" provider's bid, posted now (after the deadline)."""
        self._bid(r, self.pending[r.key])

    def _answer(self, r: Request, now: int) -> int:
        if r.key not in self.keys or r.key in self.offers:
            return 0
        key, _ = self.keys[r.key]
        handled = 0
        for seq, ciphertext in self.board.fetch(key.public, self.cursors[r.key]):
            self.cursors[r.key] = seq
            handled += 1
            try:
                sender, body = open_envelope(key, ciphertext)
                invite = parse_body(body)
            except InputError:
                continue
            if sender != r.key or invite["kind"] != "invite":
                continue
            invite = Invite(invite["buyer"], invite["arbiter"], invite["deadline"])
            if self.flaw == "late":
                self.pending[r.key] = invite
            else:
                self._bid(r, invite)
        return handled

    def _bid(self, r: Request, invite: Invite) -> None:
        key, payout = self.keys[r.key]
        first = r.first_interval + (r.intervals if self.flaw == "skewed" else 0)
        salt = self.rng.randbytes(32) if self.rng is not None else random.SystemRandom().randbytes(32)
        terms = Terms(
            invite.buyer, payout.address, invite.arbiter, r.token, cost(self.rate_wei_per_kwh, r.energy_wh),
            self.meter, first, r.intervals, r.energy_wh, invite.deadline, salt,
        )  # fmt: skip
        signer = self.owner_key if self.flaw != "forged" else bytes(reversed(bytes(self.owner_key)))
        offer = sign_digest(signer, eip712.digest(self.domain, terms))
        self.offers[r.key] = (terms, offer)
        self.board.post(r.key, seal(key, r.key, bid_body(self.rate_wei_per_kwh, terms, offer)))

    def payout_key(self, r: Request) -> bytes:
        """The fresh payout address's key for request `r` (it claims with it)."""
        return bytes(self.keys[r.key][1].key)

    @property
    def owner(self) -> str:
        return address_of(self.owner_key)


def requests(board: BoardPort) -> list[Request]:
    """The open requests on the board."""
    return [Request.of(listing) for listing in board.offers(COMMUNITY)]


def run(consumer: Consumer, providers: list[Provider], max_rounds: int = 20) -> int:
    """Step the consumer and the providers until nobody has anything to answer; the rounds it took."""
    for rounds in range(1, max_rounds + 1):
        open_requests = requests(consumer.board)
        moved = consumer.step() + sum(p.step(open_requests) for p in providers)
        if moved == 0:
            return rounds
    raise RuntimeError(f"the parties still talk after {max_rounds} rounds")
