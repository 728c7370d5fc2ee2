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
    units = h.read(k, {(a, ASK): 1_500})
    inflated = ([book[0][0], book[0][1] | (0xFFFF << 8)], *book[1:])  # the ask's energy raised
    with refused("book mismatch"):
        h.settle(k, inflated, [units[(a, ASK)]])
    with refused("book mismatch"):
        h.settle(k, (book[0], book[1], 0, book[3], book[4]), [units[(a, ASK)]])


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
