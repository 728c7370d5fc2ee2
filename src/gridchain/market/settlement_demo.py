"""The market demo's clearing house: the day's fills settled in energy coins against the households' meters.

Before the day the keeper (the utility: owner of the metering contract and of the settlement, the meters'
gateway, and the house, i.e. the treasury's account) deploys contracts/metering.vy and
contracts/market_settlement.vy, registers each trader's consumption and feed-in meter to it (community 1), binds
them in the settlement, and every trader approves and deposits DEPOSIT_COINS of its minted coins; the house
deposits its float. After the day every meter signs one reading per traded interval: what the household drew
(consumption meter) or fed in (feed-in meter). Most deliver exactly their fill; one seller's feed-in meter
records a shortfall and one buyer's consumption meter an over-draw (chosen by the seed), so the imbalance rules
show. The keeper, as gateway, anchors each meter's day root once the day is over, and settles every cleared
interval, UNITS_PER_CALL units a call. Every number reported is read back from the chain (events, views).

Units: coins [micro-coin], energy [Wh], prices [micro-coin/kWh].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from eth_utils import keccak

from gridchain.chain.gateway import Gateway
from gridchain.coin import UNIT, CoinClient
from gridchain.market.clearing import ClearArgs
from gridchain.market.client import CallMarketClient
from gridchain.market.settlement.client import SettlementClient, unit_of
from gridchain.market.settlement.model import ASK, BID, UnitSettled, unit_fills
from gridchain.metering import MeterGateway, MeteringClient, SmartMeter

COMMUNITY = 1
DEPOSIT_COINS = 20  # each trader's deposit of its minted coins [coins]
HOUSE_FLOAT_COINS = 1_000  # the house's float, minted to the treasury and deposited [coins]
METERING_NOTICE_S = 86_400  # the metering escrow's notice (unused by the market) [s]
UNITS_PER_CALL = 50
SHORT_SHARE = 0.6  # the short seller's feed-in meter records this share of its fill
OVER_SHARE = 1.5  # the over-drawing buyer's consumption meter records this multiple of its fill
DAY_S = 86_400


@dataclass
class House:
    """The clearing house set up for the day: contracts, the households' meters, what was deposited."""

    settlement: SettlementClient
    metering: MeteringClient
    keeper: str
    meters: dict[tuple[str, int], SmartMeter]
    deposits: dict[str, int]
    gas: dict[str, int] = field(default_factory=dict)


def meter_key(seed: int, trader: int, side: int) -> bytes:
    """A household meter's private key, derived from the demo's seed (the same meters on every chain)."""
    return keccak(text=f"gridchain market demo meter {seed} {trader} {side}")


def open_house(
    gateway: Gateway,
    keeper: str,
    traders: list[str],
    coin: CoinClient,
    market: CallMarketClient,
    utility_price_per_kwh: int,
    seed: int,
) -> House:
    """Deploy metering and the settlement, register and bind two meters per trader, take every deposit."""
    metering, m_deployed = MeteringClient.deploy(gateway, keeper, METERING_NOTICE_S)
    metering.set_gateway(keeper, keeper)
    horizon = market.params().horizon
    settlement, s_deployed = SettlementClient.deploy(
        gateway,
        keeper,
        coin.address,
        metering.address,
        market.address,
        COMMUNITY,
        keeper,
        utility_price_per_kwh,
        horizon * 900 + 2 * DAY_S,
    )
    domain = metering.domain()
    meters, binds = {}, []
    for i, trader in enumerate(traders):
        for side in (BID, ASK):
            meter = SmartMeter(meter_key(seed, i, side), domain)
            metering.register_meter(keeper, meter.address, trader, COMMUNITY, 2 * i + side)
            metering.assign_gateway(keeper, meter.address, keeper)
            binds.append(settlement.set_meter(keeper, trader, side, meter.address).gas_used)
            meters[(trader.lower(), side)] = meter
    coin.mint(keeper, keeper, HOUSE_FLOAT_COINS * UNIT)
    deposits, gas = {}, []
    for account, coins in [(t, DEPOSIT_COINS) for t in traders] + [(keeper, HOUSE_FLOAT_COINS)]:
        coin.approve(account, settlement.address, coins * UNIT)
        gas.append(settlement.deposit(account, coins * UNIT).gas_used)
        deposits[account.lower()] = coins * UNIT
    house = House(settlement, metering, keeper, meters, deposits)
    house.gas = {
        "deploy_metering": m_deployed.gas_used,
        "deploy_settlement": s_deployed.gas_used,
        "set_meter": max(binds),
        "deposit": max(gas),
    }
    return house


def fills_of(args: ClearArgs, buy_price: int, sell_price: int, volume_wh: int, zone_fees: int) -> dict:
    """(trader, side) -> its filled energy [Wh] in the interval, as the settlement replays the book."""
    fills = unit_fills(args.book, buy_price, sell_price, volume_wh, zone_fees)
    return {key: energy_wh for key, (energy_wh, _) in fills.items()}


def metered(fills: dict[int, dict], seed: int) -> tuple[dict[tuple[str, int, int], int], dict]:
    """What each filled (trader, side) meter records per interval k: its fill, except one seller's shortfall and
    one buyer's over-draw drawn with the seed. Returns the readings and the two deviations chosen."""
    readings = {(t, side, k): wh for k, f in fills.items() for (t, side), wh in f.items()}
    rng = np.random.default_rng([seed, 3])
    chosen = {}
    for side, share, name in ((ASK, SHORT_SHARE, "short"), (BID, OVER_SHARE, "over")):
        units = sorted(key for key in readings if key[1] == side)
        if units:
            key = units[int(rng.integers(len(units)))]
            readings[key] = int(readings[key] * share)
            chosen[name] = {"trader": key[0], "interval": key[2]}
    return readings, chosen


def anchor_day(house: House, readings: dict, intervals: list[int], day: int) -> MeterGateway:
    """Every meter signs a reading per traded interval (0 where its side had no fill), the gateway collects them
    and, the day being over, anchors each meter's day root."""
    gateway = MeterGateway(house.metering, house.keeper)
    for (trader, side), meter in house.meters.items():
        gateway.collect(meter.sign_reading(k * 900, readings.get((trader, side, k), 0)) for k in intervals)
    gas = [gateway.anchor(meter.address, day).gas_used for meter in house.meters.values()]
    house.gas["anchor_root"] = max(gas)
    return gateway


def settle_interval(
    house: House, meters: MeterGateway, k: int, args: ClearArgs, fills: dict, readings: dict
) -> tuple[list[UnitSettled], list[int]]:
    """Settle interval k's filled (trader, side) units, buyers first (the house is paid before it pays),
    UNITS_PER_CALL a call. Returns the events and each call's gas."""
    units = []
    for trader, side in sorted(fills, key=lambda key: (key[1], key[0])):
        proof = meters.proof(house.meters[(trader, side)].address, k * 900)
        wh = readings[(trader, side, k)]
        units.append(unit_of(trader, side, wh, 0, proof.signed.signature, proof.proof))
    book = args.book
    events, gas = [], []
    for start in range(0, len(units), UNITS_PER_CALL):
        logs, receipt = house.settlement.settle(house.keeper, k, book, units[start : start + UNITS_PER_CALL])
        events += logs
        gas.append(receipt.gas_used)
    return events, gas


def parties(events: list[UnitSettled], chosen: dict) -> list[dict]:
    """One row per settled (trader, side): energy filled and metered, coins paid and received, debt added."""
    rows: dict[tuple[str, int], dict] = {}
    marks = {
        (c["trader"], c["interval"], side): name
        for name, side in (("short", ASK), ("over", BID))
        for c in [chosen.get(name)]
        if c
    }
    for e in events:
        row = rows.setdefault(
            (e.trader, e.side),
            {
                "trader": e.trader,
                "side": e.side,
                "filled_wh": 0,
                "metered_wh": 0,
                "paid": 0,
                "received": 0,
                "debt_added": 0,
                "imbalance": "",
            },
        )
        row["filled_wh"] += e.filled_wh
        row["metered_wh"] += e.metered_wh
        row["paid"] += e.debited
        row["received"] += e.credited
        row["debt_added"] += e.shortfall
        row["imbalance"] = marks.get((e.trader, e.interval, e.side), row["imbalance"])
    return [rows[key] for key in sorted(rows, key=lambda key: (key[0], key[1]))]


def books(house: House, coin: CoinClient, traders: list[str]) -> dict:
    """Every account's balance and debt read back, and the conservation of coins (asserted)."""
    s = house.settlement
    accounts = {t.lower(): {"balance": s.balance_of(t), "debt": s.debt(t)} for t in traders}
    house_balance = s.balance_of(house.keeper)
    deposited, withdrawn = sum(house.deposits.values()), 0
    held, total_held = coin.balance_of(s.address), s.total_held()
    balances = sum(a["balance"] for a in accounts.values())
    if not balances + house_balance == total_held == held == deposited - withdrawn:
        raise RuntimeError(
            f"coins not conserved: balances {balances} + house {house_balance}, total_held {total_held}, "
            f"held {held}, deposits - withdrawals {deposited - withdrawn}"
        )
    totals = {
        "deposits": deposited,
        "withdrawals": withdrawn,
        "trader_balances": balances,
        "house_balance": house_balance,
        "house_deposit": house.deposits[house.keeper.lower()],
        "total_held": total_held,
        "coins_held": held,
        "debt": sum(a["debt"] for a in accounts.values()),
    }
    return {"accounts": accounts, "totals": totals}


def settle_day(
    house: House, coin: CoinClient, traders: list[str], cleared: list[tuple[int, ClearArgs, dict]], seed: int
) -> dict:
    """After the day: meters sign, the gateway anchors, the keeper settles every interval; the books read back.
    `cleared` holds per interval k its clear's arguments and (trader, side) -> filled Wh."""
    gateway = house.settlement.gateway
    fills = {k: f for k, _, f in cleared}
    readings, chosen = metered(fills, seed)
    day = cleared[0][0] * 900 // DAY_S
    if gateway.now() < (day + 1) * DAY_S:
        gateway.advance_time((day + 1) * DAY_S - gateway.now())
    meters = anchor_day(house, readings, list(fills), day)
    events, calls = [], []
    for k, args, f in cleared:
        if f:
            logs, gas = settle_interval(house, meters, k, args, f, readings)
            events += logs
            calls += [{"interval": k, "units": n, "gas": g} for n, g in zip(_sizes(len(f)), gas, strict=True)]
    house.gas["settle_call_max"] = max((c["gas"] for c in calls), default=0)
    units = sum(c["units"] for c in calls)
    house.gas["settle_per_unit"] = round(sum(c["gas"] for c in calls) / units) if units else 0
    return {
        "address": house.settlement.address,
        "metering": house.metering.address,
        "house": house.keeper.lower(),
        "utility_price": int(house.settlement.view("UTILITY_PRICE")),
        "units_per_call": UNITS_PER_CALL,
        "deviations": chosen,
        "calls": calls,
        "parties": parties(events, chosen),
        "gas": house.gas,
        **books(house, coin, traders),
    }


def _sizes(n: int) -> list[int]:
    return [min(UNITS_PER_CALL, n - start) for start in range(0, n, UNITS_PER_CALL)]
