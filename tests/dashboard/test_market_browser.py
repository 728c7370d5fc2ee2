"""The Market page in a real browser (Debian's chromium), the dashboard's app served in this process on the
market day of the embedded chain (tests/dashboard/market_day.py): plotly draws the prices and volume, the chart's
numbers are the table's and the chain's `Cleared` events', the populated page has the accessible basics, an
interval committed while the page is open appears without a reload, and the page fits a phone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gridchain.market.model import BUY, Order
from gridchain.net.server import LoopbackServer
from tests.support.browser import PHONE, no_horizontal_overflow, shoot

pytestmark = pytest.mark.slow
AUDIT = (Path(__file__).parent / "audit.js").read_text()


@pytest.fixture(scope="module")
def served(market_day):
    from gridchain.dashboard.app import create_app

    with LoopbackServer(create_app(market_day.deployment(poll_s=0.3))) as server:
        yield server.url


def table(page) -> dict[int, dict[str, str]]:
    """The intervals table: interval -> field -> data-value (or the text where there is none)."""
    rows = page.evaluate(
        """() => [...document.querySelectorAll('#intervals tbody tr')].map(tr => [tr.dataset.interval,
             Object.fromEntries([...tr.querySelectorAll('[data-field]')].map(td => [td.dataset.field,
               td.dataset.value !== undefined ? td.dataset.value : td.textContent.trim()]))])"""
    )
    return {int(k): v for k, v in rows}


def test_the_chart_draws_the_tables_numbers_and_a_new_interval_appears_live(market_day, served, page):
    page.goto(served + "/market")
    page.wait_for_selector("#chart .main-svg")  # plotly drew the chart
    cleared = [e.args for e in market_day.events(("Cleared",))]
    rows = table(page)
    assert {
        k: (int(r["buy_price"]), int(r["sell_price"]), int(r["volume"]), int(r["orders"]))
        for k, r in rows.items()
        if r["state"] == "cleared"
    } == {c["interval"]: (c["buy_price"], c["sell_price"], c["volume_wh"], c["orders"]) for c in cleared}
    chart = page.evaluate("document.getElementById('chart').data.map(t => [t.name, t.x, t.y])")
    times = [datetime.fromtimestamp(c["interval"] * 900, UTC).strftime("%Y-%m-%d %H:%M:%S") for c in cleared]
    assert chart == [
        ["buy price", times, [c["buy_price"] / 10**6 for c in cleared]],
        ["sell price", times, [c["sell_price"] / 10**6 for c in cleared]],
        ["volume", times, [c["volume_wh"] / 1000 for c in cleared]],
    ]
    shown = [r for _, r in sorted(rows.items()) if r["state"] == "cleared"]
    assert [int(r["time"]) for r in shown] == [c["interval"] * 900 for c in cleared]  # the table's own order
    assert page.evaluate(AUDIT) == []
    # a trader commits to a new interval while the page is open: its row comes with the next poll
    page.evaluate("window.notReloaded = true")
    k = max(rows) + 1
    trader = market_day.day.traders[2]
    market_day.client.commit(trader, k, Order(trader.lower(), 240_000, 400, 0, BUY))
    market_day.index()
    page.wait_for_selector(f'#intervals tbody tr[data-interval="{k}"]', timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    assert table(page)[k]["commits"] == "1" and list(table(page)) == sorted(table(page), reverse=True)
    assert page.text_content("#live") == f"Interval {k}: committing."
    shoot(page, "market")
    page.set_viewport_size(PHONE)
    page.reload()  # laid out at the phone's width, as the other pages' tests load it (plotly's resize is async)
    assert no_horizontal_overflow(page)
