"""`gridchain.market.scenarios`: a small day (6 traders, 3 intervals) on the embedded chain under both rules; every
number the demo reports is read back from the chain or recomputed from the orders it logged."""

from __future__ import annotations

import pytest

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.coin.client import CoinClient
from gridchain.coin.model import UNIT
from gridchain.errors import InputError
from gridchain.market.clearing import lp_optimum, welfare
from gridchain.market.client import CallMarketClient
from gridchain.market.model import Order
from gridchain.market.scenarios import STARTING_COINS, DemoConfig, households, orders_for, run
from gridchain.market.settlement_demo import DEPOSIT_COINS

SMALL = {"traders": 6, "intervals": 3}


@pytest.fixture(scope="module", params=[0, 1], ids=["uniform", "trade-reduction"])
def day(request):
    config = DemoConfig(**SMALL, rule=request.param, seed=2)  # seed 2: rule 1 trades in one interval
    chain = BoaGateway(accounts=config.traders + 1)
    return chain, config, run(chain, config)


def test_the_clearings_shown_are_the_chains(day):
    chain, config, result = day
    market = CallMarketClient(chain, result.market)
    assert market.params().rule == config.rule
    assert len(result.intervals) == 3
    for i in result.intervals:
        stored = market.clearing(i["interval"])
        assert market.cleared(i["interval"])
        assert (stored.buy_price, stored.sell_price, stored.volume_wh) == (
            i["buy_price"],
            i["sell_price"],
            i["volume_wh"],
        )
        assert stored.orders == i["orders"] == i["bids"] + i["asks"] == config.traders
        assert sum(o["filled_wh"] for o in i["book"] if o["side"] == 0) == i["volume_wh"]
        assert sum(o["filled_wh"] for o in i["book"] if o["side"] == 1) == i["volume_wh"]


def test_each_interval_holds_the_orders_the_profile_gives(day):
    chain, config, result = day
    homes = households(config)
    for i, quarter in zip(result.intervals, config.quarters(), strict=True):
        want = orders_for(config, homes, result.traders, quarter)
        got = [(o["side"], o["price"], o["energy_wh"], o["zone"]) for o in i["book"]]
        assert sorted(got) == sorted((o.side, o.price, o.energy_wh, o.zone) for o in want)


def test_welfare_against_the_lp_optimum(day):
    _, config, result = day
    fees = config.params().zone_fees
    for i in result.intervals:
        orders = [Order("0x" + "00" * 20, o["price"], o["energy_wh"], o["zone"], o["side"]) for o in i["book"]]
        assert welfare(orders, [o["filled_wh"] for o in i["book"]], fees) == i["welfare"]
        assert lp_optimum(orders, fees)[0] == pytest.approx(i["lp_optimum"])
        if config.rule == 0:
            assert i["welfare"] == pytest.approx(i["lp_optimum"], rel=1e-9)  # 100 % with truthful orders
        else:
            assert i["welfare"] <= i["lp_optimum"] + 1e-6


def test_some_trade_happens_and_the_budget_is_weakly_balanced(day):
    _, _, result = day
    t = result.totals()
    assert t["volume_wh"] > 0
    assert t["collected"] >= t["paid_out"] + t["fees"]
    for i in result.intervals:
        assert i["gas_commit"] > 0 and i["gas_reveal"] > 0 and i["gas_clear"] > 0


def test_every_trader_holds_its_starting_coins_less_its_deposit(day):
    chain, _, result = day
    coin = CoinClient(chain, result.coin)
    for trader in result.traders:
        assert coin.balance_of(trader) == result.balances[trader] == (STARTING_COINS - DEPOSIT_COINS) * UNIT
    assert "settled in energy coins" in result.note and "not transferred" not in result.note


@pytest.mark.parametrize(
    ("field", "kwargs"), [("traders", {"traders": 1}), ("intervals", {"intervals": 69}), ("rule", {"rule": 2})]
)
def test_bad_configurations_name_the_field(field, kwargs):
    with pytest.raises(InputError, match=f"^{field}: "):
        DemoConfig(**kwargs)


def test_the_intervals_spread_over_the_day_and_stay_in_it():
    assert DemoConfig(intervals=8).quarters() == [28, 34, 40, 46, 52, 58, 64, 70]
    assert DemoConfig(intervals=1).quarters() == [48]
    assert DemoConfig(intervals=68).quarters()[-1] == 95
