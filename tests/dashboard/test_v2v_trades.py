"""The V2V page's fold of the contract's events (gridchain.dashboard.pages.v2v_trades), on hand-made events: the
outcomes the browser tests' market does not reach (an expired trade), which accounts an event sends the page
back to the node for, the summary, and the exact money formatting."""

from __future__ import annotations

from gridchain.chain.gateway import Event
from gridchain.dashboard.pages.v2v import eth, kwh, twei
from gridchain.dashboard.pages.v2v_trades import Market
from gridchain.v2v.model import ZERO, cost

C, P, Q = "0x" + "c1" * 20, "0x" + "a1" * 20, "0x" + "b2" * 20
TWEI = 10**12


def event(name: str, block: int, **args) -> Event:
    return Event(name, args, "0x" + "00" * 20, block, f"0x{block:064x}", 0)


def started(block: int, consumer: str = C) -> Event:
    return event(
        "AuctionStarted",
        block,
        consumer=consumer,
        amount_wh=8_000,
        start_rate_wei_per_kwh=300 * TWEI,
        closing_time=1_000,
        deposit_wei=cost(300 * TWEI, 8_000),
        min_collateral_wei=0,
    )


def test_an_expired_trade_with_its_receipt_and_the_accounts_each_event_touches():
    m = Market()
    assert m.apply(event("EVAdded", 1, ev=C, info="")) == {C}
    m.apply(started(2))
    assert m.apply(event("BidPlaced", 3, consumer=C, provider=P, rate_wei_per_kwh=280 * TWEI)) == {C, P}
    assert m.apply(event("BidPlaced", 4, consumer=C, provider=Q, rate_wei_per_kwh=250 * TWEI)) == {C, Q, P}  # P outbid
    m.apply(event("AuctionEnded", 5, consumer=C, provider=Q, token=b"\x01" * 32))
    m.apply(event("ReceiptPosted", 6, consumer=C, delivered_wh=2_000))
    assert m.trades[0].outcome == "ended" and m.trades[0].record.state(2_000) == "ended"
    closed = dict(consumer=C, provider=Q, delivered_wh=2_000, to_provider_wei=1, to_consumer_wei=2, expired=True)
    m.apply(event("TradeClosed", 7, **closed))
    [t] = m.trades
    assert (t.number, t.outcome, t.expired, t.last_block) == (1, "expired", True, 7)
    assert [(s.what, s.delivered_wh) for s in t.steps] == [
        ("AuctionStarted", None),
        ("AuctionEnded", None),
        ("ReceiptPosted", 2_000),
        ("TradeClosed", 2_000),
    ]
    assert t.bid_txs == [f"0x{3:064x}", f"0x{4:064x}"] and t.parties() == [C, P, Q]
    assert t.price_wei == cost(250 * TWEI, 2_000)
    s = m.summary(now=2_000)
    assert (s["auctions"], s["expired"], s["settled"], s["volume_wh"], s["value_wei"]) == (1, 1, 0, 2_000, t.price_wei)


def test_an_auction_without_a_bid_and_the_states_by_the_chains_clock():
    m = Market()
    m.apply(started(1))
    m.apply(started(2, consumer=P))
    assert m.summary(now=999)["bidding"] == 2 and m.summary(now=1_000)["to_end"] == 2
    assert m.apply(event("AuctionEnded", 3, consumer=C, provider=ZERO, token=b"\x00" * 32)) == {C}
    assert [t.outcome for t in m.trades] == ["no bid", "open"]
    assert m.summary(now=1_000)["no_bid"] == 1


def test_money_rates_and_energy_are_shown_exactly():
    assert eth(3 * 10**18 + 1) == "3.000000000000000001" and eth(0) == "0" and eth(6 * 10**14) == "0.0006"
    assert twei(250 * TWEI) == "250" and twei(250 * TWEI + 1) == "250.000000000001"
    assert kwh(10_000) == "10" and kwh(2_500) == "2.5" and kwh(None) == "-"
