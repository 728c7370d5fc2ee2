"""Attacks on the escrow: a LAG minority's false result, a changed entry, a seller paid for energy its meter did
not record, readings replayed from another pole, interval or round, settlement after the window, a party taking
its escrow before its settlement, coins pushed in from outside, a stranger opening or pre-empting a round, and
anyone but the house taking the house's coins (or the house taking escrow)."""

from __future__ import annotations

from dataclasses import replace

import boa
import pytest

from gridchain.market.petcon.result import BUYER, SELLER
from tests.market.petcon.escrow.harness import DAY_S, KIND_ID, SETTLE_S, TWO_THIRDS, UNANIMOUS, Hotspot, refused

ROUND = 31


def _setup(hs: Hotspot, seller_wh: int = 4_000):
    """A buyer (pole 0) and a seller (pole 1) escrowed, the house funded, yesterday's readings anchored: the
    buyer's pole recorded its 4 kWh, the seller's `seller_wh`."""
    b, s = hs.new_account().address, hs.new_account().address
    for p in (b, s, hs.owner):
        hs.give(p)
    hs.open_round(ROUND)
    hs.escrow(b, ROUND, 2_000_000)
    hs.escrow(s, ROUND, 100_000)
    hs.fund(hs.owner, 5_000_000)
    y = hs.day - 1
    hs.anchor_day(0, y, {40 + t: 500 for t in range(8)})
    hs.anchor_day(1, y, {40 + t: seller_wh // 8 for t in range(8)})
    hs.anchor_day(2, y, {40 + t: 500 for t in range(8)})
    entries = [hs.entry(b, 0, BUYER, 4_000, 2_000_000), hs.entry(s, 1, SELLER, 4_000, 1_500_000)]
    return b, s, hs.result(ROUND, entries, first_interval=y * 96 + 40)


@pytest.mark.parametrize("rule", [TWO_THIRDS, UNANIMOUS])
def test_a_lag_minority_cannot_get_a_false_result_settled(rule):
    hs = Hotspot(rule=rule)
    b, s, r = _setup(hs)
    false = replace(r, entries=(r.entries[0], replace(r.entries[1], amount_micro=1_999_999)))
    with boa.reverts("lag_committee: fewer signatures than the threshold"):
        hs.attest(false, signers=hs.members[:1])
    if rule == UNANIMOUS:
        with boa.reverts("lag_committee: fewer signatures than the threshold"):
            hs.attest(false, signers=hs.members[:2])
    with refused("result not attested"):
        hs.settle(false, [1])
    hs.attest(r, signers=hs.members if rule == UNANIMOUS else hs.members[1:])  # the honest quorum
    with refused("result not attested"):
        hs.settle(false, [1])
    hs.settle(r, [0, 1])


def test_a_changed_entry_is_not_the_attested_result():
    hs = Hotspot()
    b, s, r = _setup(hs)
    hs.attest(r)
    attacker = hs.new_account().address
    for changed in (
        replace(r.entries[1], pseudonym=attacker),
        replace(r.entries[1], energy_wh=1),
        replace(r.entries[1], pole=hs.poles[2].address),
        replace(r.entries[0], role=SELLER),
    ):
        i = 0 if changed.pseudonym == b else 1
        forged = replace(r, entries=tuple(changed if k == i else e for k, e in enumerate(r.entries)))
        with refused("result not attested"):
            hs.settle(forged, [i], readings=hs.readings(forged, [i]))
    with refused("result not attested"):
        hs.settle(replace(r, record_hash=b"\x01" * 32), [0])
    with refused("result not attested"):
        hs.settle(replace(r, first_interval=r.first_interval + 1), [0])


def test_a_seller_whose_meter_recorded_nothing_is_credited_nothing():
    hs = Hotspot(penalty_bps=0)
    b, s, r = _setup(hs, seller_wh=0)
    hs.attest(r)
    (out,) = hs.settle(r, [1])
    assert (out.recorded_wh, out.credited, out.debited) == (0, 0, 0)
    assert hs.withdraw(s, ROUND) == 100_000  # its bond back, not a micro-coin more


def test_a_seller_paid_only_for_what_its_meter_recorded():
    hs = Hotspot(penalty_bps=0)
    b, s, r = _setup(hs, seller_wh=1_000)  # a quarter of its 4 kWh
    hs.attest(r)
    (out,) = hs.settle(r, [1])
    assert (out.recorded_wh, out.credited) == (1_000, 375_000)


def test_readings_replayed_from_another_pole_or_interval_are_not_proven():
    hs = Hotspot()
    b, s, r = _setup(hs)
    hs.attest(r)
    with refused("reading not proven"):  # the buyer's pole's readings for the seller
        hs.settle(r, [1], readings=hs.readings(r, [0]))
    with refused("reading not proven"):  # pole 2 recorded the seller's 4 kWh, but it is not the seller's pole
        hs.settle(r, [1], readings=[hs.genuine[(hs.poles[2].address.lower(), r.first_interval + t)] for t in range(8)])
    shifted = [hs.genuine[(hs.poles[1].address.lower(), r.first_interval + 1 + t)] for t in range(8)]
    with refused("reading not proven"):  # the seller's own pole, one interval later
        hs.settle(r, [1], readings=shifted)


def test_energy_is_settled_once_across_rounds():
    """A second attested result naming the same pole and intervals (another round) cannot be paid again."""
    hs = Hotspot()
    b, s, r = _setup(hs)
    hs.attest(r)
    hs.settle(r, [1])
    other = hs.new_account().address
    hs.give(other)
    hs.open_round(ROUND + 1)
    hs.escrow(other, ROUND + 1, 1)
    again = hs.result(ROUND + 1, [replace(r.entries[1], pseudonym=other)], first_interval=r.first_interval)
    hs.attest(again)
    with refused("already settled"):
        hs.settle(again, [0])


def test_no_settlement_after_the_window_and_an_unsettled_buyer_keeps_its_coins():
    hs = Hotspot()
    b, s, r = _setup(hs)
    hs.attest(r)
    hs.travel_to(hs.c.opened_at(ROUND) + SETTLE_S)
    with refused("round closed"):
        hs.settle(r, [0])
    assert hs.withdraw(b, ROUND) == 2_000_000  # the LAG's loss: nobody settled in time


def test_a_buyer_cannot_withdraw_before_its_settlement():
    hs = Hotspot()
    b, s, r = _setup(hs)
    hs.attest(r)
    with refused("not settled"):
        hs.withdraw(b, ROUND)
    hs.settle(r, [1])  # the seller's settlement does not free the buyer
    with refused("not settled"):
        hs.withdraw(b, ROUND)
    hs.escrow(b, ROUND, 5)  # a little more than its payment
    hs.settle(r, [0])
    assert hs.withdraw(b, ROUND) == 5  # paid its 2,000,000, the rest back


def test_coins_pushed_in_from_outside_change_no_book():
    hs = Hotspot()
    stranger = hs.new_account().address
    hs.give(stranger)
    hs.coin.transfer(hs.c.address, 777, sender=stranger)
    hs.donated += 777
    hs.check()
    with refused("house short"):
        hs.withdraw_house(hs.house, 1)


def test_a_stranger_cannot_open_or_pre_empt_a_round():
    """The griefing the first version allowed (a stranger's micro-coin escrow started a round's clock, so the round
    closed before the real auction) is gone: only the house opens a round, escrows need it opened, and a round
    the house opened cannot be re-opened (its clock reset) by anyone."""
    hs = Hotspot()
    stranger = hs.new_account().address
    hs.give(stranger)
    with refused("round not open"):
        hs.escrow(stranger, ROUND, 1)
    with refused("caller is not the house"):
        hs.open_round(ROUND, sender=stranger)
    assert hs.c.opened_at(ROUND) == 0
    hs.travel_to(hs.now + SETTLE_S)  # long after the stranger's attempts, the real auction
    hs.open_round(ROUND)
    b = hs.new_account().address
    hs.give(b)
    hs.escrow(b, ROUND, 2_000_000)
    assert hs.c.is_open(ROUND)
    with refused("round opened"):
        hs.open_round(ROUND)
    with refused("caller is not the house"):
        hs.open_round(ROUND, sender=stranger)


def test_the_committee_kind_is_petcon_result():
    hs = Hotspot()
    b, s, r = _setup(hs)
    hs.attest(r)
    assert bytes(hs.committee.attested(KIND_ID, ROUND)) == r.digest()
    assert DAY_S < SETTLE_S


def test_nobody_but_the_house_takes_the_house_and_the_house_takes_no_escrow():
    """`withdraw_house` pays only HOUSE, and only from the house's own balance: a party's escrow stays its own."""
    hs = Hotspot()
    b, _s, _result = _setup(hs)
    house = hs.c.house()
    for stranger in (b, hs.owner):  # a party, and the deployer who funded the house
        with refused("caller is not the house"):
            hs.withdraw_house(stranger, 1)
    with refused("house short"):
        hs.withdraw_house(hs.house, house + 1)  # the buyer's 2,000,000 escrowed are in the contract too
    hs.withdraw_house(hs.house, house)
    assert hs.c.house() == 0 and hs.c.escrowed(ROUND, b) == 2_000_000
