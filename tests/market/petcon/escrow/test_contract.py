"""The escrow contract mirrored against its twin: each function's positive and negative cases, boundary tables,
the money rules on short, full and over delivery."""

from __future__ import annotations

import boa
import pytest

from gridchain.market.petcon.result import BUYER, SELLER
from tests.market.petcon.escrow.harness import DAY_S, LOT, SETTLE_S, Hotspot, refused
from tests.support.deployers import CONTRACTS, load

ROUND = 11


@pytest.fixture
def hs():
    return Hotspot()


def _deploy(house=None, penalty_bps=0, settle_s=SETTLE_S):
    zero = "0x" + "00" * 20
    return load(CONTRACTS / "petcon_escrow.vy").deploy(
        zero, zero, zero, LOT, house or boa.env.eoa, penalty_bps, settle_s
    )


@pytest.mark.parametrize(
    ("house", "penalty_bps", "settle_s", "reason"),
    [
        ("0x" + "00" * 20, 0, SETTLE_S, "zero house"),
        (None, 10_001, SETTLE_S, "penalty out of range"),
        (None, 0, DAY_S, "settle window out of range"),
        (None, 0, 30 * DAY_S + 1, "settle window out of range"),
    ],
)
def test_constructor_refuses(house, penalty_bps, settle_s, reason):
    with boa.reverts(f"petcon_escrow: {reason}"):
        _deploy(house, penalty_bps, settle_s)


def test_constructor_boundaries_pass():
    assert _deploy(None, 10_000, DAY_S + 1).PENALTY_BPS() == 10_000
    assert _deploy(None, 0, 30 * DAY_S).SETTLE_S() == 30 * DAY_S


def _trade(hs: Hotspot, buyer_wh=4_000, seller_wh=4_000):
    """A buyer on pole 0 and a seller on pole 1 for 8 intervals from 10:00; their poles record what is given."""
    b, s = hs.new_account().address, hs.new_account().address
    for p in (b, s):
        hs.give(p)
    hs.open_round(ROUND)
    hs.escrow(b, ROUND, 3_000_000)
    hs.escrow(s, ROUND, 500_000)
    hs.give(hs.owner)
    hs.fund(hs.owner, 10_000_000)
    entries = [hs.entry(b, 0, BUYER, 4_000, 2_000_000), hs.entry(s, 1, SELLER, 4_000, 1_600_000)]
    r = hs.result(ROUND, entries)
    hs.travel_to((hs.day + 1) * DAY_S + 60)
    hs.anchor_day(0, hs.day, {40 + t: buyer_wh // 8 for t in range(8)})
    hs.anchor_day(1, hs.day, {40 + t: seller_wh // 8 for t in range(8)})
    hs.attest(r)
    return b, s, r


def test_full_delivery_pays_the_amounts(hs):
    b, s, r = _trade(hs)
    out = hs.settle(r, [0, 1])
    assert [(x.debited, x.credited, x.shortfall) for x in out] == [(2_000_000, 0, 0), (0, 1_600_000, 0)]
    assert hs.withdraw(b, ROUND) == 1_000_000
    assert hs.withdraw(s, ROUND) == 2_100_000


def test_disconnect_pays_the_taken_part_and_the_penalty(hs):
    b, s, r = _trade(hs, buyer_wh=2_000, seller_wh=1_000)
    out = hs.settle(r, [0, 1])
    # buyer: half taken: 1,000,000 + 20 % of the other half's value (200,000)
    assert (out[0].recorded_wh, out[0].debited) == (2_000, 1_200_000)
    # seller: a quarter delivered: 400,000 - 20 % of 1,200,000 = 160,000
    assert (out[1].recorded_wh, out[1].credited) == (1_000, 160_000)


def test_over_delivery_pays_no_more(hs):
    b, s, r = _trade(hs, buyer_wh=8_000, seller_wh=8_000)
    out = hs.settle(r, [0, 1])
    assert [(x.debited, x.credited) for x in out] == [(2_000_000, 0), (0, 1_600_000)]


def test_seller_penalty_beyond_its_reward_comes_from_its_bond(hs):
    b, s, r = _trade(hs, seller_wh=0)
    out = hs.settle(r, [1])
    assert (out[0].debited, out[0].credited, out[0].shortfall) == (320_000, 0, 0)
    assert hs.withdraw(s, ROUND) == 180_000


def test_settle_refusals_in_order(hs):
    b, s, r = _trade(hs)
    with refused("round not open"):
        hs.settle(hs.result(ROUND + 1, r.entries), [0])
    with refused("wrong lot"):
        hs.settle(hs.result(ROUND, r.entries, lot=LOT + 1), [0])
    for n in (0, 17):
        with refused("intervals out of range"):
            hs.settle(hs.result(ROUND, r.entries, intervals=n), [0], readings=[])
    with refused("result not attested"):
        hs.settle(hs.result(ROUND, r.entries[:1]), [0])
    with refused("readings count"):
        hs.settle(r, [0], readings=hs.readings(r, [0])[:-1])
    with refused("index out of range"):
        hs.settle(r, [2], readings=hs.readings(r, [0]))
    with refused("entry settled"):
        hs.settle(r, [0, 0])
    with refused("reading not proven"):
        hs.settle(r, [0], readings=hs.readings(r, [1]))
    hs.settle(r, [0])
    with refused("entry settled"):
        hs.settle(r, [0])
    hs.travel_to(hs.c.opened_at(ROUND) + SETTLE_S)
    with refused("round closed"):
        hs.settle(r, [1])


def test_escrow_refusals_and_the_clock(hs):
    p = hs.new_account().address
    hs.give(p)
    with refused("zero amount"):
        hs.escrow(p, ROUND, 0)
    with refused("round not open"):
        hs.escrow(p, ROUND, 5)
    assert not hs.c.is_open(ROUND)
    with refused("caller is not the house"):
        hs.open_round(ROUND, sender=p)
    hs.open_round(ROUND)
    assert hs.c.opened_at(ROUND) == hs.now and hs.c.is_open(ROUND)
    with refused("round opened"):
        hs.open_round(ROUND)
    hs.escrow(p, ROUND, 5)
    hs.travel_to(hs.now + SETTLE_S - 1)
    hs.escrow(p, ROUND, 5)
    hs.travel_to(hs.now + 1)
    with refused("round closed"):
        hs.escrow(p, ROUND, 5)
    assert not hs.c.is_open(ROUND)


def test_withdraw_before_settlement_and_after_close(hs):
    p = hs.new_account().address
    hs.give(p)
    with refused("nothing to withdraw"):
        hs.withdraw(p, ROUND)
    hs.open_round(ROUND)
    hs.escrow(p, ROUND, 700)
    with refused("not settled"):
        hs.withdraw(p, ROUND)
    hs.travel_to(hs.c.opened_at(ROUND) + SETTLE_S)
    assert hs.withdraw(p, ROUND) == 700
    with refused("nothing to withdraw"):
        hs.withdraw(p, ROUND)


def test_fund_and_the_house(hs):
    hs.give(hs.owner)
    with refused("zero amount"):
        hs.fund(hs.owner, 0)
    hs.fund(hs.owner, 1_000)
    with refused("caller is not the house"):
        hs.withdraw_house(hs.owner, 1)
    with refused("house short"):
        hs.withdraw_house(hs.house, 1_001)
    with refused("zero amount"):
        hs.withdraw_house(hs.house, 0)
    hs.withdraw_house(hs.house, 1_000)
    assert hs.coin.balanceOf(hs.house) == 1_000


def test_house_short_refuses_a_seller_credit(hs):
    b, s, r = _trade(hs)
    hs.withdraw_house(hs.house, 10_000_000)
    with refused("house short"):
        hs.settle(r, [1])
    hs.settle(r, [0, 1])  # the buyer's payment, settled first in the call, pays the seller


def test_buyer_short_of_escrow_leaves_a_shortfall(hs):
    b = hs.new_account().address
    hs.give(b)
    hs.open_round(ROUND)
    hs.escrow(b, ROUND, 1_500_000)
    r = hs.result(ROUND, [hs.entry(b, 0, BUYER, 4_000, 2_000_000)])
    hs.travel_to((hs.day + 1) * DAY_S)
    hs.anchor_day(0, hs.day, {40 + t: 500 for t in range(8)})
    hs.attest(r)
    (out,) = hs.settle(r, [0])
    assert (out.debited, out.shortfall) == (1_500_000, 500_000)
    with refused("nothing to withdraw"):
        hs.withdraw(b, ROUND)


def test_zero_energy_entry_counts_as_delivered(hs):
    s = hs.new_account().address
    hs.give(s)
    hs.give(hs.owner)
    hs.fund(hs.owner, 1_000)
    hs.open_round(ROUND)
    hs.escrow(s, ROUND, 1)
    r = hs.result(ROUND, [hs.entry(s, 2, SELLER, 0, 900)])
    hs.travel_to((hs.day + 1) * DAY_S)
    hs.anchor_day(2, hs.day, {})
    hs.attest(r)
    (out,) = hs.settle(r, [0])
    assert out.credited == 900


def test_a_window_across_two_bitmap_words(hs):
    """Intervals 256k - 4 .. 256k + 3 of one pole: two words of its bitmap, both written, each bit once."""
    k = next(k for k in range(hs.day * 96 // 256 + 1, 10**6) if (256 * k - 4) // 96 == (256 * k + 3) // 96)
    first = 256 * k - 4
    day = first // 96
    b = hs.new_account().address
    hs.give(b)
    hs.travel_to((day + 1) * DAY_S + 60)
    hs.open_round(ROUND)
    hs.escrow(b, ROUND, 2_000_000)
    offset = first - day * 96
    hs.anchor_day(0, day, {offset + t: 500 for t in range(8)}, only=range(offset, offset + 8))
    r = hs.result(ROUND, [hs.entry(b, 0, BUYER, 4_000, 2_000_000)], first_interval=first)
    hs.attest(r)
    hs.settle(r, [0])
    pole = hs.poles[0].address
    assert hs.c.pole_settled(pole, k - 1) == 0xF << 252 and hs.c.pole_settled(pole, k) == 0xF
