"""Attacks on contracts/call_market.vy, by traders (attacker accounts) and by a dishonest keeper: what each tries and
the check that stops it. The last test shows a hole in spec v1 (a reveal's commit index is not bounded)."""

from __future__ import annotations

import boa
import pytest

from tests.market.book import ASK, BID, FLAG, commitment, effective_price, order_word, pack16, terms
from tests.market.harness_contract import ZONE_FEES, Market


def reason(text: str):
    return boa.reverts(f"call_market: {text}")


@pytest.fixture
def m():
    with boa.env.anchor():
        yield Market()


@pytest.fixture
def honest():
    return [boa.env.generate_address(f"honest{i}") for i in range(4)]


BOOK = [terms(300_000, 4_000, 0, BID), terms(200_000, 3_000, 1, ASK), terms(250_000, 2_000, 0, BID)]


def test_late_reveal_is_refused(m, honest, attacker):
    """A trader that waits to see the others' reveals and then reveals its own is refused at reveal_close."""
    k = m.next_interval()
    _, salt = m.commit(attacker.address, k, BOOK[0])
    m.travel_to(m.reveal_close(k))
    with reason("reveal closed"):
        m.reveal(attacker.address, k, 0, BOOK[0], salt)
    m.travel_to(m.start(k) + 1)
    with reason("reveal closed"):
        m.reveal(attacker.address, k, 0, BOOK[0], salt)


def test_copied_commitment_cannot_be_opened_by_the_copier(m, honest, attacker):
    """A front-runner copies an honest commitment (and later its opening, seen in the mempool): its copy opens
    nothing, its reveal of the honest terms is void, and the honest order trades as it would have."""
    k = m.next_interval()
    victim = honest[0]
    _, salt = m.commit(victim, k, BOOK[0])
    copied = m.committed[k][0]["commitment"]
    assert m.commit_raw(attacker.address, k, copied) == 1
    _, ask_salt = m.commit(honest[1], k, BOOK[1])
    m.travel_to(m.reveal_open(k))
    stolen = m.reveal(attacker.address, k, 1, BOOK[0], salt)  # the victim's terms and salt, its own account
    assert stolen["commitment"] != copied  # the trader is inside the order, so inside the commitment
    m.reveal(victim, k, 0, BOOK[0], salt)
    m.reveal(honest[1], k, 2, BOOK[1], ask_salt)
    m.travel_to(m.reveal_close(k))
    args = m.book(k)
    assert args.valid == [1, 2] and args.mismatched == [stolen["commitment"]]
    event = m.clear(args)
    assert (event["buy_price"], event["volume_wh"]) == ((300_000 + 220_000) // 2, 3_000)


def test_a_commitment_of_another_market_does_not_open_here(honest):
    """The market's address is in the commitment: an opening made for market A is void on market B."""
    with boa.env.anchor():
        a, b = Market(), Market()
        k = a.next_interval()
        _, salt = a.commit(honest[0], k, BOOK[0])
        b.commit_raw(honest[0], k, a.committed[k][0]["commitment"])  # replayed on B
        b.travel_to(b.reveal_open(k))
        e = b.reveal(honest[0], k, 0, BOOK[0], salt)
        assert e["commitment"] == commitment(b.c.address, k, order_word(honest[0], BOOK[0]), salt)
        assert e["commitment"] != a.committed[k][0]["commitment"]
        b.travel_to(b.reveal_close(k))
        assert b.book(k).valid == []


def test_keeper_cannot_omit_an_order(m, honest):
    k = m.next_interval()
    args = m.trade(k, list(zip(honest, BOOK, strict=False)))
    bids, asks = args.bids, args.asks
    args.bids, args.n_bids = pack16([0]), 1  # leave out the second bid
    with reason("orders missing"):
        m.clear(args)
    args.bids = bids
    args.orders, args.refs = args.orders[:2], pack16([0, 1])  # leave out its reveal
    with reason("reveal chain"):
        m.clear(args)
    args = m.book(k)
    args.refs, args.mismatched = pack16([0, 1, FLAG | 2]), [args.commitments[2]]  # call it a mismatch
    args.bids, args.n_bids = pack16([0]), 1
    with reason("not a mismatch"):
        m.clear(args)
    assert args.asks == asks


def test_keeper_cannot_reorder_a_tie(m, honest):
    """Two bids at the same effective price (one in each zone): the earlier reveal goes first."""
    k = m.next_interval()
    book = [terms(200_000, 1_000, 0, ASK), terms(320_000, 1_000, 1, BID), terms(300_000, 1_000, 0, BID)]
    args = m.trade(k, list(zip(honest, book, strict=False)))
    assert effective_price(args.orders[1], ZONE_FEES) == effective_price(args.orders[2], ZONE_FEES) == 300_000
    assert args.bids == pack16([1, 2])
    args.bids = pack16([2, 1])
    with reason("bids not sorted"):
        m.clear(args)


@pytest.mark.parametrize("fake", ["appended", "raised_price", "other_trader"])
def test_keeper_cannot_insert_a_fake_order(m, honest, attacker, fake):
    k = m.next_interval()
    args = m.trade(k, list(zip(honest, BOOK, strict=False)))
    if fake == "appended":  # a bid of its own that was never revealed, opening an honest commitment
        args.orders = [*args.orders, order_word(attacker.address, terms(10**9, 9_000, 0, BID))]
        args.refs = pack16([0, 1, 2, 0])
    elif fake == "raised_price":
        args.orders = [args.orders[0] + (10**6 << 32), *args.orders[1:]]
    else:  # an honest order moved to the attacker's account
        args.orders = [order_word(attacker.address, BOOK[0]), *args.orders[1:]]
    with reason("reveal chain"):
        m.clear(args)


def test_double_clear_is_refused(m, honest, attackers):
    k = m.next_interval()
    args = m.trade(k, list(zip(honest, BOOK, strict=False)))
    first = m.clear(args)
    (second_keeper,) = attackers(1)
    with reason("already cleared"):
        m.clear(args, keeper=second_keeper.address)
    assert tuple(m.c.clearings(k))[4] == first["book"]


def test_orders_at_the_type_maximum_do_not_overflow(honest):
    """Prices at 2**64 - 1, energies at 2**24 - 1, the fee at 2**32 - 1: the sums and the products fit."""
    top_price, top_wh, top_fee = 2**64 - 1, 2**24 - 1, 2**32 - 1
    with boa.env.anchor():
        m = Market(zone_fees=top_fee << 32)
        k = m.next_interval()
        book = [
            terms(top_price, top_wh, 0, BID),  # eff 2**64 - 1
            terms(top_price, top_wh, 1, BID),  # eff 2**64 - 2**32
            terms(top_price, top_wh, 0, ASK),  # eff 2**64 - 1
            terms(top_price, top_wh, 1, ASK),  # eff 2**64 + 2**32 - 2: above any bid, never matched
            terms(1, top_wh, 1, BID),  # eff 0
        ]
        event = m.clear(m.trade(k, list(zip(honest + [boa.env.generate_address()], book, strict=False))))
        # bid 0 (2**64 - 1) against ask 2 (2**64 - 1): the whole of both, at 2**64 - 1
        assert (event["buy_price"], event["sell_price"], event["volume_wh"]) == (top_price, top_price, top_wh)
        assert tuple(m.c.clearings(k))[:3] == (top_price, top_price, top_wh)


def test_a_commit_index_beyond_the_book_cannot_block_the_clear(m, honest, attacker):
    """Spec v1 let one reveal (no commitment needed, ~30,000 gas) name commit 2**15: `refs` carries 15 bits of the
    index, so the reveal chain could never be replayed and the interval was void for everyone. `reveal` now
    refuses an index of 2,048 or more; one of 2,047 (no such commit) is merely void at the clear."""
    k = m.next_interval()
    salts = [m.commit(t, k, o)[1] for t, o in zip(honest, BOOK, strict=False)]
    m.travel_to(m.reveal_open(k))
    for i, (t, o) in enumerate(zip(honest, BOOK, strict=False)):
        m.reveal(t, k, i, o, salts[i])
    for index in (2**15, 2048):
        with reason("commit index too large"):
            m.reveal(attacker.address, k, index, terms(1, 1, 0, BID), b"\x00" * 32)
    m.reveal(attacker.address, k, 2047, terms(1, 1, 0, BID), b"\x00" * 32)
    m.travel_to(m.reveal_close(k))
    args = m.book(k)
    assert (args.refs[0] >> 48) & 0xFFFF == FLAG | 2047
    event = m.clear(args)
    assert event["orders"] == 4 and m.c.cleared(k)
