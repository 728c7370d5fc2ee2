"""The V2V page: the reverse auctions of Abou El Houda et al. as the chain holds them: open auctions with their
best bid, ended ones with their trade and settlement, and on an auction's page its bid timeline (a chart and the
same numbers in a table), the receipts posted, how it closed and each party's pending returns.

The contract's history comes from the index (folded by `v2v_trades`, as `gridchain v2v auctions` folds it);
pending returns and a live auction's collateral and delivered energy from the node's views (no key: read
only; the node's newest state, which may be a block ahead of the index), re-read for the accounts the newly
indexed events touched, so nothing is asked again until the index's checkpoint moves. An open page polls
`/api/v2v?since=B` or `/api/v2v/auctions/N?after=K` for what changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse

from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.pages.indexed import IndexedContractView
from gridchain.dashboard.pages.v2v_trades import EVENTS, Market, Trade
from gridchain.v2v.client import V2VClient
from gridchain.v2v.model import Auction, required_collateral

TITLE, PATH = "V2V", "/v2v"
CLOSED_ROWS = 200  # the ended table shows the newest; the summary counts them all
MAX_AUCTION = 2**63  # larger path numbers are refused before any lookup
OPEN_STATES = ("bidding", "to end")


def twei(wei: int) -> str:
    """A rate in Twei/kWh, exact (the unit `gridchain v2v auctions` shows)."""
    return _exact(wei, 12)


def eth(wei: int) -> str:
    """An amount of money in ETH, exact."""
    return _exact(wei, 18)


def _exact(value: int, digits: int) -> str:
    return format(Decimal(value).scaleb(-digits).normalize(), "f")


def kwh(wh: int | None) -> str:
    return "-" if wh is None else _exact(wh, 3)


def utc(t: int | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


class V2VView(IndexedContractView):
    """The V2V contract's auctions from the index, with the node's views of what the events touched."""

    NAME, LABEL, EVENTS = "v2v", "V2V contract", EVENTS

    def __init__(self, deployment: Deployment) -> None:
        super().__init__(deployment)
        self.reset()

    def client_for(self, gateway, address: str) -> V2VClient:
        return V2VClient(gateway, address)

    def reset(self) -> None:
        self.market = Market()
        self._views: dict[str, Auction] = {}  # consumer (lower case) -> the node's view of its unclosed auction
        self._pending: dict[str, int] = {}  # account (lower case) -> pending returns [wei]
        self._times: dict[int, int] = {}  # block -> its timestamp [s]

    def fold(self, new) -> None:
        touched: set[str] = set()
        for event in new:
            touched |= self.market.apply(event)
        for account in touched:
            self._pending[account] = self._client.pending_returns(account)
        for trade in self.market.trades if touched else ():
            if not trade.record.closed and trade.consumer.lower() in touched:
                self._views[trade.consumer.lower()] = self._client.auction(trade.consumer)

    def time_of(self, block: int) -> int | None:
        if block not in self._times:
            header = self.deployment.gateway.header(block)
            if header is None:
                return None
            self._times[block] = header.timestamp
        return self._times[block]

    # -- what the templates show -------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        s = self.market.summary(self.now)
        s |= {"volume_kwh": kwh(s["volume_wh"]), "value_eth": eth(s["value_wei"]), "value_wei": str(s["value_wei"])}
        return s | {"checkpoint": self.checkpoint, "now": self.now, "now_utc": utc(self.now)}

    def row(self, trade: Trade) -> dict[str, Any]:
        """One auction as the tables show it; money and rates also as exact integers in strings (JSON safe)."""
        r = trade.record
        state = r.state(self.now)
        out = {
            "number": trade.number,
            "consumer": r.consumer,
            "state": state,
            "outcome": trade.outcome,
            "table": "open" if state in OPEN_STATES else "ended",
            "amount_kwh": kwh(r.amount_wh),
            "start_rate": twei(r.start_rate_wei_per_kwh),
            "rate": twei(r.rate_wei_per_kwh),
            "best_bid": twei(r.rate_wei_per_kwh) if r.bids else None,
            "bids": len(r.bids),
            "leader": r.winner or r.leader,
            "closing_time": r.closing_time,
            "deadline": utc(r.closing_time),
            "closes_in": r.closing_time - self.now if r.closing_time > self.now else None,
            "deposit_eth": eth(r.deposit_wei),
            "delivered_kwh": kwh(r.delivered_wh),
            "price_eth": None if trade.price_wei is None else eth(trade.price_wei),
            "to_provider_eth": None if r.to_provider_wei is None else eth(r.to_provider_wei),
            "to_consumer_eth": None if r.to_consumer_wei is None else eth(r.to_consumer_wei),
        }
        for key in ("amount_wh", "start_rate_wei_per_kwh", "rate_wei_per_kwh", "deposit_wei", "delivered_wh"):
            out[key] = str(getattr(r, key)) if getattr(r, key) is not None else None
        out["to_provider_wei"] = None if r.to_provider_wei is None else str(r.to_provider_wei)
        out["to_consumer_wei"] = None if r.to_consumer_wei is None else str(r.to_consumer_wei)
        return out

    def rows(self) -> tuple[list[dict], list[dict]]:
        """The open auctions and the ended ones (the newest CLOSED_ROWS), newest first."""
        rows = [self.row(t) for t in reversed(self.market.trades)]
        return [r for r in rows if r["table"] == "open"], [r for r in rows if r["table"] == "ended"][:CLOSED_ROWS]

    def pending(self, accounts=None) -> list[dict[str, Any]]:
        """Pending returns of `accounts` (None: every account that has some), as the node's views read them."""
        known = self.market.accounts
        chosen = [a.lower() for a in accounts] if accounts is not None else [a for a, v in self._pending.items() if v]
        out = []
        for a in chosen:
            wei = self._pending.get(a, 0)
            out.append({"account": known.get(a, a), "pending_wei": str(wei), "pending_eth": eth(wei)})
        return out

    def bids(self, trade: Trade, after: int = 0) -> list[dict[str, Any]]:
        r = trade.record
        out = []
        for i, (bid, tx) in enumerate(zip(r.bids, trade.bid_txs), 1):
            if i <= after:
                continue
            collateral = required_collateral(bid.rate_wei_per_kwh, r.amount_wh, r.min_collateral_wei)
            t = self.time_of(bid.block)
            out.append(
                {
                    "n": i,
                    "provider": bid.provider,
                    "rate": twei(bid.rate_wei_per_kwh),
                    "rate_wei_per_kwh": str(bid.rate_wei_per_kwh),
                    "rate_twei": bid.rate_wei_per_kwh / 10**12,
                    "collateral_eth": eth(collateral),
                    "collateral_wei": str(collateral),
                    "block": bid.block,
                    "time": utc(t),
                    "tx": tx,
                }
            )
        return out

    def auction(self, trade: Trade) -> dict[str, Any]:
        """An auction's page: its row, its steps on chain, the node's view while it is not closed, its parties."""
        r = trade.record
        steps = [{**vars(s), "time": utc(self.time_of(s.block)), "kwh": kwh(s.delivered_wh)} for s in trade.steps]
        view = None if r.closed else self._views.get(trade.consumer.lower())
        live = None
        if view is not None:
            live = {
                "collateral_eth": eth(view.collateral_wei),
                "collateral_wei": str(view.collateral_wei),
                "delivered_kwh": kwh(view.delivered_wh),
                "delivered_wh": view.delivered_wh,
                "ended_at": utc(view.ended_at) if view.ended_at else None,
            }
        return {
            "row": self.row(trade),
            "min_collateral_eth": eth(r.min_collateral_wei),
            "start_rate_twei": r.start_rate_wei_per_kwh / 10**12,
            "started_block": r.started_block,
            "winner": r.winner,
            "token": "0x" + r.token.hex() if r.token else None,
            "expired": trade.expired,
            "steps": steps,
            "live": live,
            "pending": self.pending(trade.parties()),
            "consumer": r.consumer,
        }

    def trade(self, number: int) -> Trade | None:
        trades = self.market.trades
        return trades[number - 1] if 1 <= number <= len(trades) else None


def found(v: V2VView, number: int) -> Trade:
    trade = v.trade(number)
    if trade is None:
        raise HTTPException(404, f"auction: {number} is not on chain (as far as the index has read)")
    return trade


def market_page(v: V2VView) -> dict[str, Any]:
    opened, ended = v.rows()
    return {"summary": v.summary(), "opened": opened, "ended": ended, "pending": v.pending()}


def market_changes(v: V2VView, since: int, render) -> dict[str, Any]:
    """The summary, and the rows of the auctions not closed or changed above index block `since`, as HTML
    rendered by the templates the page was (so a row updated live reads as a reloaded one would)."""
    rows = []
    for t in v.market.trades:
        if t.record.closed and t.last_block <= since:
            continue
        row = v.row(t)
        html = render(f"v2v_{row['table']}_row.html", r=row)
        rows.append({"number": t.number, "table": row["table"], "state": row["state"], "html": html})
    summary = v.summary()
    return {
        **summary,
        "summary_html": render("v2v_summary.html", s=summary),
        "rows": rows,
        "pending_html": render("v2v_pending.html", pending=v.pending(), caption="pending"),
    }


def auction_page(v: V2VView, number: int) -> dict[str, Any]:
    trade = found(v, number)
    return {"a": v.auction(trade), "bids": v.bids(trade), "checkpoint": v.checkpoint}


def auction_changes(v: V2VView, number: int, after: int, render) -> dict[str, Any]:
    """The bids above the first `after` (rows and chart points) and the auction's sections, rendered again."""
    trade = found(v, number)
    a = v.auction(trade)
    bids = v.bids(trade, after)
    for b in bids:
        b["html"] = render("v2v_bid_row.html", b=b)
    return {
        "checkpoint": v.checkpoint,
        "state": a["row"]["state"],
        "bids": bids,
        "facts_html": render("v2v_auction_facts.html", a=a),
        "trade_html": render("v2v_auction_trade.html", a=a),
        "pending_html": render("v2v_pending.html", pending=a["pending"], caption="parties"),
    }


def router(deployment: Deployment, templates) -> APIRouter:
    view = V2VView(deployment)
    api = APIRouter()

    def render(name: str, **context) -> str:
        return templates.get_template(name).render(**context)

    def auction_read(number: int, build) -> dict[str, Any]:
        out = view.read(build)
        if "note" in out:
            raise HTTPException(404, f"auction: {number} is not on chain ({out['note']})")
        return out

    @api.get(PATH, response_class=HTMLResponse)
    def page(request: Request):
        context = view.read(market_page) | {"closed_rows": CLOSED_ROWS}
        return templates.TemplateResponse(request, "v2v.html", context)

    @api.get("/api/v2v")
    def changes(since: int = Query(-1, ge=-1, le=2**63, description="the index block the page shows")):
        return view.read(lambda v: market_changes(v, since, render))

    @api.get(PATH + "/auctions/{number}", response_class=HTMLResponse)
    def auction(request: Request, number: int = Path(..., ge=1, le=MAX_AUCTION)):
        context = auction_read(number, lambda v: auction_page(v, number))
        return templates.TemplateResponse(request, "v2v_auction.html", context)

    @api.get("/api/v2v/auctions/{number}")
    def auction_api(
        number: int = Path(..., ge=1, le=MAX_AUCTION),
        after: int = Query(0, ge=0, le=2**63, description="the bids the page shows"),
    ):
        return auction_read(number, lambda v: auction_changes(v, number, after, render))

    return api
