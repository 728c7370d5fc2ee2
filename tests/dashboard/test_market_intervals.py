"""The Market page's fold (`market_intervals`, pure) on the events of a real market day on the embedded chain:
per interval the commits, bids and asks the chain logged and the clearing its `Cleared` event holds; an
interval's state at each boundary of its timeline; the summary's volume and volume-weighted mean prices."""

from __future__ import annotations

from fractions import Fraction

import pytest

from gridchain.chain.gateway import Event
from gridchain.dashboard.pages.market_intervals import EVENTS, Interval, MarketDay
from gridchain.market.model import Cleared, Params, unpack


def folded(events) -> MarketDay:
    day = MarketDay()
    for e in events:
        day.apply(e)
    return day


def test_each_interval_holds_what_the_chain_logged(market_day):
    events = market_day.events()
    day = folded(events)
    assert sorted(day.intervals) == sorted({int(e.args["interval"]) for e in events})
    for k, interval in day.intervals.items():
        mine = [e for e in events if e.args["interval"] == k]
        sides = [unpack(e.args["order"]).side for e in mine if e.name == "Revealed"]
        assert interval.commits == sum(e.name == "Committed" for e in mine)
        assert (interval.bids, interval.asks) == (sides.count(0), sides.count(1))
        cleared = [e for e in mine if e.name == "Cleared"]
        if cleared:
            (c,) = cleared
            assert interval.cleared == Cleared(
                k, *(c.args[f] for f in ("buy_price", "sell_price", "volume_wh")), c.args["orders"], c.args["book"]
            )
            assert (interval.cleared_block, interval.cleared_tx) == (c.block, c.tx_hash)
        else:
            assert interval.cleared is None
        assert interval.last_block == max(e.block for e in mine)
    # the demo's two intervals, as the demo read them back from the contract
    shown = {i.number: i.cleared for i in day.ordered() if i.cleared}
    assert [(c.buy_price, c.sell_price, c.volume_wh, c.orders) for c in shown.values()] == [
        (i["buy_price"], i["sell_price"], i["volume_wh"], i["orders"]) for i in market_day.day.intervals
    ]
    pending = day.intervals[market_day.pending]
    assert (pending.commits, pending.reveals, pending.cleared) == (1, 0, None)
    assert pending.state(market_day.client.params(), market_day.gateway.now()) == "committing"


def test_the_summary_counts_volume_and_weights_the_mean_prices_by_volume(market_day):
    s = folded(market_day.events()).summary()
    cleared = market_day.day.intervals
    volume_wh = sum(i["volume_wh"] for i in cleared)
    assert (s.cleared, s.volume_wh) == (len(cleared), volume_wh) == (2, 153)
    assert s.mean_buy_price == Fraction(sum(i["buy_price"] * i["volume_wh"] for i in cleared), volume_wh)
    assert s.mean_sell_price == Fraction(sum(i["sell_price"] * i["volume_wh"] for i in cleared), volume_wh)
    assert MarketDay().summary().mean_buy_price is None  # no energy cleared: no mean


P = Params(interval_s=900, reveal_s=300, gate_s=120, horizon=4, zones=1)
K = 100  # starts at 90_000 s; reveals open at 89_580, close at 89_880


@pytest.mark.parametrize(
    "now, state",
    [
        (89_579, "committing"),
        (89_580, "revealing"),
        (89_879, "revealing"),
        (89_880, "to clear"),
        (90_899, "to clear"),
        (90_900, "void"),
    ],
)
def test_an_uncleared_intervals_state_at_each_boundary(now, state):
    assert Interval(K).state(P, now) == state
    assert Interval(K, cleared=Cleared(K, 1, 1, 1, 1, b"\x01" * 32)).state(P, now) == "cleared"


def test_events_the_page_does_not_read_change_nothing():
    day = MarketDay()
    other = Event("OwnershipTransferred", {"interval": 1}, "0x" + "00" * 20, 5, "0x" + "11" * 32, 0, "0x" + "22" * 32)
    assert day.apply(other) is None and day.intervals == {}
    assert EVENTS == ("Committed", "Revealed", "Cleared")
