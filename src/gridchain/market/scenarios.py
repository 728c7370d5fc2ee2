"""A community's day on the call market: prosumers and consumers trade sealed orders per 15-minute interval.

P traders (the first half prosumers with rooftop PV, the rest consumers; sizes, zones and prices drawn from the
seed) trade in I delivery intervals of the next day, spread evenly over 07:00 .. 19:00 UTC (quarter-hours in a
row once I exceeds 25). Each trader's energy in an interval is its net position from a simple daily profile, not
measured data: load = a base of 0.25 kW with a morning (07:30) and an evening (19:00) peak, scaled per household;
PV = the rated power x 0.75 x a half-sine from 06:00 to 20:00 (noon peak at 13:00) with a little cloud noise. A
trader with surplus offers it (an ask), one short of energy bids for the shortfall. Prices lie between the
feed-in tariff (what the utility pays for export) and the retail price (what it charges for import): asks in
the lower part of that range, bids in the upper part, drawn per order.

The market (contracts/call_market.vy) is deployed with either rule; every trader commits its sealed order, the
chain's clock is moved to the reveal window, every trader reveals, the clock is moved past it and the keeper
clears from the events (`prepare` + `clear`). Per interval the clearing is read back from the chain and checked
against the keeper's fills (`clearing.fills`), and its welfare against the linear programme's optimum
(`clearing.lp_optimum`): rule 0 must reach it (asserted). The energy coin is deployed and every trader gets a
starting balance, of which it deposits part in the clearing house (contracts/market_settlement.vy); after the day
the fills are settled in coins against the households' signed, anchored meter readings (`settlement_demo`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from gridchain.chain.gateway import Gateway
from gridchain.coin import UNIT, CoinClient
from gridchain.errors import InputError
from gridchain.market import settlement_demo
from gridchain.market.clearing import ClearArgs, fills, lp_optimum, payments, welfare
from gridchain.market.client import CallMarketClient
from gridchain.market.model import (
    BUY,
    RULE_TRADE_REDUCTION,
    RULE_UNIFORM,
    SELL,
    Order,
    Params,
    effective_price,
    unpack,
)

RULES = {"uniform": RULE_UNIFORM, "trade-reduction": RULE_TRADE_REDUCTION}
FEED_IN_PER_KWH = 80_000  # [micro-coin/kWh] what the utility pays for exported energy (0.08 coin)
RETAIL_PER_KWH = 300_000  # [micro-coin/kWh] what it charges for imported energy (0.30 coin)
ZONE_FEES_PER_KWH = (0, 10_000)  # [micro-coin/kWh] the grid fee of zones 0 and 1
STARTING_COINS = 100  # each trader's balance minted before the day [coins]
FIRST_QUARTER, LAST_QUARTER = 28, 76  # 07:00 and 19:00 as quarter-hours of the day
MAX_TRADERS, MAX_INTERVALS = 200, 68  # 68: from 07:00 to the day's last quarter-hour


@dataclass(frozen=True)
class DemoConfig:
    """`traders` P, `intervals` I, the clearing rule (0 uniform, 1 trade reduction), the seed."""

    traders: int = 20
    intervals: int = 8
    rule: int = RULE_UNIFORM
    seed: int = 0

    def __post_init__(self) -> None:
        for name, value, lo, hi in (
            ("traders", self.traders, 2, MAX_TRADERS),
            ("intervals", self.intervals, 1, MAX_INTERVALS),
            ("rule", self.rule, 0, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise InputError(name, f"{value!r} is not an integer in {lo}..{hi}")

    @property
    def rule_name(self) -> str:
        return next(name for name, r in RULES.items() if r == self.rule)

    @property
    def name(self) -> str:
        return f"market_demo_{self.rule_name}_p{self.traders}_i{self.intervals}_seed{self.seed}"

    def params(self) -> Params:
        fees = sum(f << (32 * z) for z, f in enumerate(ZONE_FEES_PER_KWH))
        return Params(900, 300, 300, 96, len(ZONE_FEES_PER_KWH), fees, self.rule)

    def quarters(self) -> list[int]:
        """The quarter-hours of the day (0 .. 95) traded, spread evenly over 07:00 .. 19:00."""
        if self.intervals == 1:
            return [48]  # noon
        step = max(1, (LAST_QUARTER - FIRST_QUARTER) // (self.intervals - 1))
        return [FIRST_QUARTER + i * step for i in range(self.intervals)]


@dataclass(frozen=True)
class Household:
    """A trader's profile: rated PV [kW] (0: a consumer), its load's scale and grid zone."""

    pv_kw: float
    load_scale: float
    zone: int


def households(config: DemoConfig) -> list[Household]:
    rng = np.random.default_rng([config.seed, 1])
    prosumers = (config.traders + 1) // 2
    return [
        Household(
            float(rng.uniform(3.0, 8.0)) if i < prosumers else 0.0,
            float(rng.uniform(0.6, 1.4)),
            int(rng.integers(0, len(ZONE_FEES_PER_KWH))),
        )
        for i in range(config.traders)
    ]


def load_kw(hour: float) -> float:
    """A household's load at `hour` before its scale [kW]: base, morning and evening peaks."""
    return 0.25 + 0.8 * np.exp(-(((hour - 7.5) / 1.0) ** 2)) + 1.2 * np.exp(-(((hour - 19.0) / 1.5) ** 2))


def pv_per_kw(hour: float) -> float:
    """Output per rated kW at `hour` [kW/kW]: a half-sine from 06:00 to 20:00, 0.75 at its peak."""
    return 0.75 * max(0.0, float(np.sin(np.pi * (hour - 6.0) / 14.0)))


def orders_for(config: DemoConfig, homes: list[Household], traders: list[str], quarter: int) -> list[Order]:
    """Every trader's order for one interval: its net energy [Wh] from the profile, a seeded price [micro-coin/kWh]."""
    rng = np.random.default_rng([config.seed, 2, quarter])
    hour = quarter / 4 + 0.125  # the interval's middle
    span = RETAIL_PER_KWH - FEED_IN_PER_KWH
    out = []
    for trader, home in zip(traders, homes, strict=True):
        pv = home.pv_kw * pv_per_kw(hour) * rng.uniform(0.85, 1.0)
        net_kw = pv - home.load_scale * load_kw(hour) * rng.uniform(0.8, 1.2)
        energy_wh = max(1, round(abs(net_kw) * 250))  # kW over a quarter-hour, in Wh
        side = SELL if net_kw > 0 else BUY
        share = rng.uniform(0.0, 0.65) if side == SELL else rng.uniform(0.35, 1.0)
        price = round((FEED_IN_PER_KWH + share * span) / 1000) * 1000
        out.append(Order(trader.lower(), price, energy_wh, home.zone, side))
    return out


@dataclass
class DemoResult:
    config: dict
    chain: str
    market: str
    coin: str
    traders: list[str]
    households: list[dict]
    gas: dict = field(default_factory=dict)
    balances: dict = field(default_factory=dict)  # trader -> micro-coins read back from the coin
    intervals: list[dict] = field(default_factory=list)
    settlement: dict = field(default_factory=dict)  # the clearing house's day (settlement_demo.settle_day)
    note: str = (
        "fills are settled in energy coins by the clearing house against each household's anchored meter "
        "readings (imbalances at the retail price); energy outside the fills is the utility's business"
    )

    def to_json(self) -> dict:
        return asdict(self)

    def totals(self) -> dict:
        s = self.intervals
        opt = sum(i["lp_optimum"] for i in s)
        return {
            "volume_wh": sum(i["volume_wh"] for i in s),
            "welfare": sum(i["welfare"] for i in s),
            "lp_optimum": opt,
            "efficiency": None if opt <= 0 else sum(i["welfare"] for i in s) / opt,
            "collected": sum(i["collected"] for i in s),
            "paid_out": sum(i["paid_out"] for i in s),
            "fees": sum(i["fees"] for i in s),
            "surplus": sum(i["surplus"] for i in s),
        }


def _advance_to(gateway: Gateway, t: int) -> None:
    if t > gateway.now():
        gateway.advance_time(t - gateway.now())


def trade_interval(
    market: CallMarketClient, keeper: str, traders: list[str], k: int, orders: list[Order], start_block: int
) -> tuple[dict, ClearArgs]:
    """Commit, reveal and clear interval k with these orders; the numbers read back from the chain, checked, and
    the clear's arguments (the book the settlement replays)."""
    gateway, p = market.gateway, market.params()
    if gateway.now() >= p.reveal_open(k):
        raise RuntimeError(f"interval {k}: the chain's clock is already past its commits")
    sealed, commits = [], []
    for trader, order in zip(traders, orders, strict=True):
        s, receipt = market.commit(trader, k, order)
        sealed.append(s)
        commits.append(receipt.gas_used)
    _advance_to(gateway, p.reveal_open(k))
    reveals = [market.reveal(trader, s).gas_used for trader, s in zip(traders, sealed, strict=True)]
    _advance_to(gateway, p.reveal_close(k))
    args = market.prepare(k, p.zone_fees, p.rule, start_block)
    clear = market.clear(keeper, k, args)
    stored = market.clearing(k)
    result = fills(args.orders, args.bid_positions, args.ask_positions, p.zone_fees, p.rule)
    assert (stored.buy_price, stored.sell_price, stored.volume_wh, stored.orders) == (
        result.buy_price,
        result.sell_price,
        result.volume_wh,
        len(args.orders),
    ), f"interval {k}: the chain's clearing {stored} is not the keeper's {result}"
    revealed = [unpack(w) for w in args.orders]
    achieved = welfare(revealed, result.filled_wh, p.zone_fees)
    optimum, _ = lp_optimum(revealed, p.zone_fees)
    if p.rule == RULE_UNIFORM:  # the walk is the LP's optimum: the uniform rule must reach it
        assert abs(achieved - optimum) <= 1e-6 * max(1.0, abs(optimum)), (k, achieved, optimum)
    money = payments(args.orders, result, p.zone_fees)
    summary = {
        "interval": k,
        "bids": len(args.bid_positions),
        "asks": len(args.ask_positions),
        "orders": stored.orders,
        "buy_price": stored.buy_price,
        "sell_price": stored.sell_price,
        "volume_wh": stored.volume_wh,
        "welfare": achieved,
        "lp_optimum": optimum,
        "efficiency": None if optimum <= 0 else achieved / optimum,
        "collected": money.collected,
        "paid_out": money.paid_out,
        "fees": money.fees,
        "surplus": money.surplus,
        "gas_commit": round(sum(commits) / len(commits)),
        "gas_reveal": round(sum(reveals) / len(reveals)),
        "gas_clear": clear.gas_used,
        "book": [
            {
                "trader": o.trader,
                "side": o.side,
                "price": o.price,
                "effective_price": effective_price(w, p.zone_fees),
                "energy_wh": o.energy_wh,
                "zone": o.zone,
                "filled_wh": q,
                "amount": a,
            }
            for w, o, q, a in zip(args.orders, revealed, result.filled_wh, money.amounts, strict=True)
        ],
    }
    return summary, args


def run(
    gateway: Gateway, config: DemoConfig = DemoConfig(), progress: Callable[[str], None] | None = None
) -> DemoResult:
    """The day on `gateway`, whose accounts are the keeper (also the coin's treasury) and P traders."""
    say = progress or (lambda _: None)
    if len(gateway.accounts) < config.traders + 1:
        raise InputError("traders", f"{config.traders} traders need {config.traders + 1} accounts on the chain")
    keeper, *traders = gateway.accounts[: config.traders + 1]
    params = config.params()
    market, deployed = CallMarketClient.deploy(gateway, keeper, params)
    coin, coin_deployed = CoinClient.deploy(gateway, keeper)
    mints = [coin.mint(keeper, t, STARTING_COINS * UNIT).gas_used for t in traders]
    homes = households(config)
    result = DemoResult(
        asdict(config) | {"name": config.name, "rule_name": config.rule_name, "params": asdict(params)},
        gateway.kind,
        market.address,
        coin.address,
        list(traders),
        [asdict(h) for h in homes],
    )
    result.gas = {"deploy_market": deployed.gas_used, "deploy_coin": coin_deployed.gas_used, "mint": max(mints)}
    house = settlement_demo.open_house(gateway, keeper, traders, coin, market, RETAIL_PER_KWH, config.seed)
    say("deployed")
    day_s = (gateway.now() // 86_400 + 1) * 86_400  # tomorrow, 00:00 UTC
    cleared = []
    for quarter in config.quarters():
        k = (day_s + quarter * 900) // params.interval_s
        _advance_to(gateway, params.reveal_open(k) - params.interval_s)  # commits open, k within the horizon
        orders = orders_for(config, homes, traders, quarter)
        interval, args = trade_interval(market, keeper, traders, k, orders, deployed.block)
        result.intervals.append({"time": f"{quarter // 4:02d}:{quarter % 4 * 15:02d}", **interval})
        filled = settlement_demo.fills_of(
            args, interval["buy_price"], interval["sell_price"], interval["volume_wh"], params.zone_fees
        )
        cleared.append((k, args, filled))
        say(f"interval {result.intervals[-1]['time']}")
    result.settlement = settlement_demo.settle_day(house, coin, traders, cleared, config.seed)
    say("settled")
    result.balances = {t: coin.balance_of(t) for t in traders}
    return result


def accounts_needed(config: DemoConfig) -> int:
    return config.traders + 1
