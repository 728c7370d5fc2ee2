"""The Market page served in-process (FastAPI's test client) on a market day on the embedded chain whose record
names the market and whose index holds its events: the intervals' prices, volume and orders shown are the chain's
`Cleared` events, exact (coin = micro-coins / 10**6); the parameters are the contract's immutables; the JSON API
sends what changed since a block; without a deployment or an index the page says what to run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from gridchain.chain.gateway import Event
from gridchain.dashboard.app import create_app
from gridchain.dashboard.pages.market import MarketView
from gridchain.dashboard.pages.v2v import utc
from gridchain.market.client import CallMarketClient
from gridchain.market.model import BUY, Order, Params
from gridchain.store.engine import open_store
from tests.dashboard.pages import Tables


@pytest.fixture(scope="module")
def client(market_day):
    return TestClient(create_app(market_day.deployment()))


def coin(micro: int) -> str:
    return format(Decimal(micro) / 10**6, "f").rstrip("0").rstrip(".") if micro else "0"


def test_the_intervals_shown_are_the_chains_clearings(market_day, client):
    r = client.get("/market")
    assert r.status_code == 200, r.text
    t = Tables(r.text)
    cleared = {e.args["interval"]: e.args for e in market_day.events(("Cleared",))}
    committed = {e.args["interval"] for e in market_day.events(("Committed",))}
    head = t.tables["intervals"]["head"]
    rows = {int(row[0][1]): dict(zip(head, row)) for row in t.tables["intervals"]["rows"]}
    assert list(rows) == sorted(committed, reverse=True)  # every interval, newest first
    for k, row in rows.items():
        if k not in cleared:
            assert row["state"][0] in ("committing", "revealing", "to clear", "void")
            assert row["buy price coin/kWh"] == ("-", None) and row["orders"] == ("-", None)
            continue
        c = cleared[k]
        assert row["state"][0] == "cleared"
        assert row["buy price coin/kWh"] == (coin(c["buy_price"]), c["buy_price"])
        assert row["sell price coin/kWh"] == (coin(c["sell_price"]), c["sell_price"])
        assert row["volume kWh"] == (str(Decimal(c["volume_wh"]) / 1000), c["volume_wh"])
        assert row["orders"][1] == c["orders"] == 4
        assert row["time (UTC)"][1] == k * 900
    assert len(cleared) == 2 and rows[market_day.pending]["state"][0] == "committing"
    assert rows[market_day.pending]["commits"][1] == 1 and rows[market_day.pending]["reveals"][1] == 0
    assert t.ids["chart"]["aria-label"].startswith("Chart:")


def test_the_summary_and_the_parameters_are_the_contracts(market_day, client):
    html = client.get("/market").text
    t = Tables(html)
    cleared = [e.args for e in market_day.events(("Cleared",))]
    volume_wh = sum(c["volume_wh"] for c in cleared)
    assert f'data-field="volume" data-value="{volume_wh}">{Decimal(volume_wh) / 1000}<' in html
    mean_buy = round(sum(c["buy_price"] * c["volume_wh"] for c in cleared) / volume_wh)
    assert f'data-field="mean_buy_price" data-value="{mean_buy}">{coin(mean_buy)}<' in html
    assert f'data-field="cleared">{len(cleared)}<' in html
    p = market_day.client.params()
    for field, value in (("interval_s", p.interval_s), ("reveal_s", p.reveal_s), ("gate_s", p.gate_s)):
        assert f'data-field="{field}">{value}<' in html
    assert f'data-field="horizon">{p.horizon}<' in html and f'data-field="zones">{p.zones}<' in html
    assert 'data-field="fee_1" data-value="10000">zone 1: 0.01<' in html and p.fee(1) == 10_000
    assert 'data-field="rule" data-value="0">uniform price (pay-as-clear)<' in html
    assert "intervals" in t.tables


def test_the_api_sends_what_changed_since_a_block(market_day, client):
    market_day.index()  # up to the head (other tests may have mined blocks)
    everything = client.get("/api/market?since=-1").json()
    checkpoint = everything["checkpoint"]
    assert checkpoint == market_day.gateway.block_number()
    committed = {e.args["interval"] for e in market_day.events(("Committed",))}
    cleared = {e.args["interval"] for e in market_day.events(("Cleared",))}
    assert sorted(r["number"] for r in everything["rows"]) == sorted(committed)
    assert len(everything["chart"]["time"]) == len(cleared) == 2
    assert everything["chart"]["buy"] == [i["buy_price"] / 10**6 for i in market_day.day.intervals]
    assert everything["chart"]["volume"] == [i["volume_wh"] / 1000 for i in market_day.day.intervals]
    quiet = client.get(f"/api/market?since={checkpoint}").json()
    assert sorted(r["number"] for r in quiet["rows"]) == sorted(committed - cleared)  # what the clock may move
    assert market_day.pending in committed - cleared
    # a trader commits to a new interval: the next poll brings its row
    trader = market_day.day.traders[1]
    k = max(committed) + 1
    market_day.client.commit(trader, k, Order(trader.lower(), 250_000, 300, 1, BUY))
    market_day.index()
    fresh = client.get(f"/api/market?since={checkpoint}").json()
    assert fresh["checkpoint"] == checkpoint + 1 and fresh["intervals"] == everything["intervals"] + 1
    (row,) = [r for r in fresh["rows"] if r["number"] == k]
    assert row["state"] == "committing" and 'data-field="commits" data-value="1"' in row["html"]
    assert f'data-interval="{k}"' in row["html"] and 'data-field="intervals">' in fresh["summary_html"]


@pytest.mark.parametrize("query", ["since=-2", "since=x"])
def test_bad_input_to_the_api_names_the_field_and_value(client, query):
    r = client.get("/api/market?" + query)
    assert r.status_code == 422 and '"since"' in r.text and f'"input":"{query[6:]}"' in r.text, r.text


def test_the_page_says_what_to_run_when_nothing_is_deployed_or_indexed(market_day, tmp_path):
    bare = TestClient(create_app(market_day.deployment(record=False)))
    r = bare.get("/market")
    assert r.status_code == 200 and "no call market deployed (gridchain deploy market)" in r.text
    assert bare.get("/api/market").json() == {"note": "no call market deployed (gridchain deploy market)"}
    empty = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        unindexed = TestClient(create_app(market_day.deployment(store=empty)))
        note = f"the index holds no events of the call market {market_day.client.address} yet: run gridchain index run"
        assert note in unindexed.get("/market").text and unindexed.get("/api/market").json() == {"note": note}
    finally:
        empty.close()


def event(name: str, block: int, **args) -> Event:
    return Event(name, args, "0x" + "00" * 20, block, f"0x{block:064x}", 0, f"0x{block + 1:064x}")


def test_a_clear_without_trade_has_no_prices_and_an_uncleared_interval_turns_void():
    """Trade reduction can clear an interval in which nothing trades (the contract stores prices 0): no price is
    shown or drawn. An interval nobody cleared before its delivery ended is void."""
    v = MarketView(None)
    v.params = Params(interval_s=900, reveal_s=300, gate_s=300, horizon=96, zones=1)
    for k in (10, 11):
        v.day.apply(event("Committed", k, interval=k, index=0, commitment=b"\x01" * 32))
    v.day.apply(event("Cleared", 12, interval=10, buy_price=0, sell_price=0, volume_wh=0, orders=2, book=b"\x02" * 32))
    v.day.apply(
        event(
            "Cleared",
            13,
            interval=9,
            buy_price=250_001,
            sell_price=180_000,
            volume_wh=1_234,
            orders=5,
            book=b"\x03" * 32,
        )
    )  # trade reduction: buyers pay more than sellers get
    v.now = 12 * 900  # interval 11's delivery ended at 11 x 900 + 900
    (void, idle, traded) = v.rows()
    assert (void["number"], void["state"], void["buy_price"]) == (11, "void", None)
    assert (idle["state"], idle["traded"], idle["buy_price_coin"], idle["volume_kwh"]) == ("cleared", False, "-", "0")
    assert (traded["buy_price_coin"], traded["sell_price_coin"], traded["volume_kwh"]) == ("0.250001", "0.18", "1.234")
    assert (traded["buy_price"], traded["sell_price"], traded["volume_wh"], traded["orders"]) == (
        250_001,
        180_000,
        1_234,
        5,
    )
    assert v.chart(v.rows()) == {
        "interval_s": 900,
        "time": [utc(8100), utc(9000)],
        "buy": [0.250001, None],
        "sell": [0.18, None],
        "volume": [1.234, 0.0],
    }
    s = v.day.summary()
    assert (s.mean_buy_price, s.mean_sell_price, s.volume_wh) == (250_001, 180_000, 1_234)  # no trade, no weight
    v.now = 11 * 900 + 899
    assert v.rows()[0]["state"] == "to clear"


def test_a_market_without_orders_shows_its_parameters_and_says_no_interval_has_one(market_day, tmp_path):
    params = Params(interval_s=600, reveal_s=120, gate_s=60, horizon=12, zones=1, zone_fees=0, rule=1)
    other, _ = CallMarketClient.deploy(market_day.gateway, market_day.gateway.accounts[0], params)
    store = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        market_day.index(other, store)
        served = TestClient(create_app(market_day.deployment(store=store, market=other.address)))
        html = served.get("/market").text
        assert '<p id="no-intervals">No orders yet' in html and "<tbody>\n    \n    </tbody>" in html
        assert 'data-field="intervals">0<' in html and 'data-field="mean_buy_price">-<' in html
        assert 'data-field="rule" data-value="1">trade reduction<' in html and 'data-field="interval_s">600<' in html
        assert 'data-field="fee_0" data-value="0">zone 0: 0<' in html and 'data-field="fee_1"' not in html
        assert served.get("/api/market").json()["rows"] == []
    finally:
        store.close()
