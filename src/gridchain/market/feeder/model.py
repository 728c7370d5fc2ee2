"""The feeder market's pieces, pure: the households' orders in one interval, one interval cleared with both rules
(the keeper's own code, `market.clearing`, checked against the twin's `clearing_prices`) and the LP optimum, and
the battery rules (self-consumption without a market; with one, a price threshold rule that charges at full
power or spread over the cheap intervals).

Units: power [W], energy [Wh], prices [micro-coin/kWh], welfare [micro-coin] (clearing's welfare / 1,000).
Battery power is seen from the household: charging > 0 (it draws), discharging < 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridchain.errors import InputError
from gridchain.market.clearing import fills, lp_optimum, payments, prepare_clear, welfare
from gridchain.market.model import (
    BUY,
    RULE_TRADE_REDUCTION,
    RULE_UNIFORM,
    SELL,
    Committed,
    Order,
    Revealed,
    clearing_prices,
    commitment,
    pack,
)

HOURS_PER_INTERVAL = 0.25
MARKET = "0x" + "00" * 19 + "01"
GAP_TOLERANCE = 1e-6
"""Rule 0's welfare equals the LP optimum within this (relative; HiGHS's own tolerances are ~1e-7)."""


def trader(household: int) -> str:
    """Household h's (pseudonymous) address in the market."""
    return "0x" + format(household + 1, "040x")


def interval_orders(
    net_w: np.ndarray, bid_price: np.ndarray, ask_price: np.ndarray, zone: np.ndarray
) -> tuple[list[Order], list[int]]:
    """Net buyers bid `net_w x 15 min` at their bid price, net sellers offer theirs at their ask price; a household
    whose net energy rounds to 0 Wh sits out. Returns the orders and their households."""
    orders, owners = [], []
    for h, p in enumerate(net_w):
        energy_wh = int(round(abs(float(p)) * HOURS_PER_INTERVAL))
        if energy_wh == 0:
            continue
        side = BUY if p > 0 else SELL
        price = int(bid_price[h] if side == BUY else ask_price[h])
        orders.append(Order(trader(h), price, min(energy_wh, 2**24 - 1), int(zone[h]), side))
        owners.append(h)
    return orders, owners


@dataclass(frozen=True)
class RuleOutcome:
    """One rule's clearing of one interval: prices, volume, welfare and money [micro-coin]."""

    buy_price: int
    sell_price: int
    volume_wh: int
    welfare_uc: float
    collected_uc: int
    paid_out_uc: int
    fees_uc: int

    @property
    def surplus_uc(self) -> int:
        return self.collected_uc - self.paid_out_uc - self.fees_uc


@dataclass(frozen=True)
class IntervalClearing:
    """Both rules and the optimum on one interval's book, with the book's totals [Wh]."""

    orders: int
    demand_wh: int
    supply_wh: int
    optimum_uc: float
    rules: tuple[RuleOutcome, RuleOutcome]


def clear_interval(k: int, orders: list[Order], zone_fees: int) -> IntervalClearing:
    """Interval k's book through the keeper's code (events, prepare_clear, fills, payments) under both rules, the
    prices checked against the twin's walk, and the welfare optimum (HiGHS LP)."""
    words = [pack(o) for o in orders]
    committed, revealed = [], []
    for i, word in enumerate(words):
        c = commitment(MARKET, k, word, i.to_bytes(32, "big"))
        committed.append(Committed(k, i, c))
        revealed.append(Revealed(k, i, i, word, c))
    args = prepare_clear(MARKET, k, committed, revealed, zone_fees, RULE_UNIFORM)  # the positions; marks unused
    bids, asks = args.bid_positions, args.ask_positions
    outcomes = []
    for rule in (RULE_UNIFORM, RULE_TRADE_REDUCTION):
        result = fills(words, bids, asks, zone_fees, rule)
        twin = clearing_prices(words, bids, asks, zone_fees, rule)
        assert twin == (result.buy_price, result.sell_price, result.volume_wh), "keeper and twin disagree"
        money = payments(words, result, zone_fees)
        outcomes.append(
            RuleOutcome(
                result.buy_price,
                result.sell_price,
                result.volume_wh,
                welfare(orders, result.filled_wh, zone_fees) / 1000,
                money.collected,
                money.paid_out,
                money.fees,
            )
        )
    best, _ = lp_optimum(orders, zone_fees)
    demand = sum(o.energy_wh for o in orders if o.is_bid)
    return IntervalClearing(
        len(orders), demand, sum(o.energy_wh for o in orders) - demand, best / 1000, tuple(outcomes)
    )


# -- batteries -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Battery:
    """A home battery: usable capacity [Wh], power limit [W], one-way efficiency (charging and discharging)."""

    capacity_wh: float = 10_000.0
    power_w: float = 4_600.0
    efficiency: float = 0.95

    def __post_init__(self) -> None:
        if not (self.capacity_wh > 0 and self.power_w > 0 and 0 < self.efficiency <= 1):
            raise InputError("battery", f"{self} is not a battery (positive size and power, efficiency in (0, 1])")


def _step(battery: Battery, soc_wh: float, want_w: float) -> tuple[float, float]:
    """Charge (want > 0) or discharge (want < 0) up to the power limit and the energy stored or its room;
    returns the power drawn [W] and the new state of charge [Wh]."""
    h = HOURS_PER_INTERVAL
    if want_w > 0:
        p = min(want_w, battery.power_w, (battery.capacity_wh - soc_wh) / (battery.efficiency * h))
        return p, soc_wh + p * battery.efficiency * h
    if want_w < 0:
        p = min(-want_w, battery.power_w, soc_wh * battery.efficiency / h)
        return -p, soc_wh - p * h / battery.efficiency
    return 0.0, soc_wh


def self_consumption(battery: Battery, net_w: np.ndarray, soc_wh: float = 0.0) -> tuple[np.ndarray, float]:
    """Without a market: store the household's own PV surplus, cover its own deficit from the store. Returns the
    power [W] per interval and the state of charge at the end [Wh], from `soc_wh`."""
    soc = soc_wh
    out = np.zeros(len(net_w))
    for t, p in enumerate(net_w):
        out[t], soc = _step(battery, soc, -float(p))
    return out, soc


def price_thresholds(forecast: np.ndarray, quantile: float = 0.25) -> tuple[float, float]:
    """(low, high): the forecast's range cut at `quantile` from each end."""
    lo, hi = float(np.min(forecast)), float(np.max(forecast))
    return lo + quantile * (hi - lo), hi - quantile * (hi - lo)


def price_responsive(
    battery: Battery, net_w: np.ndarray, forecast: np.ndarray, spread: bool = True, soc_wh: float = 0.0
) -> tuple[np.ndarray, float]:
    """With the market: charge where the forecast price is at most `low` (see `price_thresholds`), and where it is
    at least `high` cover the household's own deficit from the store (no export); idle in between and on a flat
    forecast. `spread`: charge what is missing to full evenly over the cheap intervals still ahead; else at full
    power from the first cheap interval on. Returns the power [W] per interval and the end's state of charge [Wh]
    from `soc_wh`."""
    low, high = price_thresholds(forecast)
    soc = soc_wh
    out = np.zeros(len(net_w))
    if high <= low:
        return out, soc
    cheap = np.asarray(forecast) <= low
    cheap_ahead = np.cumsum(cheap[::-1])[::-1]  # cheap intervals from t on, t included
    for t, (p, price) in enumerate(zip(net_w, forecast)):
        if cheap[t]:
            missing_w = (battery.capacity_wh - soc) / (battery.efficiency * HOURS_PER_INTERVAL)
            want = missing_w / cheap_ahead[t] if spread else battery.power_w
        else:
            want = -max(float(p), 0.0) if price >= high else 0.0
        out[t], soc = _step(battery, soc, want)
    return out, soc
