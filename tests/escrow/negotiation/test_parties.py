"""The negotiators against any counterpart: Hypothesis draws the private bounds, the listing and the opening bid
(an in-memory board stands in: the parties need only the port); a seller that sends terms other than those
listed and bid is refused by the buyer, naming what differs."""

import random
from dataclasses import replace

from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.escrow.negotiation.model import TURNS, Listing, amount_of, check_ciphertext, open_envelope
from gridchain.escrow.negotiation.parties import Buyer, Seller, run

NOW = 1_800_000_000
ARBITER = to_checksum_address("0x" + "a1" * 20)


class MemoryBoard:
    """The board's port in memory: listings and mailboxes, nothing else."""

    def __init__(self) -> None:
        self.listings: list[Listing] = []
        self.boxes: list[tuple[str, bytes]] = []

    def post_offer(self, listing: Listing) -> Listing:
        self.listings.append(listing)
        return listing

    def offers(self, community: str) -> list[Listing]:
        return [o for o in self.listings if o.community == community]

    def post(self, mailbox: str, ciphertext: bytes) -> int:
        self.boxes.append((mailbox, check_ciphertext("ciphertext", ciphertext)))
        return len(self.boxes)

    def fetch(self, mailbox: str, after: int = 0) -> list[tuple[int, bytes]]:
        return [(i + 1, c) for i, (m, c) in enumerate(self.boxes) if m == mailbox and i + 1 > after]


def pair(seed: int):
    board, rng = MemoryBoard(), random.Random(seed)
    seller = Seller(board, "c1", ARBITER, rng=rng, clock=lambda: NOW, meter="0x" + "0e" * 20)
    return board, seller, Buyer(board, "c1", ARBITER, rng=rng, clock=lambda: NOW)


@settings(max_examples=150, deadline=None)
@given(
    low=st.integers(0, 10**6),
    width=st.integers(0, 10**6),
    reserve_at=st.floats(0, 1.5),
    limit_at=st.floats(-0.5, 1.5),
    opening_at=st.floats(0, 1),
    energy_steps=st.integers(1, 40),
)
def test_any_bounds_end_in_an_agreement_within_both_or_in_none(
    low, width, reserve_at, limit_at, opening_at, energy_steps
):
    board, seller, buyer = pair(low ^ width)
    high = low + width
    reserve, limit = int(low + reserve_at * width), max(0, int(low + limit_at * width))
    energy = energy_steps * 500
    listing = seller.offer(energy, 1, 4, low, high, reserve)
    bid = buyer.bid(listing, int(low + opening_at * (limit - low)) if limit > low else limit, limit)
    run([seller, buyer])
    assert len(board.boxes) == TURNS and bid.thread.over
    assert seller.agreed == buyer.agreed and len(seller.agreed) <= 1
    if seller.agreed:
        [terms] = seller.agreed
        assert amount_of(reserve, energy) <= terms.amount <= amount_of(limit, energy) and terms.amount > 0
    if limit >= high >= reserve and amount_of(reserve, energy) > 0:
        assert seller.agreed  # a buyer that would pay the listed maximum always gets the offer
    if limit < reserve:
        assert not seller.agreed


def test_a_buyer_refuses_terms_other_than_listed_and_bid_naming_what_differs():
    for name, value in (
        ("arbiter", "0x" + "bb" * 20),
        ("energy_wh", 1000),
        ("intervals", 9),
        ("deadline", NOW),
        ("buyer", "0x" + "cc" * 20),
    ):
        board, seller, buyer = pair(1)
        value = to_checksum_address(value) if isinstance(value, str) else value
        honest = seller._terms

        def crooked(offer, who, price, name=name, value=value, honest=honest):
            terms = replace(honest(offer, who, price), **{name: value})
            if name == "energy_wh":
                terms = replace(terms, amount=amount_of(price, value))  # consistent, but not what was listed
            return terms

        seller._terms = crooked
        bid = buyer.bid(seller.offer(5000, 1, 4, 100, 200, 100), 150, 200)
        run([seller, buyer])
        assert bid.thread.outcome == "rejected" and buyer.agreed == [] and seller.agreed == []
        said = [open_envelope(seller.offers[0].key, c)[1] for m, c in board.boxes if m == seller.offers[0].key.public]
        assert said[1] == {"kind": "reject", "turn": 2, "reason": f"terms.{name} is not what was listed and bid"} or (
            name == "deadline" and said[1]["reason"] == "terms.deadline has passed"
        )
