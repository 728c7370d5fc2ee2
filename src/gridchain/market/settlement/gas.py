"""Gas of the call market's settlement (contracts/market_settlement.vy): what paying the fills in coins costs.

One interval of a 1,000-order book (the market section's seeded book: prices 250,000 micro-coins/kWh +- 30 %,
100 .. 5,000 Wh, zones 0 and 1), its bids from 50 buyers and its asks from 50 sellers (development accounts, 10
orders each), is cleared on the market's seeded ring words (`gridchain.market.gas.clear_seeded`). Every trader
holds a deposit and one bound meter of its side; each meter signs 96 readings of the day (its fill in the
interval, seeded noise around it), the gateway anchors each 96-leaf day root, and the keeper settles every filled
(trader, side) in calls of 50 units. Then a trader holding coins deposits again, requests a withdrawal and, after
the notice, withdraws. Every figure is a receipt's gasUsed under the report's hardfork; per unit = a full call's
gas / 50 (its book's calldata and hash, and the one pass over its 1,000 orders, included). The book is the clear's
(orders, valid bitmap, marks): `ClearArgs.book`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from gridchain.chain.gateway import Gateway
from gridchain.coin import UNIT, CoinClient
from gridchain.experiments.gas_report import GasReportConfig
from gridchain.market.client import CallMarketClient
from gridchain.market.gas import BOOK_SEED, PARAMS, clear_seeded, make_book
from gridchain.market.model import BUY, Order
from gridchain.market.settlement.client import SettlementClient, unit_of
from gridchain.market.settlement.model import ASK, BID, unit_fills
from gridchain.metering import MeterGateway, MeteringClient, SmartMeter

ORDERS, TRADERS_PER_SIDE, UNITS_PER_CALL, LEAVES = 1_000, 50, 50, 96
COMMUNITY = 1
UTILITY_PRICE = 300_000  # [micro-coin/kWh]
NOTICE_S = PARAMS.horizon * PARAMS.interval_s + 2 * 86_400
DEPOSIT = 100 * UNIT  # each trader's and the house's [micro-coins]
DAY_S = 86_400


def book_orders(traders: list[str], n: int) -> list[Order]:
    """The seeded n-order book with its i-th bid from buyer i mod P and its i-th ask from seller i mod P (the
    first P traders buy, the next P sell)."""
    p = len(traders) // 2
    count = {BID: 0, ASK: 0}
    orders = []
    for o in make_book(n, BOOK_SEED):
        side = BID if o.side == BUY else ASK
        trader = traders[count[side] % p + (0 if side == BID else p)]
        count[side] += 1
        orders.append(Order(trader.lower(), o.price_per_kwh, o.energy_wh, o.zone, o.side))
    return orders


def open_accounts(
    gateway: Gateway, traders: list[str]
) -> tuple[SettlementClient, MeteringClient, CallMarketClient, int]:
    """Coin, market, metering and settlement (and its deploy's gas); each trader and the house (the keeper)
    deposit DEPOSIT."""
    keeper = gateway.accounts[0]
    coin, _ = CoinClient.deploy(gateway, keeper)
    market, _ = CallMarketClient.deploy(gateway, keeper, PARAMS)
    metering, _ = MeteringClient.deploy(gateway, keeper, DAY_S)
    metering.set_gateway(keeper, keeper)
    settlement, deploy = SettlementClient.deploy(
        gateway, keeper, coin.address, metering.address, market.address, COMMUNITY, keeper, UTILITY_PRICE, NOTICE_S
    )
    for account in (keeper, *traders):
        coin.mint(keeper, account, 2 * DEPOSIT)
        coin.approve(account, settlement.address, 2 * DEPOSIT)
        settlement.deposit(account, DEPOSIT)
    return settlement, metering, market, deploy.gas_used


def bind_meters(settlement: SettlementClient, metering: MeteringClient, traders: list[str]) -> dict[str, SmartMeter]:
    """One meter per trader, of its side (buyers' consumption, sellers' feed-in), registered and bound."""
    keeper = settlement.gateway.accounts[0]
    p, meters = len(traders) // 2, {}
    for i, trader in enumerate(traders):
        side = BID if i < p else ASK
        meter = SmartMeter(keccak(text=f"gridchain settlement gas meter {i}"), metering.domain())
        metering.register_meter(keeper, meter.address, trader, COMMUNITY, i)
        metering.assign_gateway(keeper, meter.address, keeper)
        settlement.set_meter(keeper, trader, side, meter.address)
        meters[trader.lower()] = meter
    return meters


def settle_book(gateway: Gateway, orders: int, traders_per_side: int, leaves: int, units_per_call: int) -> dict:
    """Clear the book, anchor every filled trader's day of `leaves` readings, settle `units_per_call` a call."""
    keeper, traders = gateway.accounts[0], gateway.accounts[1 : 1 + 2 * traders_per_side]
    settlement, metering, market, deploy_gas = open_accounts(gateway, traders)
    meters = bind_meters(settlement, metering, traders)
    k, args, _ = clear_seeded(gateway, market, book_orders(traders, orders))
    c = market.clearing(k)
    fills = unit_fills(args.book, c.buy_price, c.sell_price, c.volume_wh, PARAMS.zone_fees)
    filled = {key: energy_wh for key, (energy_wh, _) in fills.items()}
    day = k * PARAMS.interval_s // DAY_S
    first = day * (DAY_S // PARAMS.interval_s)
    rng = np.random.default_rng([BOOK_SEED, 7])
    anchors = MeterGateway(metering, keeper)
    times = sorted([k, *[t for t in range(first, first + DAY_S // PARAMS.interval_s) if t != k][: leaves - 1]])
    for (trader, _), energy_wh in filled.items():
        noise = rng.integers(0, 2 * energy_wh + 1, len(times))  # the day's other readings; the fill at k
        anchors.collect(
            meters[trader].sign_reading(t * PARAMS.interval_s, energy_wh if t == k else int(wh))
            for t, wh in zip(times, noise, strict=True)
        )
    if gateway.now() < (day + 1) * DAY_S:
        gateway.advance_time((day + 1) * DAY_S - gateway.now())
    anchor_gas = [anchors.anchor(meters[trader].address, day).gas_used for trader, _ in filled]
    units = []
    for trader, side in sorted(filled, key=lambda key: (key[1], key[0])):  # buyers first: the house is paid first
        proof = anchors.proof(meters[trader].address, k * PARAMS.interval_s)
        units.append(unit_of(trader, side, filled[(trader, side)], 0, proof.signed.signature, proof.proof))
    book = args.book
    calls = []
    for start in range(0, len(units), units_per_call):
        batch = units[start : start + units_per_call]
        _, receipt = settlement.settle(keeper, k, book, batch)
        calls.append(
            {"units": len(batch), "gas": receipt.gas_used, "gas_per_unit": round(receipt.gas_used / len(batch))}
        )
    return {
        "settlement": settlement,
        "deploy": deploy_gas,
        "volume_wh": c.volume_wh,
        "units": len(units),
        "calls": calls,
        "anchor_root": max(anchor_gas),
    }


def accounts_gas(gateway: Gateway, settlement: SettlementClient) -> dict[str, int]:
    """A trader holding coins deposits again, requests a withdrawal and withdraws after the notice."""
    trader = gateway.accounts[1]
    gas = {"deposit": settlement.deposit(trader, UNIT).gas_used}
    gas["request_withdrawal"] = settlement.request_withdrawal(trader, UNIT).gas_used
    gateway.advance_time(NOTICE_S)
    gas["withdraw"] = settlement.withdraw(trader).gas_used
    return gas


def measure_settlement(
    gateway: Gateway,
    orders: int = ORDERS,
    traders_per_side: int = TRADERS_PER_SIDE,
    leaves: int = LEAVES,
    units_per_call: int = UNITS_PER_CALL,
) -> dict:
    """The section's figures on one gateway whose accounts 1 .. 2 P are the traders (0 the keeper and house)."""
    day = settle_book(gateway, orders, traders_per_side, leaves, units_per_call)
    settlement = day.pop("settlement")
    full = [c for c in day["calls"] if c["units"] == units_per_call]
    return {
        "config": {
            "orders": orders,
            "traders": 2 * traders_per_side,
            "units_per_call": units_per_call,
            "proof_leaves": leaves,
            "seed": BOOK_SEED,
        },
        **day,
        "settle_per_unit": max((c["gas_per_unit"] for c in full), default=None),
        **accounts_gas(gateway, settlement),
    }


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def book_size(config: GasReportConfig) -> int:
    """The book settled: the market section's 1,000-order book when the report measures it, else its largest
    (a small report's)."""
    return ORDERS if ORDERS in config.market_sizes else min(ORDERS, max(config.market_sizes))


def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    orders = book_size(config)
    gas = measure_settlement(gateway(), orders, max(1, min(TRADERS_PER_SIDE, orders // 20)))
    progress("market settlement")
    return {"market_settlement": gas}


def targets(report: dict) -> dict[str, dict]:
    return {}  # the issue states no target for the settlement


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    s = report["market_settlement"]
    c = s["config"]
    table = Table(title=f"Market settlement, {c['orders']:,}-order book, {c['units_per_call']} units a call ({where})")
    for col in ("function", "gas"):
        table.add_column(col, justify="right")
    table.add_row("deploy", f"{s['deploy']:,}")
    for i, call in enumerate(s["calls"]):
        table.add_row(
            f"settle call {i + 1}: {call['units']} units (per unit)", f"{call['gas']:,} ({call['gas_per_unit']:,})"
        )
    per_unit = "-" if s["settle_per_unit"] is None else f"{s['settle_per_unit']:,}"
    table.add_row(f"settle per unit ({c['units_per_call']} a call)", per_unit)
    for fn in ("anchor_root", "deposit", "request_withdrawal", "withdraw"):
        table.add_row(fn, f"{s[fn]:,}")
    console.print(table)
