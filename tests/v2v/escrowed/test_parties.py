"""The consumer and the providers on an in-process board (no chain): the honest run selects the lowest rate; what
a hostile board user does is dropped or refused: envelopes that do not open, a join after the deadline (no
invitation), an invitation from a key that is not the request's (no bid), a bid envelope replayed (refused as a
second bid from its key), a consumer that selects before the deadline."""

from __future__ import annotations

import os

import pytest
from eth_utils import keccak

from gridchain.crypto.keys import address_of
from gridchain.errors import InputError
from gridchain.escrow import TradeKey, local_board
from gridchain.escrow.model import domain
from gridchain.escrow.negotiation.model import CIPHERTEXT_SIZES
from gridchain.v2v.escrowed.model import Invite, seal
from gridchain.v2v.escrowed.parties import Consumer, Provider, requests, run

DOMAIN = domain(31337, "0x" + "ee" * 20)
OWNERS = [keccak(text=f"owner {i}") for i in range(4)]
METERS = [address_of(keccak(text=f"meter {i}")) for i in range(4)]
REGISTERED = {m.lower(): address_of(k) for m, k in zip(METERS, OWNERS, strict=True)}
ARBITER = address_of(keccak(text="arbiter"))
T0 = 1_900_000_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return float(self.now)


def owner_of(meter: str) -> str:
    return REGISTERED.get(meter.lower(), "0x" + "00" * 20)


@pytest.fixture
def market():
    clock = Clock()
    with local_board(clock) as board:
        consumer = Consumer(board, ARBITER, clock)
        rates = [250, 180, 220, 170]
        flaws = [None, None, None, "forged"]
        providers = [
            Provider(board, METERS[i], OWNERS[i], rates[i], DOMAIN, clock, flaw=flaws[i]) for i in range(len(rates))
        ]
        request = consumer.post(10_000, 256 * 8000, 4, 300, "0x" + "cc" * 20, T0 + 600, T0 + 9_000)
        yield board, clock, consumer, providers, request


def test_the_lowest_honest_rate_wins_and_the_forged_offer_is_refused(market):
    board, clock, consumer, providers, request = market
    run(consumer, providers)
    with pytest.raises(InputError, match="still open"):
        consumer.close(DOMAIN, owner_of)
    clock.now = request.bid_deadline
    out = consumer.close(DOMAIN, owner_of)
    assert out.winner.price_wei_per_kwh == 180 and out.winner.terms.meter == METERS[1]
    assert [why for _, why in out.refused] == ["offer not signed by the meter's owner"]
    assert len(out.losers) == 2 and len(consumer.joined) == 4
    assert out.winner.terms.buyer == consumer.account.address and out.winner.terms.arbiter == ARBITER
    assert out.winner.terms.seller == providers[1].keys[request.key][1].address  # a fresh payout address
    assert requests(board) == []  # the request is gone from the board at its deadline


def test_envelopes_that_do_not_open_are_dropped(market):
    board, clock, consumer, providers, request = market
    board.post(request.key, os.urandom(CIPHERTEXT_SIZES[0]))
    board.post(request.key, seal(TradeKey.fresh(), TradeKey.fresh().public, {"kind": "join"}))  # to another key
    run(consumer, providers[:1])
    assert len(consumer.dropped) == 2 and all("does not open" in d for d in consumer.dropped)
    clock.now = request.bid_deadline
    assert consumer.close(DOMAIN, owner_of).winner.terms.meter == METERS[0]


def test_a_join_after_the_deadline_gets_no_invitation(market):
    board, clock, consumer, providers, request = market
    clock.now = request.bid_deadline
    latecomer = TradeKey.fresh()
    board.post(request.key, seal(latecomer, request.key, {"kind": "join"}))
    consumer.step()
    assert consumer.joined == [] and board.fetch(latecomer.public) == []


def test_an_invitation_from_a_stranger_gets_no_bid(market):
    board, clock, consumer, providers, request = market
    provider = providers[0]
    provider.step(requests(board))  # it joins
    stranger = TradeKey.fresh()
    mailbox = provider.keys[request.key][0].public
    forged = Invite(address_of(keccak(text="thief")), ARBITER, T0 + 9_000).body()
    board.post(mailbox, seal(stranger, mailbox, forged))
    provider.step(requests(board))
    assert provider.offers == {}  # it bids only on the request key's invitation
    run(consumer, [provider])
    assert provider.offers[request.key][0].buyer == consumer.account.address


def test_a_replayed_bid_is_refused_as_a_second_bid_from_its_key(market):
    board, clock, consumer, providers, request = market
    run(consumer, providers[:2])
    bids = [ct for seq, ct in board.fetch(request.key) if len(ct) == CIPHERTEXT_SIZES[1]]
    assert len(bids) == 2
    board.post(request.key, bids[0])  # the board (or anyone) posts a bid again
    clock.now = request.bid_deadline - 1
    consumer.step()
    clock.now = request.bid_deadline
    out = consumer.close(DOMAIN, owner_of)
    assert [why for _, why in out.refused] == ["duplicate: this one-time key bid already"]
    assert out.winner.price_wei_per_kwh == 180
