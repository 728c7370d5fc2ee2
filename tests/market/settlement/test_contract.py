"""The settlement contract against its twin on hand-made intervals: the constructor's checks, accounts with notice
and debt, the meter registry, and settle's money and refusals (each reason once)."""

from __future__ import annotations

import boa
import pytest

from gridchain.market.settlement import model as s
from tests.market.book import ASK, BID, terms
from tests.market.settlement.harness import NOTICE_S, UTILITY_PRICE, House, deployer, refused


@pytest.fixture
def house():
    return House()


def one_trade(h: House):
    """Trader 0 bids 300,000/kWh for 2,000 Wh, trader 1 asks 200,000/kWh for 1,500 Wh (zone 0): uniform price
    250,000, 1,500 Wh."""
    b, a = h.traders[0], h.traders[1]
    return h.trade([(b, terms(300_000, 2_000, 0, BID)), (a, terms(200_000, 1_500, 0, ASK))])


def test_exact_delivery_pays_the_seller_what_the_buyer_pays(house):
    h = house
    b, a = h.traders[0], h.traders[1]
    k, book = one_trade(h)
    units = h.read(k, {(b, BID): 1_500, (a, ASK): 1_500})
    logs = h.settle(k, book, [units[(b, BID)], units[(a, ASK)]])
    assert [(e.filled_wh, e.metered_wh, e.credited, e.debited, e.shortfall) for e in logs] == [
        (1_500, 1_500, 0, 375_000, 0),
        (1_500, 1_500, 375_000, 0, 0),
    ]
    assert h.c.is_settled(h.meters[(b, BID)].address, k)


def test_overdrawn_buyer_pays_the_utility_price_and_short_seller_is_paid_for_what_it_fed_in(house):
    h = house
    b, a = h.traders[0], h.traders[1]
    k, book = one_trade(h)
    units = h.read(k, {(b, BID): 2_000, (a, ASK): 1_000})
    logs = h.settle(k, book, [units[(b, BID)], units[(a, ASK)]])
    assert logs[0].debited == 375_000 + UTILITY_PRICE * 500 // 1000
    assert logs[1].credited == 375_000 * 1_000 // 1_500 - UTILITY_PRICE * 500 // 1000


def test_settling_twice_and_duplicates_are_refused(house):
    h = house
    b, a = h.traders[0], h.traders[1]
    k, book = one_trade(h)
    units = h.read(k, {(b, BID): 1_500, (a, ASK): 1_500})
    with refused("duplicate unit"):
        h.settle(k, book, [units[(b, BID)], units[(b, BID)]])
    h.settle(k, book, [units[(b, BID)]])
    with refused("already settled"):
        h.settle(k, book, [units[(a, ASK)], units[(b, BID)]])
    h.settle(k, book, [units[(a, ASK)]])


def test_debt_is_logged_and_repaid_by_the_next_deposit():
    h = House(deposit=0)
    h.deposit(h.house, 10**9)
    b, a = h.traders[0], h.traders[1]
    h.deposit(b, 100_000)
    k, book = one_trade(h)
    units = h.read(k, {(b, BID): 1_500, (a, ASK): 1_500})
    (log,) = h.settle(k, book, [units[(b, BID)]])
    assert (log.debited, log.shortfall) == (100_000, 275_000)
    assert h.deposit(b, 300_000) == 275_000
    assert h.c.balance_of(b) == 25_000 and h.c.debt(b) == 0


def test_withdrawal_needs_its_notice(house):
    h = house
    t = h.traders[2]
    with refused("no notice"):
        h.withdraw(t)
    with refused("amount above balance"):
        h.request_withdrawal(t, 10**9 + 1)
    h.request_withdrawal(t, 10**9)
    h.travel_to(h.now + NOTICE_S - 1)
    with refused("notice running"):
        h.withdraw(t)
    h.travel_to(h.now + 1)
    assert h.withdraw(t) == 10**9


def test_constructor_checks_in_order():
    h = House(traders=1)
    args = [h.coin.address, h.metering.address, h.market.c.address, 7, h.house, UTILITY_PRICE, NOTICE_S]
    for i, value, reason in (
        (5, 0, "utility price out of range"),
        (5, 2**64, "utility price out of range"),
        (4, "0x" + "00" * 20, "zero house"),
        (6, NOTICE_S - 1, "notice out of range"),
        (6, 60 * 86400 + 1, "notice out of range"),
    ):
        bad = list(args)
        bad[i] = value
        with boa.reverts(f"market_settlement: {reason}"):
            deployer().deploy(*bad)
        with pytest.raises(s.SettlementError, match=reason):
            s.SettlementModel.create(h.owner, 900, 96, 0, 7, str(bad[4]), bad[5], bad[6])
    deployer().deploy(*args[:6], 60 * 86400)
