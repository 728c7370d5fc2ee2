"""The V2V page in a real browser (Debian's chromium) against `gridchain dashboard` on a small V2V market on anvil
(tests/dashboard/v2v_market.py): the auctions, bids, winner, settlement and pending returns shown are the
chain's (read afresh from the node) and agree with `gridchain v2v auctions`; a bid placed while the pages are
open appears on both without a reload; no page logs an error or asks anything of a host but 127.0.0.1."""

from __future__ import annotations

import json

import httpx
import pytest
from typer.testing import CliRunner

from gridchain.chain.anvil import start_anvil
from gridchain.chain.events import read_events
from gridchain.cli import app
from gridchain.v2v.model import cost
from gridchain.v2v.parties.book import AuctionBook
from tests.dashboard.serve import dashboard_process
from tests.dashboard.v2v_market import OPEN_WH, SETTLED_WH, START_RATE, TWEI, V2VMarket
from tests.support.browser import PHONE, no_horizontal_overflow, shoot

pytestmark = pytest.mark.integration
SETTLED, OPEN = 2, 3  # the auctions' numbers: 1 ended without a bid, 2 settled, 3 open


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    node = start_anvil(accounts=8)
    m = None
    try:
        m = V2VMarket(node, tmp_path_factory.mktemp("v2v") / "pilot")
        m.build()
        yield m
    finally:
        if m is not None:
            m.close()
        node.stop()


@pytest.fixture(scope="module")
def dashboard(market):
    """`gridchain dashboard` on the market's config, as its own process; its URL."""
    with dashboard_process(market.config) as url:
        yield url


# -- the chain's truth, read afresh from the node ---------------------------------------------------------------
def chain(market) -> tuple[AuctionBook, list]:
    """The auctions folded from the node's own logs (not the index), and those logs."""
    c = market.client
    names = ("AuctionStarted", "BidPlaced", "AuctionEnded", "ReceiptPosted", "TradeClosed")
    events = read_events(c.gateway, c.artifact, c.address, names, market.start_block)
    book = AuctionBook()
    for e in events:
        if e.name != "ReceiptPosted":
            book.apply(e)
    return book, events


def bid_block(market, consumer: str) -> int:
    """The block of the last bid in `consumer`'s auction, from the node's logs."""
    _, events = chain(market)
    return [e.block for e in events if e.name == "BidPlaced" and e.args["consumer"] == consumer][-1]


def pending(market) -> dict[str, int]:
    """Every EV's pending returns, as the contract's view says now."""
    return {a: market.client.pending_returns(a) for a in market.gateway.accounts}


def cli_auctions(market) -> list[dict]:
    r = CliRunner().invoke(app, ["v2v", "auctions", "--all", "--json", "--config", str(market.config)])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["auctions"]


# -- what the page shows ------------------------------------------------------------------------------------
def fields(page, rows: str) -> dict[str, dict[str, str]]:
    """Rows `rows` (a selector) keyed by their data-auction/data-bid/data-account: field -> data-value or text."""
    return page.evaluate(
        """(sel) => Object.fromEntries([...document.querySelectorAll(sel)].map(tr => [
             tr.dataset.auction || tr.dataset.bid || tr.dataset.account,
             Object.fromEntries([...tr.querySelectorAll('[data-field]')].map(td => [td.dataset.field,
               td.dataset.value !== undefined ? td.dataset.value : td.textContent.trim()]))]))""",
        rows,
    )


def facts(page, scope: str) -> dict[str, str]:
    return page.evaluate(
        """(sel) => Object.fromEntries([...document.querySelectorAll(sel + ' [data-field]')].map(el =>
             [el.dataset.field, el.dataset.value !== undefined ? el.dataset.value : el.textContent.trim()]))""",
        scope,
    )


def test_the_auctions_shown_are_the_chains_and_the_clis(market, dashboard, page):
    page.goto(dashboard + "/v2v")
    book, _ = chain(market)
    now = market.gateway.now()
    opened, ended = fields(page, "#open tbody tr"), fields(page, "#ended tbody tr")
    assert set(opened) | set(ended) == {str(n) for n in range(1, len(book.auctions) + 1)}
    cli = cli_auctions(market)
    for n, (a, listed) in enumerate(zip(book.auctions, cli), 1):
        assert listed["consumer"] == a.consumer and listed["state"] == a.state(now)  # the CLI agrees with the chain
        row = (opened if a.state(now) in ("bidding", "to end") else ended)[str(n)]
        assert row["consumer"] == a.consumer and row["amount"] == str(a.amount_wh)
        if str(n) in opened:
            assert row["state"] == a.state(now) and row["start_rate"] == str(a.start_rate_wei_per_kwh)
            assert (row["best_bid"], row["bids"], row["leader"]) == (
                str(a.rate_wei_per_kwh),
                str(len(a.bids)),
                a.leader,
            )
            assert row["deadline"] == str(a.closing_time)
        else:
            assert row["winner"] == (a.winner or "") == (listed["winner"] or "")
            assert row["to_provider"] == str(a.to_provider_wei or "") and row["delivered"] == str(a.delivered_wh or "")
            assert row["to_consumer"] == str(a.to_consumer_wei or "")
    assert ended[str(SETTLED)]["outcome"] == "settled" and ended["1"]["outcome"] == "no bid"
    summary = facts(page, "#v2v-summary")
    price = cost(book.auctions[SETTLED - 1].rate_wei_per_kwh, SETTLED_WH)
    assert (summary["auctions"], summary["bidding"], summary["settled"], summary["no_bid"]) == ("3", "1", "1", "1")
    assert (summary["volume"], summary["value"]) == (str(SETTLED_WH), str(price))
    shown = {a: int(v["pending"]) for a, v in fields(page, "#v2v-pending tbody tr").items()}
    assert shown == {a: v for a, v in pending(market).items() if v}
    assert len(shown) == 3  # c3's deposit without a bid; p1's first and p2's outbid collateral
    shoot(page, "v2v")


def test_an_auctions_page_shows_its_bids_winner_receipts_settlement_and_parties(market, dashboard, page):
    book, events = chain(market)
    a = book.auctions[SETTLED - 1]
    page.goto(dashboard + "/v2v")
    page.click(f'#ended tbody tr[data-auction="{SETTLED}"] a')
    page.wait_for_selector("#chart .main-svg")  # plotly drew the chart
    bids = fields(page, "#bids tbody tr")
    placed = [e for e in events if e.name == "BidPlaced" and e.args["consumer"] == a.consumer]
    assert [(b["provider"], b["rate"], b["block"]) for b in bids.values()] == [
        (e.args["provider"], str(e.args["rate_wei_per_kwh"]), str(e.block)) for e in placed
    ]
    assert [b["tx"] for b in bids.values()] == [e.tx_hash[:10] + "…" for e in placed]
    chart = page.evaluate("document.getElementById('chart').data.map(t => [t.x, t.y])")
    assert sorted(x for xs, _ in chart[1:] for x in xs) == [e.block for e in placed]  # a series per bidder
    assert len(chart) == 1 + len({e.args["provider"] for e in placed})
    rates = [e.args["rate_wei_per_kwh"] / TWEI for e in placed]
    assert chart[0] == [[a.started_block, *(e.block for e in placed)], [START_RATE / TWEI, *rates]]
    trade = facts(page, "#trade")
    [closed] = [e.args for e in events if e.name == "TradeClosed"]
    assert trade["winner"] == a.winner == closed["provider"]
    assert (trade["delivered"], trade["to_provider"], trade["to_consumer"]) == tuple(
        str(closed[k]) for k in ("delivered_wh", "to_provider_wei", "to_consumer_wei")
    )
    [posted] = [e for e in events if e.name == "ReceiptPosted"]
    history = page.evaluate(
        """() => [...document.querySelectorAll('#history tbody tr')].map(tr =>
             [tr.dataset.event, tr.querySelector('[data-field=delivered]').dataset.value])"""
    )
    assert ["ReceiptPosted", str(posted.args["delivered_wh"])] in history
    assert [h[0] for h in history] == ["AuctionStarted", "AuctionEnded", "ReceiptPosted", "TradeClosed"]
    parties = {acc: int(v["pending"]) for acc, v in fields(page, "#v2v-pending tbody tr").items()}
    assert set(parties) == {a.consumer, *(e.args["provider"] for e in placed)}
    assert parties == {acc: market.client.pending_returns(acc) for acc in parties}
    shoot(page, "v2v-auction")


def test_a_bid_placed_while_the_pages_are_open_appears_without_a_reload(market, dashboard, page):
    page.goto(dashboard + f"/v2v/auctions/{OPEN}")
    listing = page.context.new_page()
    listing.goto(dashboard + "/v2v")
    for p in (page, listing):
        p.evaluate("window.notReloaded = true")
    before = page.evaluate("document.getElementById('chart').data.length")
    c2, p2, p3 = market.consumers[1], market.providers[1], market.providers[2]
    p2.bid(c2.address, 270 * TWEI)
    market.index()
    page.wait_for_selector('#bids tbody tr[data-bid="2"]', timeout=15_000)
    listing.wait_for_function(
        f"""() => document.querySelector('#open tr[data-auction="{OPEN}"] [data-field=bids]').textContent === '2'""",
        timeout=15_000,
    )
    assert page.evaluate("window.notReloaded") is True and listing.evaluate("window.notReloaded") is True
    book, _ = chain(market)
    a = book.auctions[OPEN - 1]
    bid = fields(page, "#bids tbody tr")["2"]
    assert (bid["provider"], bid["rate"]) == (a.leader, str(a.rate_wei_per_kwh)) == (p2.address, str(270 * TWEI))
    assert bid["collateral"] == str(market.client.auction(c2.address).collateral_wei)
    chart = page.evaluate("document.getElementById('chart').data.map(t => [t.x, t.y])")
    assert len(chart) == before + 1 and chart[-1] == [[bid_block(market, c2.address)], [270]]  # a new bidder's
    assert chart[0][1] == [START_RATE / TWEI, 290, 270]  # the rate to undercut, step by step
    assert facts(page, "#facts")["best_bid"] == str(270 * TWEI) and "Bid 2" in page.text_content("#live")
    page.wait_for_function(  # p3, outbid, has its collateral back as a pending return
        f"""() => !!document.querySelector('#v2v-pending tr[data-account="{p3.address}"] [data-value]')
             && document.querySelector('#v2v-pending tr[data-account="{p3.address}"] [data-value]').dataset.value
                === '{market.client.pending_returns(p3.address)}'""",
        timeout=15_000,
    )
    row = fields(listing, "#open tbody tr")[str(OPEN)]
    assert (row["best_bid"], row["leader"], row["amount"]) == (str(270 * TWEI), p2.address, str(OPEN_WH))


def test_the_page_fits_a_phone_and_is_usable_by_keyboard(dashboard, page):
    page.set_viewport_size(PHONE)
    for path in ("/v2v", f"/v2v/auctions/{SETTLED}"):
        page.goto(dashboard + path)
        assert no_horizontal_overflow(page), path
    page.goto(dashboard + "/v2v")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


@pytest.mark.parametrize(
    "path, status, said",
    [
        ("/v2v/auctions/99", 404, ["auction: 99 is not on chain"]),
        ("/v2v/auctions/0", 422, ['"number"', '"input":"0"']),
        ("/v2v/auctions/x", 422, ['"number"', '"input":"x"']),
        ("/api/v2v/auctions/99", 404, ["auction: 99 is not on chain"]),
        ("/api/v2v/auctions/1?after=-1", 422, ['"after"', '"input":"-1"']),
        ("/api/v2v?since=-2", 422, ['"since"', '"input":"-2"']),
        ("/api/v2v?since=x", 422, ['"since"', '"input":"x"']),
    ],
)
def test_bad_input_to_a_route_names_the_field_and_value(dashboard, path, status, said):
    r = httpx.get(dashboard + path)
    assert r.status_code == status and all(s in r.text for s in said), r.text
