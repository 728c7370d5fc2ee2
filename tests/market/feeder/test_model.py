"""The feeder market's pieces: one interval through both rules against the LP, orders from net loads, the
battery rules' limits."""

import numpy as np
import pytest

from gridchain.market.feeder.model import (
    HOURS_PER_INTERVAL,
    Battery,
    clear_interval,
    interval_orders,
    price_responsive,
    price_thresholds,
    self_consumption,
)
from gridchain.market.model import BUY, SELL

FEES = 20_000 << 32  # zone 1 pays 2 ct/kWh, zone 0 nothing


def random_book(seed: int, n: int = 40):
    rng = np.random.default_rng(seed)
    net_w = rng.normal(0, 4_000, n)
    bid, ask = rng.integers(80_000, 300_001, size=(2, n))
    return interval_orders(net_w, bid, ask, rng.integers(0, 2, n))


@pytest.mark.parametrize("seed", range(8))
def test_rule_0_reaches_the_lp_optimum_and_rule_1_stays_below_it_budget_balanced(seed):
    orders, _ = random_book(seed)
    c = clear_interval(7, orders, FEES)
    uniform, reduction = c.rules
    assert uniform.welfare_uc == pytest.approx(c.optimum_uc, rel=1e-9, abs=1e-6)
    assert reduction.welfare_uc <= c.optimum_uc + 1e-6
    assert reduction.volume_wh <= uniform.volume_wh
    assert reduction.buy_price >= reduction.sell_price
    for r in c.rules:
        assert r.surplus_uc >= 0  # weak budget balance: buyers cover sellers and the grid's fees
        assert r.fees_uc >= 0


def test_a_book_that_does_not_cross_trades_nothing():
    orders, _ = interval_orders(np.array([1000.0, -1000.0]), np.array([90_000, 0]), np.array([0, 250_000]), [0, 0])
    c = clear_interval(0, orders, FEES)
    assert c.optimum_uc == pytest.approx(0.0, abs=1e-9)
    assert all(r.volume_wh == 0 and r.welfare_uc == 0 for r in c.rules)
    assert (c.demand_wh, c.supply_wh) == (250, 250)


def test_orders_are_the_net_loads_of_15_minutes_at_each_sides_price():
    orders, owners = interval_orders(
        np.array([4000.0, -2000.0, 1.0, 0.0]),
        np.array([111, 222, 333, 444]),
        np.array([555, 666, 777, 888]),
        [1, 0, 1, 0],
    )
    assert owners == [0, 1]  # 1 W for 15 min rounds to 0 Wh: that household sits out
    assert [(o.side, o.energy_wh, o.price, o.zone) for o in orders] == [(BUY, 1000, 111, 1), (SELL, 500, 666, 0)]


def test_self_consumption_stores_surplus_and_covers_deficit_within_the_limits():
    b = Battery(capacity_wh=2_000, power_w=3_000, efficiency=0.9)
    net = np.array([-5_000.0, -5_000.0, -5_000.0, 1_000.0, 8_000.0, 8_000.0])
    power, end = self_consumption(b, net)
    assert power[0] == 3_000  # the power limit
    soc = np.cumsum(np.where(power > 0, power * 0.9, power / 0.9)) * HOURS_PER_INTERVAL
    assert soc.max() <= 2_000 + 1e-9 and soc.min() >= -1e-9 and end == pytest.approx(soc[-1])
    assert power[3] == -1_000  # covers its own deficit, no more
    assert power[4:].tolist() == [-3_000, -3_000]  # the power limit again
    assert end == pytest.approx(2_000 - (1_000 + 6_000) * HOURS_PER_INTERVAL / 0.9)


def test_spread_charging_fills_evenly_over_the_cheap_intervals_and_full_power_does_not():
    b = Battery(capacity_wh=3_000, power_w=10_000, efficiency=1.0)
    forecast = np.array([30.0, 10, 10, 10, 30, 30])
    net = np.array([1_000.0, 0, 0, 0, 2_000, 2_000])
    assert price_thresholds(forecast) == (15.0, 25.0)
    spread, end = price_responsive(b, net, forecast, spread=True)
    assert spread.tolist() == pytest.approx([0, 4_000, 4_000, 4_000, -2_000, -2_000])
    assert end == pytest.approx(2_000)
    full, _ = price_responsive(b, net, forecast, spread=False)
    assert full.tolist() == pytest.approx([0, 10_000, 2_000, 0, -2_000, -2_000])
    flat, _ = price_responsive(b, net, np.full(6, 20.0))
    assert not flat.any()
