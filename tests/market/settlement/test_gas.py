"""The settlement's gas-report section on a small book: its figures, the book's split, the report's sizing."""

from __future__ import annotations

from rich.console import Console

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.experiments.gas_report import GasReportConfig
from gridchain.market.model import BUY
from gridchain.market.settlement import gas


def test_the_book_is_split_between_buyers_and_sellers():
    traders = [f"0x{i:040x}" for i in range(1, 7)]
    orders = gas.book_orders(traders, 60)
    assert {o.trader for o in orders if o.side == BUY} == set(traders[:3])
    assert {o.trader for o in orders if o.side != BUY} == set(traders[3:])
    assert orders == gas.book_orders(traders, 60)


def test_the_section_on_a_small_book():
    s = gas.measure_settlement(BoaGateway(accounts=9), orders=80, traders_per_side=4, leaves=12, units_per_call=3)
    assert s["config"] == {"orders": 80, "traders": 8, "units_per_call": 3, "proof_leaves": 12, "seed": gas.BOOK_SEED}
    assert s["volume_wh"] > 0 and s["units"] == sum(c["units"] for c in s["calls"]) > 3
    assert all(c["units"] <= 3 and c["gas_per_unit"] == round(c["gas"] / c["units"]) for c in s["calls"])
    assert s["settle_per_unit"] == max(c["gas_per_unit"] for c in s["calls"] if c["units"] == 3)
    for fn in ("deploy", "anchor_root", "deposit", "request_withdrawal", "withdraw"):
        assert isinstance(s[fn], int) and s[fn] > 21_000, fn
    assert gas.targets({"market_settlement": s}) == {}
    console = Console(record=True, width=120)
    gas.show({"market_settlement": s}, console, "prague, embedded chain")
    assert "settle per unit (3 a call)" in console.export_text()


def test_the_report_settles_the_1000_order_book_or_a_small_reports_largest():
    assert gas.book_size(GasReportConfig()) == 1_000
    assert gas.book_size(GasReportConfig(market_sizes=(16, 40))) == 40
    assert gas.book_size(GasReportConfig(market_sizes=(2048,))) == 1_000
