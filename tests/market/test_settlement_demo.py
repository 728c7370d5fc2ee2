"""`gridchain.market.settlement_demo`: the demo's day settled in coins on the embedded chain. Each party's coins
are recomputed here from the logged book (the keeper's walk's fills) and the meters' readings by the settlement's
rules (spec v1), and read back from the chain, whose settle replayed the fills from the clear's marks: balances,
debts, the settled bitmaps, the conservation of coins."""

from __future__ import annotations

import pytest

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.coin.client import CoinClient
from gridchain.coin.model import UNIT
from gridchain.market.scenarios import DemoConfig, run
from gridchain.market.settlement.client import SettlementClient
from gridchain.market.settlement_demo import (
    DEPOSIT_COINS,
    HOUSE_FLOAT_COINS,
    OVER_SHARE,
    SHORT_SHARE,
    UNITS_PER_CALL,
    metered,
)
from gridchain.metering import MeteringClient

UTILITY = 300_000  # the demo's retail price [micro-coin/kWh]


@pytest.fixture(scope="module")
def day():
    config = DemoConfig(traders=6, intervals=3, seed=2)
    chain = BoaGateway(accounts=config.traders + 1)
    return chain, run(chain, config)


def expected(result) -> dict[tuple[str, int], dict]:
    """Per (trader, side): filled and metered energy, paid and received, from the book and the deviations."""
    dev = result.settlement["deviations"]
    out: dict[tuple[str, int], dict] = {}
    for i in result.intervals:
        for o in i["book"]:
            e = o["filled_wh"]
            if e == 0:
                continue
            m = e
            for name, side, share in (("short", 1, SHORT_SHARE), ("over", 0, OVER_SHARE)):
                if o["side"] == side and dev[name] == {"trader": o["trader"], "interval": i["interval"]}:
                    m = int(e * share)
            paid = received = 0
            if o["side"] == 0:
                paid = o["amount"] + (-(-UTILITY * (m - e) // 1000) if m > e else 0)
            else:
                d = min(e, m)
                earned = o["amount"] * d // e
                penalty = -(-max(UTILITY, i["sell_price"]) * (e - d) // 1000)
                received, paid = (earned - penalty, 0) if earned >= penalty else (0, penalty - earned)
            row = out.setdefault((o["trader"], o["side"]), dict.fromkeys(("filled", "metered", "paid", "received"), 0))
            for key, value in (("filled", e), ("metered", m), ("paid", paid), ("received", received)):
                row[key] += value
    return out


def test_every_party_is_paid_by_the_rules(day):
    _, result = day
    want = expected(result)
    got = {
        (p["trader"], p["side"]): {
            "filled": p["filled_wh"],
            "metered": p["metered_wh"],
            "paid": p["paid"],
            "received": p["received"],
        }
        for p in result.settlement["parties"]
    }
    assert got == want
    assert sum(p["filled"] for (_, side), p in want.items() if side == 0) == result.totals()["volume_wh"]


def test_one_seller_delivers_short_and_one_buyer_over_draws(day):
    _, result = day
    marks = {p["imbalance"]: p for p in result.settlement["parties"] if p["imbalance"]}
    assert set(marks) == {"short", "over"}
    assert marks["short"]["side"] == 1 and marks["short"]["metered_wh"] < marks["short"]["filled_wh"]
    assert marks["over"]["side"] == 0 and marks["over"]["metered_wh"] > marks["over"]["filled_wh"]
    exact = [p for p in result.settlement["parties"] if not p["imbalance"]]
    assert exact and all(p["metered_wh"] == p["filled_wh"] for p in exact)


def test_balances_debts_and_coins_are_the_chains_and_conserved(day):
    chain, result = day
    s = result.settlement
    settlement = SettlementClient(chain, s["address"])
    t = s["totals"]
    assert t["deposits"] == (len(result.traders) * DEPOSIT_COINS + HOUSE_FLOAT_COINS) * UNIT
    assert t["withdrawals"] == 0
    held = CoinClient(chain, result.coin).balance_of(s["address"])
    assert t["trader_balances"] + t["house_balance"] == t["total_held"] == t["coins_held"] == held == t["deposits"]
    assert settlement.total_held() == held
    net = {}
    for p in s["parties"]:
        net[p["trader"]] = net.get(p["trader"], 0) + p["received"] - p["paid"]
    for trader in result.traders:
        a = s["accounts"][trader.lower()]
        assert settlement.balance_of(trader) == a["balance"] == DEPOSIT_COINS * UNIT + net.get(trader.lower(), 0)
        assert settlement.debt(trader) == a["debt"] == 0
    assert t["house_balance"] == HOUSE_FLOAT_COINS * UNIT - sum(net.values())


def test_each_filled_meter_reading_is_settled_once_and_anchored(day):
    chain, result = day
    s = result.settlement
    settlement = SettlementClient(chain, s["address"])
    metering = MeteringClient(chain, s["metering"])
    calls = {c["interval"]: c for c in s["calls"]}
    for i in result.intervals:
        filled = {(o["trader"], o["side"]) for o in i["book"] if o["filled_wh"]}
        assert sum(c["units"] for c in s["calls"] if c["interval"] == i["interval"]) == len(filled)
        for trader, side in filled:
            meter = settlement.meter_of(trader, side)
            assert settlement.is_settled(meter, i["interval"])
            assert metering.root(meter, i["interval"] * 900 // 86400) is not None
    assert all(c["units"] <= UNITS_PER_CALL and c["gas"] > 0 for c in calls.values())
    assert s["gas"]["settle_per_unit"] > 0 and s["gas"]["deposit"] > 0


def test_the_deviations_follow_the_seed():
    fills = {5: {("0xa", 0): 1000, ("0xb", 1): 500, ("0xc", 1): 400}}
    readings, chosen = metered(fills, seed=0)
    assert readings == metered(fills, seed=0)[0]
    assert readings[("0xa", 0, 5)] == 1500
    short = chosen["short"]["trader"]
    assert readings[(short, 1, 5)] == int(fills[5][(short, 1)] * SHORT_SHARE)
    assert metered({}, seed=0) == ({}, {})
