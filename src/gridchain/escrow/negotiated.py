"""The demo's negotiation (PriWatt's first step): each meter owner lists its energy on the message board under a
one-time key, a buyer bids on the listing from a one-time key of its own, they agree over sealed envelopes, and
the agreed terms (their fresh addresses, the price, the deadline, the salt) are what the escrow opens.

The seller lists between 0.8 and 1.2 times the posted price per kWh; its reserve (0.85 .. 1.05 times), the
buyer's opening bid (0.8 .. 1.0 times) and its limit (1.1 .. 1.2 times) are drawn from the seed and never leave
the parties, so every trade agrees (the seller's first counter is at most 1.1 times). The terms' deadline is the
escrow's: an hour after the delivery's last interval (the escrow is opened long before). The board is the
in-process `Board` or a running one over HTTP (`BoardClient`): the parties reach it through a `Counted` port,
which counts the envelopes posted and their sizes.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from eth_account.signers.local import LocalAccount

from gridchain.escrow.model import INTERVAL_S, Terms
from gridchain.escrow.negotiation.model import ENERGY_STEP_WH, Listing
from gridchain.escrow.negotiation.parties import BoardPort, Buyer, Seller, run

COMMUNITY = "escrow-demo"
LIST_BAND = (0.8, 1.2)  # the listing's price range, times the posted price
RESERVE = (0.85, 1.05)  # the seller's secret reserve, times the posted price
OPENING = (0.8, 1.0)  # the buyer's first bid, times the posted price
LIMIT = (1.1, 1.2)  # the buyer's secret limit, times the posted price
DELIVERY_MARGIN_S = 3_600  # the deadline: this long after the delivery's end [s]


def quantised(energy_wh: int) -> int:
    """A forecast rounded down to the listings' step (at least one step) [Wh]."""
    return max(ENERGY_STEP_WH, energy_wh // ENERGY_STEP_WH * ENERGY_STEP_WH)


@dataclass
class Counted:
    """A board port that counts what the parties post: envelopes and their sizes [bytes], listings."""

    board: BoardPort
    sizes: list[int] = field(default_factory=list)
    listings: int = 0

    def post_offer(self, listing: Listing) -> Listing:
        self.listings += 1
        return self.board.post_offer(listing)

    def offers(self, community: str) -> list[Listing]:
        return self.board.offers(community)

    def post(self, mailbox: str, ciphertext: bytes) -> int:
        self.sizes.append(len(ciphertext))
        return self.board.post(mailbox, ciphertext)

    def fetch(self, mailbox: str, after: int = 0) -> list[tuple[int, bytes]]:
        return self.board.fetch(mailbox, after)


@dataclass(frozen=True)
class Deal:
    """A negotiated trade: the escrow's terms, the fresh addresses' keys, and what the negotiation took."""

    terms: Terms
    buyer_key: bytes
    seller_key: bytes
    price_wei_per_kwh: int  # agreed (token units per kWh: wei for ETH, micro-coins for the coin)
    posted_wei_per_kwh: int
    rounds: int
    envelopes: int
    envelope_bytes: tuple[int, ...]  # the distinct sizes of its envelopes


class Negotiation:
    """The sellers (one per meter owner, each with its meter) and a new buyer per trade on `board`; `seed` None
    draws the one-time keys, accounts and salts from the OS (a shared board has seen the seeded ones before)."""

    def __init__(
        self,
        board: BoardPort,
        arbiter: str,
        meters: list[str],
        clock: Callable[[], float],
        seed: int | None,
        prices: np.random.Generator,
    ) -> None:
        self.port, self.clock, self.seed, self.prices = Counted(board), clock, seed, prices
        self.arbiter, self.trades = arbiter, 0
        self.sellers = {
            meter: Seller(self.port, COMMUNITY, arbiter, rng=self._rng("seller", j), clock=clock, meter=meter)
            for j, meter in enumerate(meters)
        }

    def _rng(self, *names: object) -> random.Random | None:
        return None if self.seed is None else random.Random(" ".join(map(str, ("negotiation", self.seed, *names))))

    def __call__(self, meter: str, first_interval: int, intervals: int, energy_wh: int, token: str,
                 posted_wei_per_kwh: int, buyer_account: LocalAccount | None = None) -> Deal:  # fmt: skip
        """List the energy (its seller's), bid on it, agree; the deal (raises RuntimeError without agreement). The
        buyer pays from `buyer_account` if given (one funded before the trade), else from a fresh one."""
        self.trades += 1
        seller = self.sellers[meter]
        drawn = (self.prices.uniform(*RESERVE), self.prices.uniform(*OPENING), self.prices.uniform(*LIMIT))
        low, high, reserve, opening, limit = (int(posted_wei_per_kwh * f) for f in (*LIST_BAND, *drawn))
        now = int(self.clock())
        seller.deadline_s = (first_interval + intervals) * INTERVAL_S + DELIVERY_MARGIN_S - now
        posted_before = len(self.port.sizes)
        listed = seller.offer(quantised(energy_wh), first_interval, intervals, low, high, reserve, token)
        given = None if buyer_account is None else lambda: buyer_account
        buyer = Buyer(self.port, COMMUNITY, self.arbiter, rng=self._rng("buyer", self.trades), clock=self.clock,
                      token=listed.token, new_account=given)  # fmt: skip
        if listed not in buyer.listings():  # the buyer finds it among the community's live listings
            raise RuntimeError(f"the board does not show the listing {listed.key}")
        bid = buyer.bid(listed, opening, limit)  # (c's listing of the same intervals is still live, and taken)
        rounds = run([seller, buyer])
        agreed = bid.terms
        if agreed is None or agreed not in seller.agreed:
            raise RuntimeError(f"no agreement on {meter}'s intervals {first_interval} .. (+{intervals})")
        sizes = self.port.sizes[posted_before:]
        terms = Terms(
            agreed.buyer, agreed.seller, agreed.arbiter, agreed.token, agreed.amount, agreed.meter,
            agreed.first_interval, agreed.intervals, agreed.energy_wh, agreed.deadline, bytes.fromhex(agreed.salt[2:]),
        )  # fmt: skip
        return Deal(
            terms,
            bytes(buyer.accounts[agreed.buyer].key),
            bytes(seller.accounts[agreed.seller].key),
            bid.price_wei_per_kwh,
            posted_wei_per_kwh,
            rounds,
            len(sizes),
            tuple(sorted(set(sizes))),
        )


@contextmanager
def local_board(clock: Callable[[], float]) -> Iterator[BoardPort]:
    """An in-process board on a temporary SQLite store, gone on exit (the store is imported only here: it is slow
    to import)."""
    from gridchain.escrow.negotiation.service.board import Board
    from gridchain.store.engine import open_store, sqlite_url

    with tempfile.TemporaryDirectory(prefix="gridchain-board-") as folder:
        store = open_store(sqlite_url(Path(folder) / "board.db"))
        try:
            yield Board(store, clock=clock)
        finally:
            store.close()
