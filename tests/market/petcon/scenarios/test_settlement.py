"""The demo's settlement on the embedded chain: a result attested by a one-LAG committee, settled through the real
coin, metering contract and escrow on the poles' signed readings; the money per entry is the twin's rule, the
house is funded when the sellers' credits exceed what the buyers pay, and the coins are conserved to the last
micro-coin. Plus the pure parts: the window, the spread and who falls short."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.committee import CommitteeClient, kind_of
from gridchain.crypto.keys import address_of
from gridchain.market.petcon.escrow.model import money
from gridchain.market.petcon.result import BUYER, KIND, SELLER, Entry, Result
from gridchain.market.petcon.scenarios import settlement as st

ROUND = 7


def test_window_is_tomorrow_evening():
    now = 1_767_225_600 + 3_600  # 2026-01-01 01:00 UTC
    assert st.window_start(now) * 900 == 1_767_225_600 + 86_400 + 18 * 3_600


def test_spread_keeps_every_wh():
    assert st.spread(10, 4) == [3, 3, 2, 2] and st.spread(3, 4) == [1, 1, 1, 0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_buyer_disconnects_half_way_and_one_seller_delivers_short(seed):
    entries = [
        Entry(f"0x{k:040x}", f"0x{0x100 + k:040x}", BUYER if k < 3 else SELLER, 4_000 + k, 10**6) for k in range(6)
    ]
    recorded, short = st.deliveries(entries, 4, seed)
    assert recorded == st.deliveries(entries, 4, seed)[0]
    b, s = short["disconnected"], short["short"]
    assert entries[b].role == BUYER and entries[s].role == SELLER
    assert recorded[b] == st.spread(entries[b].energy_wh, 4)[:2] + [0, 0]
    assert 0.4 <= short["share"] < 0.8 and recorded[s] == [int(short["share"] * x) for x in st.spread(4_000 + s, 4)]
    others = [k for k in range(6) if k not in (b, s)]
    assert all(recorded[k] == st.spread(entries[k].energy_wh, 4) for k in others)


def test_batches_respect_the_readings_bound():
    assert st._batches(list(range(40)), 4) == [list(range(32)), list(range(32, 40))]
    assert st._batches(list(range(9)), 16) == [list(range(8)), [8]]


def _scene(amounts: list[int], energy_wh: int = 4_000):
    """Two buyers and two sellers on fresh contracts (a one-LAG committee), the round opened and the buyers'
    escrows in; the result attested. Amounts: the buyers' payments, then the sellers' rewards."""
    gateway = BoaGateway(accounts=2)
    lag = keccak(text="test lag")
    committee, _ = CommitteeClient.deploy(gateway, gateway.accounts[0], [address_of(lag)], 1)
    keys = [(keccak(text=f"pole {k}"), keccak(text=f"phev {k}")) for k in range(4)]
    hs = st.open_hotspot(gateway, committee.address, lag, [p for p, _ in keys], [q for _, q in keys], ROUND)
    first = st.window_start(gateway.now())
    entries = tuple(
        Entry(address_of(q), address_of(p), BUYER if k < 2 else SELLER, energy_wh, amounts[k])
        for k, (p, q) in enumerate(keys)
    )
    result = Result(1, ROUND, first, 4, keccak(text="record"), entries)
    escrowed = st.escrow_buyers(hs, entries)
    committee.attest(
        gateway.accounts[1],
        kind_of(KIND),
        ROUND,
        result.digest(),
        [committee.sign(lag, kind_of(KIND), ROUND, result.digest())],
    )
    return hs, result, escrowed


def test_settlement_pays_each_entry_by_the_twins_rule_and_conserves_coins():
    hs, result, escrowed = _scene([2_000_000, 3_000_000, 1_500_000, 1_000_000])
    assert escrowed == 5_000_002 and hs.opened_at > 0
    recorded, _ = st.deliveries(result.entries, 4, 0)
    run = st.settle_all(hs, result, recorded)
    rows = st.rows_of(result.entries, recorded, run)
    for e, wh, row in zip(result.entries, recorded, rows, strict=True):
        due, credit = money(e, sum(wh), st.PENALTY_BPS)
        assert (row["paid_micro"] + row["shortfall_micro"], row["received_micro"]) == (due, credit)
        assert row["shortfall_micro"] == 0
    assert sum(r["penalty_micro"] > 0 for r in rows) == 2  # the disconnected buyer and the short seller
    totals = st.totals_of(rows, escrowed, run)
    assert totals["conserved"] and totals["funded_micro"] == 0 and totals["held_after_micro"] == 0
    assert hs.coin.balance_of(hs.house) == totals["house_withdrawn_micro"] > 0
    assert len(hs.gas["settle"]) == 2  # buyers, then sellers
    assert not hs.escrow.is_open(ROUND + 1)


def test_the_lag_funds_the_house_when_the_sellers_need_more():
    hs, result, escrowed = _scene([1_000_000, 1_000_000, 2_500_000, 2_500_000])
    recorded = [st.spread(4_000, 4)] * 4  # everyone delivers
    run = st.settle_all(hs, result, recorded)
    totals = st.totals_of(st.rows_of(result.entries, recorded, run), escrowed, run)
    assert run["funded"] == 3_000_000 and run["house_withdrawn"] == 0
    assert totals["conserved"] and totals["received_micro"] == 5_000_000
