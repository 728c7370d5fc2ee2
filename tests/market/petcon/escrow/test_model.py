"""The escrow's twin alone: the money rules (a table), the constructor's and each call's reasons, a settlement that
is all or nothing, the round's clock and the books."""

from __future__ import annotations

import pytest

from gridchain.market.petcon.escrow.model import EscrowError, EscrowModel, Reading, money
from gridchain.market.petcon.result import BUYER, SELLER, Entry, Result

HOUSE = "0x" + "aa" * 20
P, Q = "0x" + "01" * 20, "0x" + "02" * 20
POLE, POLE2 = "0x" + "10" * 20, "0x" + "20" * 20
DAY = 86_400


def _reason(e: pytest.ExceptionInfo) -> str:
    return e.value.reason.removeprefix("petcon_escrow: ")


@pytest.mark.parametrize(
    ("role", "energy_wh", "amount", "recorded", "penalty_bps", "expected"),
    [
        (BUYER, 4_000, 2_000_000, 4_000, 2_000, (2_000_000, 0)),
        (BUYER, 4_000, 2_000_000, 9_000, 2_000, (2_000_000, 0)),  # over delivery pays no more
        (BUYER, 4_000, 2_000_000, 2_000, 2_000, (1_200_000, 0)),  # half + 20 % of the other half
        (BUYER, 4_000, 2_000_000, 0, 10_000, (2_000_000, 0)),  # a full penalty: the whole payment
        (BUYER, 3, 10, 1, 0, (4, 0)),  # ceil(10 / 3)
        (BUYER, 3, 10, 1, 1, (5, 0)),  # ceil of a tiny penalty is 1
        (SELLER, 3, 10, 1, 0, (0, 3)),  # floor(10 / 3)
        (SELLER, 4_000, 1_600_000, 1_000, 2_000, (0, 160_000)),
        (SELLER, 4_000, 1_600_000, 0, 2_000, (320_000, 0)),  # nothing delivered: only the penalty, owed
        (SELLER, 4_000, 1_600_000, 0, 0, (0, 0)),  # never paid for what its meter did not record
        (SELLER, 0, 900, 0, 5_000, (0, 900)),  # E == 0: fully delivered
        (BUYER, 0, 900, 0, 5_000, (900, 0)),
    ],
)
def test_money(role, energy_wh, amount, recorded, penalty_bps, expected):
    assert money(Entry(P, POLE, role, energy_wh, amount), recorded, penalty_bps) == expected


@pytest.mark.parametrize(
    ("house", "penalty_bps", "settle_s", "reason"),
    [
        ("0x" + "00" * 20, 0, 2 * DAY, "zero house"),
        (HOUSE, 10_001, 2 * DAY, "penalty out of range"),
        (HOUSE, 0, DAY, "settle window out of range"),
        (HOUSE, 0, 30 * DAY + 1, "settle window out of range"),
    ],
)
def test_constructor(house, penalty_bps, settle_s, reason):
    with pytest.raises(EscrowError) as e:
        EscrowModel(1, house, penalty_bps, settle_s)
    assert _reason(e) == reason
    assert EscrowModel(1, HOUSE, 10_000, DAY + 1).settle_s == DAY + 1


def _setup():
    md = EscrowModel(1, HOUSE, 0, 2 * DAY)
    md.open_round(HOUSE, 1_000, 7)
    md.escrow(P, 1_000, 7, 500)
    md.escrow(Q, 1_000, 7, 10)
    r = Result(1, 7, 100, 2, b"\x00" * 32, (Entry(P, POLE, BUYER, 10, 400), Entry(Q, POLE2, SELLER, 10, 300)))
    return md, r


def _readings(n: int, wh: int = 5) -> list[Reading]:
    return [Reading(wh, 0, 1, 2) for _ in range(n)]


def yes(pole, start, reading):
    return True


def test_settle_moves_money_between_escrow_and_house():
    md, r = _setup()
    out = md.settle(2_000, r, [0, 1], _readings(4), r.digest(), yes)
    assert [(s.debited, s.credited) for s in out] == [(400, 0), (0, 300)]
    assert (md.house, md.escrow_of(7, P), md.escrow_of(7, Q)) == (100, 100, 310)
    assert md.held() == md.total_held == md.balance == 510
    b = md.books[7]
    assert b.escrowed + b.credited == b.paid + b.refunded + 410
    assert md.withdraw(P, 2_000, 7) == 100


def test_settle_is_all_or_nothing():
    md, r = _setup()
    before = (md.house, dict(md.escrowed), set(md.pole_settled), dict(md.entries_settled))
    with pytest.raises(EscrowError) as e:  # the seller's credit needs the buyer's payment first
        md.settle(2_000, r, [1, 0], _readings(4), r.digest(), yes)
    assert _reason(e) == "house short"
    assert (md.house, dict(md.escrowed), set(md.pole_settled), dict(md.entries_settled)) == before


@pytest.mark.parametrize(
    ("now", "round_", "digest_ok", "indices", "readings", "proven", "reason"),
    [
        (2_000, 8, True, [0], 2, True, "round not open"),
        (1_000 + 2 * DAY, 7, True, [0], 2, True, "round closed"),
        (2_000, 7, False, [0], 2, True, "result not attested"),
        (2_000, 7, True, [0], 3, True, "readings count"),
        (2_000, 7, True, [2], 2, True, "index out of range"),
        (2_000, 7, True, [0, 0], 4, True, "entry settled"),
        (2_000, 7, True, [0], 2, False, "reading not proven"),
    ],
)
def test_settle_refusals(now, round_, digest_ok, indices, readings, proven, reason):
    md, r = _setup()
    r = Result(r.lot, round_, r.first_interval, r.intervals, r.record_hash, r.entries)
    with pytest.raises(EscrowError) as e:
        md.settle(now, r, indices, _readings(readings), r.digest() if digest_ok else b"\x01" * 32, lambda *a: proven)
    assert _reason(e) == reason


def test_lot_and_intervals_and_the_pole_bitmap():
    md, r = _setup()
    for bad, reason in (
        (Result(2, 7, 100, 2, r.record_hash, r.entries), "wrong lot"),
        (Result(1, 7, 100, 17, r.record_hash, r.entries), "intervals out of range"),
    ):
        with pytest.raises(EscrowError) as e:
            md.settle(2_000, bad, [0], _readings(bad.intervals), bad.digest(), yes)
        assert _reason(e) == reason
    md.fund(HOUSE, 1_000)
    md.settle(2_000, r, [1], _readings(2), r.digest(), yes)
    assert md.is_pole_settled(POLE2, 100) and md.is_pole_settled(POLE2, 101) and not md.is_pole_settled(POLE2, 102)
    md.open_round(HOUSE, 1_500, 9)
    md.escrow(P, 1_500, 9, 1)
    again = Result(1, 9, 101, 1, r.record_hash, (Entry(P, POLE2, SELLER, 1, 1),))
    with pytest.raises(EscrowError) as e:
        md.settle(2_000, again, [0], _readings(1), again.digest(), yes)
    assert _reason(e) == "already settled"


def test_clock_withdraw_and_house():
    md, _ = _setup()
    with pytest.raises(EscrowError) as e:
        md.withdraw(P, 1_000 + 2 * DAY - 1, 7)
    assert _reason(e) == "not settled"
    assert md.withdraw(P, 1_000 + 2 * DAY, 7) == 500
    with pytest.raises(EscrowError) as e:
        md.escrow(P, 1_000 + 2 * DAY, 7, 1)
    assert _reason(e) == "round closed"
    with pytest.raises(EscrowError) as e:
        md.withdraw_house(P, 1)
    assert _reason(e) == "caller is not the house"


def test_only_the_house_opens_a_round_once_and_escrows_need_it():
    md = EscrowModel(1, HOUSE, 0, 2 * DAY)
    for call, reason in (
        (lambda: md.escrow(P, 1_000, 3, 1), "round not open"),
        (lambda: md.open_round(P, 1_000, 3), "caller is not the house"),
    ):
        with pytest.raises(EscrowError) as e:
            call()
        assert _reason(e) == reason
    md.open_round(HOUSE.upper().replace("0X", "0x"), 1_000, 3)
    assert md.is_open(3, 1_000) and md.opened_at[3] == 1_000
    with pytest.raises(EscrowError) as e:
        md.open_round(HOUSE, 1_001, 3)
    assert _reason(e) == "round opened"
    md.escrow(P, 1_000 + 2 * DAY - 1, 3, 1)
    assert not md.is_open(3, 1_000 + 2 * DAY)
