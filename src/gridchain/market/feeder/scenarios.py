"""`gridchain experiment market`: one day of a SimBench LV feeder whose households trade their net load in the call
market, interval by interval, under both clearing rules and against the LP optimum, and the transformer's loading
with and without the market.

The setting (every number is stated in docs/market-experiment.md):
- The households are the feeder's H0 loads, each with SimBench's own load profile; a PV generator (sgen) at a
  household's bus belongs to the first household there, generators elsewhere stay passive base load.
- Per 15-minute interval a household's net load (load - PV, plus its battery) becomes one order: a net buyer
  bids, a net seller offers, at reservation prices drawn once per household (uniform, integers, between the
  feed-in tariff and the retail price) from `default_rng([seed, 0])`; orders are truthful.
- Two zones by electrical distance from the transformer (line length along the feeder): households beyond the
  median distance are zone 1, which pays a grid fee (the market's fee applies to every order in its zone).
- A share of households, drawn from `default_rng([seed, 1])` (nested: a larger share keeps the smaller share's
  owners), has a home battery (`BATTERY`). Without the market the batteries self-consume; with it they follow the
  price forecast (`model.price_responsive`, charging at full power or spread): the uniform prices of the same
  day's market without batteries (a perfect forecast of that market; where it does not trade, the retail price if
  its demand is at least its supply, else the feed-in tariff).
- Four power flows per interval: no market and no battery running (the grid feature's baseline), no market
  with self-consuming batteries, and the market with price-responsive batteries under each charging rule. The
  market itself moves money, not power: only the batteries' response changes the flows.
The clearing runs in Python through the keeper's code (`market.clearing`) and the twin's walk; no chain, since
the contract's result equals the twin's (tests/market/test_differential.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.grid import SIMBENCH_DAYS, SIMBENCH_LV_GRIDS, STEPS_PER_DAY, Feeder, simbench_feeder
from gridchain.market.feeder.model import (
    GAP_TOLERANCE,
    HOURS_PER_INTERVAL,
    Battery,
    IntervalClearing,
    clear_interval,
    interval_orders,
    price_responsive,
    self_consumption,
)

DEFAULT_FEEDER = "1-LV-rural3--0-sw"
FEED_IN_UC_PER_KWH = 80_000  # 8 ct/kWh: what a household's unsold surplus earns from the utility
RETAIL_UC_PER_KWH = 300_000  # 30 ct/kWh: what a household's unbought demand costs from the utility
FAR_ZONE_FEE_UC_PER_KWH = 20_000  # 2 ct/kWh on every order in zone 1 (the far half of the feeder)
BATTERY = Battery()


@dataclass(frozen=True)
class MarketConfig:
    """feeder: a SimBench LV code; day: of 2016 (0 = 1 January), None for the feeder's sunniest day; seed: of
    the prices and the battery owners; battery_share: of the households; start, intervals: the window of the
    day (15-minute intervals from midnight)."""

    feeder: str = DEFAULT_FEEDER
    day: int | None = None
    seed: int = 0
    battery_share: float = 0.3
    start: int = 0
    intervals: int = STEPS_PER_DAY

    def __post_init__(self) -> None:
        if self.feeder not in SIMBENCH_LV_GRIDS:
            raise InputError("feeder", f"{self.feeder!r} is not one of {', '.join(SIMBENCH_LV_GRIDS)}")
        if self.day is not None:
            check_int("day", self.day, 0, SIMBENCH_DAYS - 1)
        check_int("seed", self.seed, 0, 2**32 - 1)
        if not (isinstance(self.battery_share, float | int) and 0 <= self.battery_share <= 1):
            raise InputError("battery_share", f"{self.battery_share!r} is outside 0..1")
        check_int("start", self.start, 0, STEPS_PER_DAY - 1)
        check_int("intervals", self.intervals, 1, STEPS_PER_DAY - self.start)

    def name(self, day: int) -> str:
        short = self.feeder.removeprefix("1-LV-").removesuffix("--0-sw")
        window = "" if (self.start, self.intervals) == (0, STEPS_PER_DAY) else f"_i{self.start}+{self.intervals}"
        return f"market_{short}_d{day}_s{self.seed}_b{self.battery_share:g}{window}"

    @property
    def steps_total(self) -> int:
        """Units of work for a progress bar: three market passes and four power flows per interval."""
        return 7 * self.intervals


def sunniest_day(feeder: Feeder) -> int:
    """The day of 2016 with the most PV energy on the feeder."""
    daily = feeder.sgen_p_w.sum(axis=1)[: SIMBENCH_DAYS * STEPS_PER_DAY].reshape(SIMBENCH_DAYS, STEPS_PER_DAY)
    return int(daily.sum(axis=1).argmax())


@dataclass(frozen=True)
class Households:
    """The feeder's households over the window: load_w[t, h], pv_w[t, h] [W]; their buses, zones, prices."""

    load_w: np.ndarray
    pv_w: np.ndarray
    bus: np.ndarray
    zone: np.ndarray
    bid_price: np.ndarray
    ask_price: np.ndarray
    batteries: np.ndarray  # household indices with a battery, sorted
    has_pv: np.ndarray  # per household: owns a PV generator

    @property
    def net_w(self) -> np.ndarray:
        return self.load_w - self.pv_w


def zones_by_distance(feeder: Feeder, buses: np.ndarray) -> np.ndarray:
    """0 for a bus within the median (over `buses`) line distance from the transformer's LV side, else 1."""
    import networkx as nx
    import pandapower.topology as top

    graph = top.create_nxgraph(feeder.net, respect_switches=True)
    far = nx.single_source_dijkstra_path_length(graph, int(feeder.net.trafo.lv_bus.iloc[0]), weight="weight")
    km = np.array([far.get(int(b), np.inf) for b in buses])
    return (km > np.median(km)).astype(np.int64)


def households(feeder: Feeder, steps: range, config: MarketConfig) -> Households:
    """Loads, PV, zones, reservation prices and battery owners (see the module doc for the draws)."""
    loads = list(feeder.household_loads)
    bus = np.array([feeder.household_bus(h) for h in range(len(loads))], dtype=np.int64)
    rows = np.arange(steps.start, steps.stop)
    load_w = feeder.base_p_w[np.ix_(rows, loads)]
    pv_w = np.zeros_like(load_w)
    has_pv = np.zeros(len(loads), dtype=bool)
    for j, b in enumerate(feeder.net.sgen.bus):
        owners = np.flatnonzero(bus == int(b))
        if len(owners):
            pv_w[:, owners[0]] += feeder.sgen_p_w[rows, j]
            has_pv[owners[0]] = True
    n = len(loads)
    prices = np.random.default_rng([config.seed, 0]).integers(FEED_IN_UC_PER_KWH, RETAIL_UC_PER_KWH + 1, size=(2, n))
    owners = np.random.default_rng([config.seed, 1]).permutation(n)[: round(config.battery_share * n)]
    return Households(load_w, pv_w, bus, zones_by_distance(feeder, bus), prices[0], prices[1], np.sort(owners), has_pv)


def run_market(hh: Households, net_w: np.ndarray, first: int, tick: Callable[[], None]) -> list[IntervalClearing]:
    """Every interval's book cleared under both rules and solved as an LP; rule 0 must reach the optimum."""
    zone_fees = FAR_ZONE_FEE_UC_PER_KWH << 32
    out = []
    for t in range(len(net_w)):
        orders, _ = interval_orders(net_w[t], hh.bid_price, hh.ask_price, hh.zone)
        c = clear_interval(first + t, orders, zone_fees)
        if abs(c.rules[0].welfare_uc - c.optimum_uc) > GAP_TOLERANCE * max(1.0, abs(c.optimum_uc)):
            raise RuntimeError(f"interval {first + t}: rule 0's welfare {c.rules[0].welfare_uc} != {c.optimum_uc}")
        out.append(c)
        tick()
    return out


def forecast(clearings: list[IntervalClearing]) -> np.ndarray:
    """The price a household faces in each interval [micro-coin/kWh]: the uniform price where the market trades,
    else retail if demand is at least supply, else the feed-in tariff."""
    out = []
    for c in clearings:
        if c.rules[0].volume_wh:
            out.append(c.rules[0].buy_price)
        else:
            out.append(RETAIL_UC_PER_KWH if c.demand_wh >= c.supply_wh else FEED_IN_UC_PER_KWH)
    return np.array(out, dtype=float)


def battery_power(hh: Households, rule: Callable[..., tuple[np.ndarray, float]]) -> np.ndarray:
    """battery_w[t, h] [W] for each battery owner (0 elsewhere) in a repeated window: the rule runs once from an
    empty battery, and again from the state of charge that first run ended with (the second run counts, so that a
    battery neither starts the day empty nor takes the day's energy into the next for free)."""
    out = np.zeros_like(hh.net_w)
    for h in hh.batteries:
        _, soc_wh = rule(hh.net_w[:, h], 0.0)
        out[:, h], _ = rule(hh.net_w[:, h], soc_wh)
    return out


def flows(feeder: Feeder, steps: range, hh: Households, battery_w: np.ndarray, tick: Callable[[], None]) -> list:
    """One power flow per interval with the batteries' power added at their buses (the feeder must have them
    attached)."""
    index = {b: i for i, b in enumerate(feeder.ev_buses)}
    at = np.array([index[int(hh.bus[h])] for h in hh.batteries], dtype=np.int64)
    out = []
    for t, step in enumerate(steps):
        extra = np.bincount(at, weights=battery_w[t, hh.batteries], minlength=len(index)) if len(at) else None
        out.append(feeder.flow(step, extra if extra is not None else np.zeros(len(index))))
        tick()
    return out


RULES = ("full power", "spread")
"""The price-responsive batteries' two charging rules (`model.price_responsive`)."""
CASES = ("no market", "self-consumption", *(f"market, {r}" for r in RULES))
"""The power flow cases: no market with idle batteries (the grid feature's baseline), no market with
self-consuming batteries, the market with each rule's batteries."""


def run(config: MarketConfig, progress: Callable[[int], None] | None = None) -> dict:
    """The whole experiment as a summary dict (see `summary`)."""
    began = time.perf_counter()
    tick = (lambda: progress(1)) if progress is not None else (lambda: None)
    feeder = simbench_feeder(config.feeder)
    day = sunniest_day(feeder) if config.day is None else config.day
    first = day * STEPS_PER_DAY + config.start
    steps = range(first, first + config.intervals)
    hh = households(feeder, steps, config)
    passes = {"no batteries": run_market(hh, hh.net_w, first, tick)}
    prices = forecast(passes["no batteries"])
    battery_w = {
        "no market": np.zeros_like(hh.net_w),
        "self-consumption": battery_power(hh, lambda net, soc: self_consumption(BATTERY, net, soc)),
    }
    for rule in RULES:
        spread = rule == "spread"
        w = battery_power(hh, lambda net, soc, s=spread: price_responsive(BATTERY, net, prices, s, soc))
        battery_w[f"market, {rule}"] = w
        passes[f"batteries {rule}"] = run_market(hh, hh.net_w + w, first, tick)
    feeder.attach_ev_buses(tuple(sorted({int(hh.bus[h]) for h in hh.batteries})))
    cases = {name: flows(feeder, steps, hh, battery_w[name], tick) for name in CASES}
    out = summary(config, feeder, day, hh, passes, prices, cases, battery_w)
    return out | {"seconds": round(time.perf_counter() - began, 1)}


# -- the summary ---------------------------------------------------------------------------------------------
def market_metrics(clearings: list[IntervalClearing]) -> dict:
    """Day totals of one market pass: welfare against the optimum, volumes, prices, money [coin]."""
    best = sum(c.optimum_uc for c in clearings)
    demand_kwh = sum(c.demand_wh for c in clearings) / 1000
    out = {
        "optimum_coin": best / 1e6,
        "demand_kwh": demand_kwh,
        "supply_kwh": sum(c.supply_wh for c in clearings) / 1000,
    }
    traded = [c for c in clearings if c.optimum_uc > 0]
    for r, name in enumerate(("rule0", "rule1")):
        got = [c.rules[r] for c in clearings]
        volume_wh = sum(o.volume_wh for o in got)
        out[name] = {
            "welfare_coin": sum(o.welfare_uc for o in got) / 1e6,
            "efficiency": sum(o.welfare_uc for o in got) / best if best > 0 else None,  # None: nothing to gain
            "worst_interval_efficiency": min((c.rules[r].welfare_uc / c.optimum_uc for c in traded), default=None),
            "volume_kwh": volume_wh / 1000,
            "local_share_of_demand": volume_wh / 1000 / demand_kwh if demand_kwh else 0.0,
            "avg_buy_price_ct": sum(o.buy_price * o.volume_wh for o in got) / volume_wh / 1e4 if volume_wh else None,
            "avg_sell_price_ct": sum(o.sell_price * o.volume_wh for o in got) / volume_wh / 1e4 if volume_wh else None,
            "intervals_traded": sum(1 for o in got if o.volume_wh),
            "collected_coin": sum(o.collected_uc for o in got) / 1e6,
            "paid_out_coin": sum(o.paid_out_uc for o in got) / 1e6,
            "grid_fees_coin": sum(o.fees_uc for o in got) / 1e6,
            "market_keeps_coin": sum(o.surplus_uc for o in got) / 1e6,
            "budget_balanced_every_interval": all(o.surplus_uc >= 0 for o in got),
        }
    return out


def market_series(clearings: list[IntervalClearing]) -> dict:
    """Per interval: orders, prices [ct/kWh], volumes [kWh], welfare [coin]."""
    r0, r1 = ([c.rules[r] for c in clearings] for r in (0, 1))
    return {
        "orders": [c.orders for c in clearings],
        "rule0_price_ct": [o.buy_price / 1e4 if o.volume_wh else None for o in r0],
        "rule1_buy_price_ct": [o.buy_price / 1e4 if o.volume_wh else None for o in r1],
        "rule1_sell_price_ct": [o.sell_price / 1e4 if o.volume_wh else None for o in r1],
        "rule0_volume_kwh": [o.volume_wh / 1000 for o in r0],
        "rule1_volume_kwh": [o.volume_wh / 1000 for o in r1],
        "optimum_coin": [c.optimum_uc / 1e6 for c in clearings],
        "rule0_welfare_coin": [o.welfare_uc / 1e6 for o in r0],
        "rule1_welfare_coin": [o.welfare_uc / 1e6 for o in r1],
    }


def stored_kwh(battery_w: np.ndarray) -> float:
    """What the batteries gained over the window, net of their losses [kWh] (negative: they gave more than they
    took)."""
    e = BATTERY.efficiency
    charged = np.clip(battery_w, 0, None).sum() * e
    discharged = np.clip(-battery_w, 0, None).sum() / e
    return float((charged - discharged) * HOURS_PER_INTERVAL / 1000)


def flow_metrics(case: list) -> dict:
    p_kw = np.array([f.p_trafo_w for f in case]) / 1000
    return {
        "peak_trafo_loading_pct": max(f.trafo_loading_pct for f in case),
        "min_vm_pu": min(f.min_vm_pu for f in case),
        "peak_import_kw": float(max(p_kw.max(), 0.0)),
        "peak_export_kw": float(max(-p_kw.min(), 0.0)),
        "import_kwh": float(np.clip(p_kw, 0, None).sum() * HOURS_PER_INTERVAL),
        "export_kwh": float(np.clip(-p_kw, 0, None).sum() * HOURS_PER_INTERVAL),
    }


def summary(
    config: MarketConfig,
    feeder: Feeder,
    day: int,
    hh: Households,
    passes: dict[str, list[IntervalClearing]],
    prices: np.ndarray,
    cases: dict[str, list],
    battery_w: dict[str, np.ndarray],
) -> dict:
    """Everything the table, the figure and the docs read."""
    h = HOURS_PER_INTERVAL
    return {
        "name": config.name(day),
        "config": asdict(config),
        "day": day,
        "date": str(np.datetime64("2016-01-01") + np.timedelta64(day, "D")),
        "households": int(len(hh.bus)),
        "prosumers": int(hh.has_pv.sum()),
        "prosumers_with_battery": int(hh.has_pv[hh.batteries].sum()),
        "batteries": int(len(hh.batteries)),
        "zone1_households": int(hh.zone.sum()),
        "transformer_kva": feeder.sn_va / 1000,
        "assumptions": {
            "feed_in_ct": FEED_IN_UC_PER_KWH / 1e4,
            "retail_ct": RETAIL_UC_PER_KWH / 1e4,
            "zone1_fee_ct": FAR_ZONE_FEE_UC_PER_KWH / 1e4,
            "battery": asdict(BATTERY),
            "interval_minutes": int(60 * h),
        },
        "energy_kwh": {
            "household_load": float(hh.load_w.sum() * h / 1000),
            "household_pv": float(hh.pv_w.sum() * h / 1000),
            **{f"charged, {k}": float(np.clip(w, 0, None).sum() * h / 1000) for k, w in battery_w.items()},
            **{f"stored at the end, {k}": stored_kwh(w) for k, w in battery_w.items()},
        },
        "market": {name: market_metrics(c) for name, c in passes.items()},
        "flows": {name: flow_metrics(case) for name, case in cases.items()},
        "series": {
            "market": {name: market_series(c) for name, c in passes.items()},
            "forecast_ct": [float(p) / 1e4 for p in prices],
            "battery_kw": {k: [round(float(x) / 1000, 3) for x in w.sum(axis=1)] for k, w in battery_w.items()},
            "trafo_loading_pct": {n: [round(f.trafo_loading_pct, 3) for f in c] for n, c in cases.items()},
            "min_vm_pu": {n: [round(f.min_vm_pu, 5) for f in c] for n, c in cases.items()},
            "trafo_p_kw": {n: [round(f.p_trafo_w / 1000, 3) for f in c] for n, c in cases.items()},
        },
    }
