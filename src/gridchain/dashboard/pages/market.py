"""The Market page: the community's call market (contracts/call_market.vy) as the chain holds it. Per delivery
interval its time, commits, reveals and clearing (prices in coin/kWh, exact: micro-coins / 10**6; volume in
kWh), a chart of the prices and volume over the intervals with the same numbers in a table, a summary, and the
market's parameters as the contract's immutables say.

The history comes from the index (folded by `market_intervals`); the parameters from the node's views, once per
address (they are immutable). An open page polls `/api/market?since=B` for what changed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.pages.indexed import IndexedContractView
from gridchain.dashboard.pages.market_intervals import EVENTS, Interval, MarketDay
from gridchain.dashboard.pages.v2v import kwh, utc
from gridchain.market.client import CallMarketClient
from gridchain.market.model import RULE_TRADE_REDUCTION, RULE_UNIFORM, Params

TITLE, PATH = "Market", "/market"
ROWS = 192  # the table and the chart show the newest intervals (two days of quarter-hours); the summary all
MICRO = 10**6  # micro-coins per coin
RULES = {RULE_UNIFORM: "uniform price (pay-as-clear)", RULE_TRADE_REDUCTION: "trade reduction"}
UNSETTLED = ("committing", "revealing", "to clear")  # states that change with the chain's time alone


def coins(micro: int | None) -> str:
    """An amount or price in micro-coins as coins, exact."""
    return "-" if micro is None else format(Decimal(micro).scaleb(-6).normalize(), "f")


def rounded(mean: Fraction | None) -> int | None:
    """A mean price [micro-coin/kWh, a fraction] to the nearest micro-coin (half to even)."""
    if mean is None:
        return None
    return int((Decimal(mean.numerator) / Decimal(mean.denominator)).quantize(Decimal(1), ROUND_HALF_EVEN))


class MarketView(IndexedContractView):
    """The deployed call market's intervals from the index, and its parameters from the node."""

    NAME, LABEL, EVENTS = "market", "call market", EVENTS

    def __init__(self, deployment: Deployment) -> None:
        super().__init__(deployment)
        self.day = MarketDay()
        self.params = Params()

    @property
    def address(self) -> str:
        return self._client.address

    def client_for(self, gateway, address: str) -> CallMarketClient:
        return CallMarketClient(gateway, address)

    def reset(self) -> None:
        self.params = self._client.params()  # immutables: read once per address
        self.day = MarketDay()

    def fold(self, new) -> None:
        for event in new:
            self.day.apply(event)

    # -- what the templates show -------------------------------------------------------------------------
    def row(self, i: Interval) -> dict[str, Any]:
        """One interval as the table shows it; prices also in micro-coins and volume in Wh (exact integers). A clear
        in which nothing traded has no prices (the contract stores 0 for both)."""
        c = i.cleared
        traded = c is not None and c.volume_wh > 0
        start = self.params.start(i.number)
        return {
            "number": i.number,
            "start": start,
            "time": utc(start),
            "state": i.state(self.params, self.now),
            "commits": i.commits,
            "reveals": i.reveals,
            "bids": i.bids,
            "asks": i.asks,
            "cleared": c is not None,
            "traded": traded,
            "buy_price": c.buy_price if traded else None,
            "sell_price": c.sell_price if traded else None,
            "buy_price_coin": coins(c.buy_price if traded else None),
            "sell_price_coin": coins(c.sell_price if traded else None),
            "volume_wh": None if c is None else c.volume_wh,
            "volume_kwh": kwh(None if c is None else c.volume_wh),
            "orders": None if c is None else c.orders,
            "book": None if c is None else "0x" + c.book.hex(),
            "tx": i.cleared_tx,
        }

    def rows(self) -> list[dict[str, Any]]:
        """The newest ROWS intervals, newest first."""
        return [self.row(i) for i in reversed(self.day.ordered()[-ROWS:])]

    def chart(self, rows: list[dict[str, Any]]) -> dict[str, list]:
        """The cleared intervals among `rows`, oldest first: start time (UTC), prices [coin/kWh; None where
        nothing traded: a gap in the lines], volume [kWh]."""
        cleared = [r for r in reversed(rows) if r["cleared"]]
        return {
            "interval_s": self.params.interval_s,
            "time": [r["time"] for r in cleared],
            "buy": [r["buy_price"] / MICRO if r["traded"] else None for r in cleared],
            "sell": [r["sell_price"] / MICRO if r["traded"] else None for r in cleared],
            "volume": [r["volume_wh"] / 1000 for r in cleared],
        }

    def summary(self) -> dict[str, Any]:
        s = self.day.summary()
        states = [i.state(self.params, self.now) for i in self.day.intervals.values()]
        buy, sell = rounded(s.mean_buy_price), rounded(s.mean_sell_price)
        return {
            "intervals": s.intervals,
            "cleared": s.cleared,
            "open": sum(st in UNSETTLED for st in states),
            "void": states.count("void"),
            "volume_wh": s.volume_wh,
            "volume_kwh": kwh(s.volume_wh),
            "mean_buy_price": buy,
            "mean_sell_price": sell,
            "mean_buy_price_coin": coins(buy),
            "mean_sell_price_coin": coins(sell),
            "checkpoint": self.checkpoint,
            "now": self.now,
            "now_utc": utc(self.now),
        }

    def parameters(self) -> dict[str, Any]:
        p = self.params
        return {
            "address": self.address,
            "interval_s": p.interval_s,
            "reveal_s": p.reveal_s,
            "gate_s": p.gate_s,
            "horizon": p.horizon,
            "zones": p.zones,
            "fees": [{"zone": z, "fee": p.fee(z), "fee_coin": coins(p.fee(z))} for z in range(p.zones)],
            "rule": p.rule,
            "rule_name": RULES.get(p.rule, str(p.rule)),
        }


def market_page(v: MarketView) -> dict[str, Any]:
    rows = v.rows()
    return {"summary": v.summary(), "rows": rows, "chart": v.chart(rows), "params": v.parameters()}


def market_changes(v: MarketView, since: int, render) -> dict[str, Any]:
    """The summary, the chart's series, and the rows of the intervals changed above index block `since` or not
    cleared (their state moves with the chain's clock), as HTML rendered by the template the page was."""
    rows = v.rows()
    changed = []
    for r in rows:
        if v.day.intervals[r["number"]].last_block <= since and r["cleared"]:
            continue
        changed.append({"number": r["number"], "state": r["state"], "html": render("market_row.html", r=r)})
    summary = v.summary()
    return {
        **summary,
        "summary_html": render("market_summary.html", s=summary),
        "rows": changed,
        "chart": v.chart(rows),
    }


def router(deployment: Deployment, templates) -> APIRouter:
    view = MarketView(deployment)
    api = APIRouter()

    def render(name: str, **context) -> str:
        return templates.get_template(name).render(**context)

    @api.get(PATH, response_class=HTMLResponse)
    def page(request: Request):
        context = view.read(market_page) | {"max_rows": ROWS}
        return templates.TemplateResponse(request, "market.html", context)

    @api.get("/api/market")
    def changes(since: int = Query(-1, ge=-1, le=2**63, description="the index block the page shows")):
        return view.read(lambda v: market_changes(v, since, render))

    return api
