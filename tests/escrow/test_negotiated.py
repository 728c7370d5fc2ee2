"""The demo's negotiation (gridchain.escrow.negotiated): for any posted price, energy and seed every trade agrees
inside the listing's band and both private bounds; the deal's terms are both parties' agreed terms, field by field,
in the escrow's form; its keys are the fresh addresses'; its deadline is the delivery's end plus the margin; the
board's log holds no address, meter, agreed price or salt of it; seeded runs repeat and OS-drawn ones share
nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridchain.crypto.keys import address_of
from gridchain.escrow.model import ETH, INTERVAL_S
from gridchain.escrow.negotiated import (
    DELIVERY_MARGIN_S,
    LIST_BAND,
    Negotiation,
    quantised,
)
from gridchain.escrow.negotiation.model import CIPHERTEXT_SIZES, ENERGY_STEP_WH, TURNS, amount_of
from gridchain.escrow.negotiation.service.board import Board
from gridchain.store.engine import open_store, sqlite_url

NOW = 1_893_456_000
ARBITER = to_checksum_address("0x" + "a1" * 20)
METERS = [to_checksum_address("0x" + f"{j + 1:02x}" * 20) for j in range(2)]
COIN = "0x" + "c0" * 20


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    store = open_store(sqlite_url(tmp_path_factory.mktemp("board") / "board.db"))
    yield Board(store, clock=lambda: NOW)
    store.close()


def negotiation(board, seed: int | None, prices: int = 0) -> Negotiation:
    return Negotiation(board, ARBITER, METERS, lambda: NOW, seed, np.random.default_rng([prices, 21]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    posted=st.one_of(st.integers(1_000, 10**6), st.integers(10**12, 10**16)),
    energy=st.integers(1, 40_000),
    intervals=st.integers(1, 96),
    token=st.sampled_from([ETH, COIN]),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_trade_agrees_and_the_deal_is_both_sides_terms(board, posted, energy, intervals, token, seed):
    n = negotiation(board, None)  # OS keys: the module's board has seen every seeded one before
    n.prices = np.random.default_rng(seed)
    first = NOW // INTERVAL_S + 8
    deal = n(METERS[seed % 2], first, intervals, energy, token, posted)
    t, seller = deal.terms, n.sellers[METERS[seed % 2]]
    agreed = seller.agreed[-1]
    assert (t.buyer, t.seller, t.arbiter, t.meter) == (agreed.buyer, agreed.seller, ARBITER, METERS[seed % 2])
    assert (t.amount, t.first_interval, t.intervals, t.energy_wh) == (
        agreed.amount,
        first,
        intervals,
        quantised(energy),
    )
    assert t.deadline == agreed.deadline == (first + intervals) * INTERVAL_S + DELIVERY_MARGIN_S
    assert "0x" + t.salt.hex() == agreed.salt and to_checksum_address(t.token) == to_checksum_address(token)
    assert (address_of(deal.buyer_key), address_of(deal.seller_key)) == (t.buyer, t.seller)
    assert t.amount == amount_of(deal.price_wei_per_kwh, t.energy_wh) and t.energy_wh % ENERGY_STEP_WH == 0
    low, high = (int(posted * f) for f in LIST_BAND)
    assert low <= deal.price_wei_per_kwh <= high
    assert deal.envelopes == TURNS and deal.envelope_bytes == (CIPHERTEXT_SIZES[0],)


def test_the_board_logs_nothing_of_the_deal_it_relays(tmp_path):
    store = open_store(sqlite_url(tmp_path / "board.db"))
    try:
        board = Board(store, clock=lambda: NOW)
        deal = negotiation(board, 5)(METERS[0], NOW // INTERVAL_S + 8, 4, 3_200, ETH, 10**15)
        seen = json.dumps(board.observations()).lower()
    finally:
        store.close()
    t = deal.terms
    secrets = [t.buyer, t.seller, t.meter, "0x" + t.salt.hex()]
    assert not [s for s in secrets if s.lower()[2:] in seen]
    assert str(deal.price_wei_per_kwh) not in seen and str(t.amount) not in seen
    assert '"listed"' in seen and seen.count('"posted"') == TURNS


def test_seeded_negotiations_repeat_and_os_drawn_ones_share_nothing(tmp_path):
    deals = []
    for run, seed in enumerate([9, 9, None]):
        store = open_store(sqlite_url(tmp_path / f"board{run}.db"))
        try:
            deals.append(
                negotiation(Board(store, clock=lambda: NOW), seed)(METERS[1], NOW // 900 + 8, 4, 2_000, ETH, 10**15)
            )
        finally:
            store.close()
    a, b, c = deals
    assert a == b
    assert not {a.terms.buyer, a.terms.seller, a.terms.salt} & {c.terms.buyer, c.terms.seller, c.terms.salt}
    assert c.price_wei_per_kwh == a.price_wei_per_kwh  # the prices come from the demo's seed, not the keys'
