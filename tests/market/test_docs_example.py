"""docs/market.md's worked example (3 bids, 3 asks, two zones) re-run through the twin and the keeper's
clearing: every table on the page is rendered here from the run and must appear in the page verbatim.

To refresh the page after a change of the rule: `PYTHONPATH=src:. python tests/market/test_docs_example.py`
prints the tables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gridchain.market.clearing import fills, lp_optimum, payments, welfare
from gridchain.market.model import RULE_TRADE_REDUCTION, RULE_UNIFORM, effective_price, fee, pack, unpack
from tests.market.harness import PARAMS, honest, order, zone_fees

PAGE = Path(__file__).resolve().parents[2] / "docs" / "market.md"
FEES = zone_fees(10_000, 20_000)
NAMES = ["B1", "B2", "B3", "A1", "A2", "A3"]
EXAMPLE = [
    order(1, 320_000, 2_000, 0, zone=0),
    order(2, 280_000, 1_500, 0, zone=1),
    order(3, 240_000, 1_000, 0, zone=0),
    order(4, 200_000, 1_000, 1, zone=0),
    order(5, 230_000, 2_000, 1, zone=1),
    order(6, 260_000, 1_500, 1, zone=0),
]


def n(x: int) -> str:
    return f"{x:,}"


def run(rule: int):
    """The example through the twin (commit, reveal, clear) and the keeper's fills and payments."""
    interval = honest(EXAMPLE, dataclasses.replace(PARAMS, zones=2, zone_fees=FEES, rule=rule))
    args = interval.args()
    cleared = interval.clear(args)
    result = fills(args.orders, args.bid_positions, args.ask_positions, FEES, rule)
    assert (cleared.buy_price, cleared.sell_price, cleared.volume_wh) == (
        result.buy_price,
        result.sell_price,
        result.volume_wh,
    )
    return args, result, payments(args.orders, result, FEES)


def tables() -> list[str]:
    runs = {rule: run(rule) for rule in (RULE_UNIFORM, RULE_TRADE_REDUCTION)}
    args = runs[RULE_UNIFORM][0]
    orders = [
        "| order | side | zone | price [µc/kWh] | energy [Wh] | fee [µc/kWh] | effective price [µc/kWh] |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for name, o in zip(NAMES, EXAMPLE):
        side = "buy" if o.is_bid else "sell"
        eff = effective_price(pack(o), FEES)
        orders.append(
            f"| {name} | {side} | {o.zone} | {n(o.price)} | {n(o.energy_wh)} | {n(fee(FEES, o.zone))} | {n(eff)} |"
        )
    per_order = [
        "| order | rule 0 fill [Wh] | rule 0 money [µc] | rule 1 fill [Wh] | rule 1 money [µc] |",
        "|---|---:|---:|---:|---:|",
    ]
    for r, name in enumerate(NAMES):
        cells = []
        for rule in (RULE_UNIFORM, RULE_TRADE_REDUCTION):
            _, result, money = runs[rule]
            verb = "pays" if unpack(args.orders[r]).is_bid else "receives"
            q = result.filled_wh[r]
            cells += [n(q), f"{verb} {n(money.amounts[r])}" if q else "–"]
        per_order.append(f"| {name} | " + " | ".join(cells) + " |")
    optimum, _ = lp_optimum(EXAMPLE, FEES)
    summary = [
        "| rule | buy price | sell price | volume [Wh] | welfare [µc] | of the LP optimum | collected [µc] "
        "| paid out [µc] | grid fees [µc] | market keeps [µc] |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rule, label in ((RULE_UNIFORM, "0 uniform"), (RULE_TRADE_REDUCTION, "1 trade reduction")):
        _, result, money = runs[rule]
        w = welfare(EXAMPLE, result.filled_wh, FEES)
        summary.append(
            f"| {label} | {n(result.buy_price)} | {n(result.sell_price)} | {n(result.volume_wh)} | {n(w // 1000)} "
            f"| {100 * w / optimum:.1f} % | {n(money.collected)} | {n(money.paid_out)} | {n(money.fees)} "
            f"| {n(money.surplus)} |"
        )
    return ["\n".join(orders), "\n".join(per_order), "\n".join(summary)]


def test_the_page_shows_the_runs_tables():
    page = PAGE.read_text(encoding="utf-8")
    for table in tables():
        assert table in page, f"docs/market.md lacks (or has a stale copy of):\n{table}"


def test_the_example_is_the_one_the_page_walks_through():
    _, result, money = run(RULE_UNIFORM)
    assert (result.buy_price, result.volume_wh) == (255_000, 3_000)
    _, result, money = run(RULE_TRADE_REDUCTION)
    assert result.excluded == (1, 4)  # B2 and A2
    assert (result.buy_price, result.sell_price, result.volume_wh, money.surplus) == (260_000, 250_000, 1_000, 10_000)


if __name__ == "__main__":
    print("\n\n".join(tables()))
