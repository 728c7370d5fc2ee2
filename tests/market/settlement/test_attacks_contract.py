"""Attacks on the settlement contract, each through the twin and the contract (the same refusal on both)."""

from __future__ import annotations

import dataclasses

import pytest

from tests.market.book import ASK, BID, terms
from tests.market.settlement.harness import NOTICE_S, UTILITY_PRICE, House, refused

ZERO = "0x" + "00" * 20


@pytest.fixture
def h():
    return House()


def trade(h: House, ask_wh: int = 1_500, fee_zone: int = 0):
    b, a = h.traders[0], h.traders[1]
    return h.trade([(b, terms(300_000, 2_000, 0, BID)), (a, terms(200_000, ask_wh, fee_zone, ASK))])


@pytest.mark.parametrize("recorded_wh", [0, 1, 700, 1_499, 1_500, 9_000])
def test_a_seller_is_never_credited_more_than_its_meter_recorded(h, recorded_wh):
    k, book = trade(h, fee_zone=1)
    a = h.traders[1]
    units = h.read(k, {(a, ASK): recorded_wh})
    (log,) = h.settle(k, book, [units[(a, ASK)]])
    sell = h.market.c.clearings(k)[1]
    assert log.credited * 1000 <= (sell - 20_000) * min(recorded_wh, 1_500)
    if recorded_wh < 1_500:  # short: never better off than delivering
        assert log.credited < (sell - 20_000) * 1_500 // 1000


def test_another_meters_reading_and_a_forged_signature_are_not_proven(h):
    k, book = trade(h)
    b, a = h.traders[0], h.traders[1]
    units = h.read(k, {(b, BID): 10, (a, ASK): 1_500, (b, ASK): 1_500})
    with refused("reading not proven"):  # trader 0's feed-in reading for trader 1's feed-in meter
        h.settle(k, book, [dataclasses.replace(units[(b, ASK)], trader=a)])
    with refused("reading not proven"):  # a higher value than the meter signed
        h.settle(k, book, [dataclasses.replace(units[(a, ASK)], active_wh=1_501)])
    with refused("reading not proven"):  # a signature of another key
        u = units[(b, ASK)]
        h.settle(k, book, [dataclasses.replace(units[(a, ASK)], r=u.r, vs=u.vs)])
    with refused("reading out of range"):
        h.settle(k, book, [dataclasses.replace(units[(a, ASK)], active_wh=2**64)])


def test_a_reading_of_another_interval_is_not_proven(h):
    k, book = trade(h)
    a = h.traders[1]
    k2, book2 = trade(h)
    units = h.read(k2, {(a, ASK): 1_500})
    with refused("reading not proven"):
        h.settle(k, book, [units[(a, ASK)]])
    h.settle(k2, book2, [units[(a, ASK)]])


def test_settling_before_the_clear_and_a_tampered_book(h):
    a = h.traders[1]
    b = h.traders[0]
    k, book = h.trade([(b, terms(300_000, 2_000, 0, BID)), (a, terms(200_000, 1_500, 0, ASK))], clear=False)
    with refused("not cleared"):
        h.settle(k, book, [])
    k, book = trade(h)
    orders, valid, marks = book
    units = h.read(k, {(a, ASK): 1_500})
    inflated = ([orders[0], orders[1] | (0xFFFF << 8)], valid, marks)  # the ask's energy raised
    with refused("book mismatch"):
        h.settle(k, inflated, [units[(a, ASK)]])
    with refused("book mismatch"):
        h.settle(k, (orders + [orders[1]], valid, marks), [units[(a, ASK)]])  # an order appended


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v, m: (v, m + (1 << 144)),  # more ask energy claimed before A: the ask's fill would shrink
        lambda v, m: (v, m + (1 << 96)),  # bid energy claimed before B
        lambda v, m: (v, m ^ (1 << 48)),  # A moved to the bid
        lambda v, m: (v, m ^ (1 << 32)),  # B moved to the ask
        lambda v, m: (v, 0),  # no trade claimed
        lambda v, m: ([v[0] & ~2, *v[1:]], m),  # the ask marked void
        lambda v, m: ([v[0] | (1 << 2), *v[1:]], m),  # a reveal beyond the book marked valid
        lambda v, m: ([*v[:7], 1], m),  # a bit in the last word
    ],
)
def test_a_book_whose_marks_or_valid_bitmap_differ_from_the_clears_is_refused(h, tamper):
    b, a = h.traders[0], h.traders[1]
    k, (orders, valid, marks) = trade(h)
    assert valid[0] == 0b11 and marks >> 96 == 0  # both valid; no energy ranked before B = bid 0 or A = ask 1
    units = h.read(k, {(b, BID): 1_500, (a, ASK): 1_500})
    bad_valid, bad_marks = tamper(valid, marks)
    with refused("book mismatch"):
        h.settle(k, (orders, bad_valid, bad_marks), [units[(b, BID)], units[(a, ASK)]])
    assert [e.filled_wh for e in h.settle(k, (orders, valid, marks), [units[(b, BID)], units[(a, ASK)]])] == [
        1_500,
        1_500,
    ]


def test_a_trader_whose_orders_are_all_void_has_no_fill(h):
    """Trader 2's bids outbid everyone, but both reveals name another order's commitment: void at the clear, so
    no fill is replayed for them (a replay that ignored the valid bitmap would fill 2,500 Wh)."""
    b, a, t = h.traders[0], h.traders[1], h.traders[2]
    orders = [
        (t, terms(400_000, 1_000, 0, BID)),
        (b, terms(300_000, 2_000, 0, BID)),
        (t, terms(390_000, 1_500, 1, BID)),
        (a, terms(200_000, 1_500, 0, ASK)),
    ]
    k, book = h.trade(orders, void=frozenset({0, 2}))
    assert book[1][0] == 0b1010 and h.market.c.clearings(k)[2] == 1_500
    units = h.read(k, {(t, BID): 1_000, (b, BID): 1_500})
    with refused("no fill"):
        h.settle(k, book, [units[(b, BID)], units[(t, BID)]])
    (log,) = h.settle(k, book, [units[(b, BID)]])
    assert log.filled_wh == 1_500


def test_a_side_above_1_is_no_meter_and_no_duplicate_of_side_0_or_1(h):
    """A unit of side 2**96 | 1 (or 2**96) is its own (trader, side): not a duplicate of the trader's ask (the
    transient map's key), but twice in a call it is one."""
    b, a = h.traders[0], h.traders[1]
    k, book = trade(h)
    units = h.read(k, {(b, BID): 1_500, (a, ASK): 1_500})
    for side in (2**96 | 1, 2**96, 2, 2**256 - 1):
        odd = dataclasses.replace(units[(a, ASK)], side=side)
        with refused("duplicate unit"):
            h.settle(k, book, [units[(a, ASK)], odd, units[(b, BID)], odd])
        with refused("no meter"):
            h.settle(k, book, [units[(b, BID)], units[(a, ASK)], odd])
    assert len(h.settle(k, book, [units[(b, BID)], units[(a, ASK)]])) == 2


def test_a_meter_swap_does_not_settle_an_interval_twice(h):
    a = h.traders[1]
    k, book = trade(h)
    units = h.read(k, {(a, ASK): 1_500, (a, BID): 1_500})
    h.settle(k, book, [units[(a, ASK)]])
    # the owner moves the trader's consumption meter to its feed-in side: the same energy is refused
    h.set_meter(a, BID, ZERO)
    h.set_meter(a, ASK, h.meters[(a, BID)].address)
    with refused("already settled"):
        h.settle(k, book, [dataclasses.replace(units[(a, BID)], side=ASK)])
    with refused("meter not the trader's"):
        h.set_meter(h.traders[0], ASK, h.meters[(a, ASK)].address)
    with refused("ownable: caller is not the owner"):
        h.set_meter(a, ASK, h.meters[(a, ASK)].address, sender=a)


def test_a_withdrawal_cannot_outrun_settlement(h):
    """The buyer asks for everything back right after trading: the notice outlasts the settlement's window, so
    the house settles first and the withdrawal pays what is left."""
    b = h.traders[0]
    k, book = trade(h)
    h.request_withdrawal(b, h.c.balance_of(b))
    units = h.read(k, {(b, BID): 1_500})
    (log,) = h.settle(k, book, [units[(b, BID)]])
    h.travel_to(h.now + NOTICE_S)
    assert h.withdraw(b) == 10**9 - log.debited


def test_debt_is_repaid_by_the_next_deposit_before_anything_else():
    h = House(deposit=0)
    h.deposit(h.house, 10**9)
    b, a = h.traders[0], h.traders[1]
    k, book = trade(h)
    units = h.read(k, {(b, BID): 2_500, (a, ASK): 0})
    logs = h.settle(k, book, [units[(b, BID)], units[(a, ASK)]])
    assert [e.debited for e in logs] == [0, 0]
    owed_b, owed_a = h.c.debt(b), h.c.debt(a)
    assert owed_b == 375_000 + UTILITY_PRICE * 1_000 // 1000 and owed_a == UTILITY_PRICE * 1_500 // 1000
    house = h.c.balance_of(h.house)
    assert h.deposit(b, owed_b - 1) == owed_b - 1 and h.c.balance_of(b) == 0
    assert h.deposit(b, 5) == 1 and h.c.balance_of(b) == 4
    assert h.c.balance_of(h.house) == house + owed_b
    with refused("no notice"):
        h.withdraw(a)


def test_the_house_must_cover_what_it_pays():
    h2 = House(deposit=0)
    h2.deposit(h2.house, 1)
    a = h2.traders[1]
    k, book = trade(h2)
    units = h2.read(k, {(a, ASK): 1_500})
    with refused("house short"):
        h2.settle(k, book, [units[(a, ASK)]])
