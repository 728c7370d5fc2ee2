"""docs/market.md's settlement example: the page's worked example (rule 0) settled through the twin against meter
readings (B1 over-draws, A2 delivers short, B2's deposit is short of its bill); the table is rendered here from the
run and must appear in the page verbatim. `PYTHONPATH=src:. python tests/market/settlement/test_docs_example.py`
prints it."""

from __future__ import annotations

import dataclasses

from gridchain.market.clearing import prepare_clear
from gridchain.market.model import RULE_UNIFORM
from gridchain.market.settlement import model as s
from tests.market.harness import MARKET, PARAMS, honest
from tests.market.test_docs_example import EXAMPLE, FEES, NAMES, PAGE, n

HOUSE = "0x" + "40" * 20
OWNER = "0x" + "0a" * 20
UTILITY = 300_000  # [micro-coin/kWh]
METERED_WH = {"B1": 2_300, "B2": 1_000, "A1": 1_000, "A2": 1_500}
DEPOSITS = {"B1": 1_000_000, "B2": 200_000, "A1": 1_000_000, "A2": 1_000_000}
HOUSE_FLOAT = 1_000_000


def cleared() -> tuple[s.Clearing, s.Book]:
    """The example (rule 0) committed, revealed and cleared through the market's twin: its stored clearing and the
    book (orders, valid bitmap, marks) whose hash it holds."""
    params = dataclasses.replace(PARAMS, zones=2, zone_fees=FEES, rule=RULE_UNIFORM)
    interval = honest(EXAMPLE, params)
    args = prepare_clear(MARKET, interval.k, interval.committed, interval.revealed, FEES, RULE_UNIFORM)
    c = interval.clear(args)
    return s.Clearing(c.buy_price, c.sell_price, c.volume_wh, c.orders, c.book), args.book


def settle() -> tuple[s.SettlementModel, list[tuple[str, s.UnitSettled]]]:
    clearing, book = cleared()
    model = s.SettlementModel.create(OWNER, 900, 96, FEES, 1, HOUSE, UTILITY, 96 * 900 + 2 * 86400)
    who = dict(zip(NAMES, EXAMPLE, strict=True))
    model.deposit(HOUSE, HOUSE_FLOAT)
    units = []
    for name, wh in METERED_WH.items():
        o = who[name]
        model.deposit(o.trader, DEPOSITS[name])
        model.set_meter(OWNER, o.trader, o.side, "0x" + format(0xEE00 + NAMES.index(name), "040x"), (o.trader, 1))
        units.append(s.Unit(o.trader, o.side, wh))
    logs = model.settle(1, clearing, book, units, lambda meter, start, unit: True)
    return model, list(zip(METERED_WH, logs, strict=True))


def table() -> str:
    model, logs = settle()
    rows = [
        "| order | filled [Wh] | metered [Wh] | deposit [µc] | paid [µc] | received [µc] | debt [µc] "
        "| balance after [µc] |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, e in logs:
        trader = e.trader
        rows.append(
            f"| {name} | {n(e.filled_wh)} | {n(e.metered_wh)} | {n(DEPOSITS[name])} | {n(e.debited)} | {n(e.credited)} "
            f"| {n(model.debt.get(trader, 0))} | {n(model.balance_of(trader))} |"
        )
    rows.append(f"| house | | | {n(HOUSE_FLOAT)} | | | | {n(model.balance_of(HOUSE))} |")
    return "\n".join(rows)


def test_the_page_shows_the_settlement_table():
    assert table() in PAGE.read_text(encoding="utf-8"), f"docs/market.md lacks (or has a stale copy of):\n{table()}"


def test_the_example_settles_by_the_rules_the_page_states():
    model, logs = settle()
    got = {name: (e.debited, e.credited, e.shortfall) for name, e in logs}
    assert got == {
        "B1": (530_000 + 90_000, 0, 0),  # 300 Wh over-drawn at 300,000 µc/kWh
        "B2": (200_000, 0, 75_000),  # owes 275,000, holds 200,000
        "A1": (0, 245_000, 0),
        "A2": (0, 470_000 * 1_500 // 2_000 - 150_000, 0),  # paid for 1,500 of 2,000 Wh, 500 Wh bought back at 300,000
    }
    assert model.held() == model.total_held == HOUSE_FLOAT + sum(DEPOSITS.values())
    assert model.balance_of(HOUSE) == HOUSE_FLOAT + 620_000 + 200_000 - 245_000 - 202_500


if __name__ == "__main__":
    print(table())
