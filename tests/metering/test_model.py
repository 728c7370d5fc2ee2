"""The metering twin's pure parts: Merkle trees, tariffs and bills (its EIP-712 types: tests/crypto)."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from gridchain.metering import model as m

METER = "0x" + "cd" * 20
FLAT = tuple([100] * 24)
DAY = 86400
I = m.INTERVAL_S  # noqa: E741


def leaves(n: int) -> list[bytes]:
    return [keccak(i.to_bytes(32, "big")) for i in range(n)]


# -- Merkle ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 96, 97])
def test_every_leaf_proves_against_the_root(n):
    ls = leaves(n)
    root = m.merkle_root(ls)
    for i in range(n):
        assert m.verify_proof(m.merkle_proof(ls, i), root, ls[i])


def test_a_single_leaf_is_its_own_root():
    (leaf,) = leaves(1)
    assert m.merkle_root([leaf]) == leaf and m.merkle_proof([leaf], 0) == []


def test_a_tampered_leaf_or_proof_or_a_wrong_root_fails():
    ls = leaves(96)
    root = m.merkle_root(ls)
    proof = m.merkle_proof(ls, 17)
    assert not m.verify_proof(proof, root, ls[18])  # another leaf with this proof
    assert not m.verify_proof(proof, root, keccak(b"forged"))
    bad = list(proof)
    bad[2] = bytes([bad[2][0] ^ 1]) + bad[2][1:]
    assert not m.verify_proof(bad, root, ls[17])
    assert not m.verify_proof(proof[:-1], root, ls[17])  # a shortened proof
    assert not m.verify_proof(proof, m.merkle_root(leaves(95)), ls[17])


def test_the_proof_depth_of_a_day_is_seven():
    assert len(m.merkle_proof(leaves(96), 0)) == 7


def test_bad_tree_input_names_the_field():
    with pytest.raises(ValueError, match="leaves"):
        m.merkle_root([])
    with pytest.raises(ValueError, match="index: 3"):
        m.merkle_proof(leaves(3), 3)


@given(st.integers(1, 200), st.data())
def test_proofs_hold_for_any_tree_size(n, data):
    ls = leaves(n)
    i = data.draw(st.integers(0, n - 1))
    assert m.verify_proof(m.merkle_proof(ls, i), m.merkle_root(ls), ls[i])


# -- tariffs ---------------------------------------------------------------------------------------------
PEAK = tuple(300 if 17 <= h < 21 else 100 for h in range(24))


@pytest.mark.parametrize(
    "t, price",
    [
        (17 * 3600 - 1, 100),
        (17 * 3600, 300),
        (21 * 3600 - 1, 300),
        (21 * 3600, 100),
        (DAY + 17 * 3600, 300),
    ],
)
def test_hourly_price_boundaries(t, price):
    assert m.Tariff(0, PEAK).price_at(t) == price


def test_the_tariff_in_force_is_the_latest_started_one():
    tariffs = [m.Tariff(DAY, FLAT), m.Tariff(3 * DAY, PEAK)]
    assert m.tariff_in_force(tariffs, DAY - 1) is None
    assert m.tariff_in_force(tariffs, DAY) == tariffs[0]
    assert m.tariff_in_force(tariffs, 3 * DAY - 1) == tariffs[0]
    assert m.tariff_in_force(tariffs, 3 * DAY) == tariffs[1]


def test_a_session_across_a_price_boundary_pays_each_interval_its_price():
    tariffs = [m.Tariff(0, PEAK)]
    first = (16 * 3600 + 1800) // m.INTERVAL_S  # 16:30 .. 17:30, four intervals of 1,850 Wh
    assert m.interval_prices(tariffs, first, 4) == [100, 100, 300, 300]
    assert m.energy_cost(tariffs, first, [1850] * 4) == (2 * 1850 * 100 + 2 * 1850 * 300) // 1000


def test_a_session_across_a_tariff_version_uses_both():
    tariffs = [m.Tariff(0, FLAT), m.Tariff(DAY, tuple([200] * 24))]
    first = DAY // m.INTERVAL_S - 2
    assert m.interval_prices(tariffs, first, 4) == [100, 100, 200, 200]


def test_one_floor_per_settlement_not_per_interval():
    assert m.energy_cost([m.Tariff(0, (1,) * 24)], 0, [999, 999]) == 1  # 1,998 / 1000, not 0 + 0


@pytest.mark.parametrize("versions", [1, 2, 3, 257, 1000])
def test_any_version_is_found_however_old(versions):
    """Hole 13's twin side: the version in force is the last one started, searched over all versions."""
    tariffs = [m.Tariff(DAY + v * 3600, (v,) * 24) for v in range(versions)]
    for v in range(versions):
        for t in (DAY + v * 3600, DAY + (v + 1) * 3600 - 1):
            assert m.tariff_in_force(tariffs, t) == tariffs[v]
    assert m.tariff_in_force(tariffs, DAY - 1) is None


def test_billed_words_are_the_contracts_bitmap():
    assert m.billed_words(set()) == {}
    assert m.billed_words({0, 255, 256, 511, 2**40}) == {0: 1 | 1 << 255, 1: 1 | 1 << 255, 2**32: 1}


def test_no_tariff_in_force_refuses():
    with pytest.raises(m.MeteringError, match="metering: no tariff in force"):
        m.energy_cost([m.Tariff(DAY, FLAT)], 0, [10])


# -- the host's bill ---------------------------------------------------------------------------------------
def test_the_host_pays_its_household_energy_net_of_roaming_sessions():
    tariffs = [m.Tariff(0, PEAK)]
    base = 17 * 4  # 17:00
    household = [m.Reading(METER, (base + i) * m.INTERVAL_S, 2500, 300) for i in range(4)]
    session = m.SessionReading(b"\x01" * 32, base + 1, (1850, 1850))
    gross = m.host_bill(tariffs, household, [])
    net = m.host_bill(tariffs, household, [session])
    assert gross == m.Bill(10_000, 10_000 * 300 // 1000)
    assert net == m.Bill(10_000 - 3700, (10_000 - 3700) * 300 // 1000)


def test_a_session_larger_than_the_household_reading_is_an_error():
    household = [m.Reading(METER, 0, 1000, 0)]
    with pytest.raises(ValueError, match="roaming: interval 0"):
        m.host_bill([m.Tariff(0, FLAT)], household, [m.SessionReading(b"\x01" * 32, 0, (1001,))])


# -- register samples to interval energies -----------------------------------------------------------------
def test_interval_energies_from_boundary_samples():
    start = 10 * I + 300  # mid-interval
    samples = [(11 * I, 1_000_500), (12 * I, 1_002_350), (13 * I, 1_004_200)]
    first, energies = m.interval_energies(start, 1_000_000, samples, 13 * I + 450, 1_005_125)
    assert first == 10 and energies == (500, 1850, 1850, 925)


def test_duplicate_or_missing_samples_neither_lose_nor_double_energy():
    start, stop = 0, 4 * I
    samples = [(I, 100), (I, 100), (3 * I, 300)]  # a resent sample; the 2*I one lost
    first, energies = m.interval_energies(start, 0, samples, stop, 400)
    assert first == 0 and energies == (100, 0, 200, 100) and sum(energies) == 400


def test_a_session_ending_on_a_boundary_has_no_empty_tail():
    assert m.interval_energies(0, 0, [(I, 50)], 2 * I, 90) == (0, (50, 40))


@pytest.mark.parametrize(
    "args, field",
    [
        ((10, 0, [], 5, 0), "stop_s"),
        ((0, 10, [], 5, 9), "stop_wh"),
        ((0, 0, [(I, 50), (2 * I, 40)], 3 * I, 60), "samples"),
    ],
)
def test_interval_energies_bad_input(args, field):
    with pytest.raises(ValueError, match=field):
        m.interval_energies(*args)
