"""The call market's client over a chain gateway (the embedded chain): traders seal and open their orders, the
keeper clears from the events it reads back, and the stored clearing is the twin's."""

from __future__ import annotations

import pytest

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import ChainRevert
from gridchain.market.clearing import fills
from gridchain.market.client import CallMarketClient
from gridchain.market.model import BUY, SELL, Order, Params, book_hash
from tests.market.marks import marks

PARAMS = Params(interval_s=900, reveal_s=300, gate_s=60, horizon=8, zones=2, zone_fees=20_000 << 32, rule=0)


@pytest.fixture(scope="module")
def chain():
    return BoaGateway(accounts=5)


def test_an_interval_sealed_opened_and_cleared_through_the_client(chain):
    keeper, *traders = chain.accounts
    market, _ = CallMarketClient.deploy(chain, keeper, PARAMS)
    assert market.params() == PARAMS
    k = chain.now() // PARAMS.interval_s + 2
    book = [(BUY, 300_000, 2_000, 0), (BUY, 260_000, 1_000, 1), (SELL, 200_000, 1_500, 0), (SELL, 250_000, 3_000, 1)]
    sealed = [
        market.commit(t, k, Order(t.lower(), price, energy, zone, side))[0]
        for t, (side, price, energy, zone) in zip(traders, book, strict=True)
    ]
    assert [s.commit_index for s in sealed] == [0, 1, 2, 3]
    chain.advance_time(PARAMS.reveal_open(k) - chain.now())
    for t, s in zip(traders, sealed, strict=True):
        market.reveal(t, s)
    chain.advance_time(PARAMS.reveal_close(k) - chain.now())
    args = market.prepare(k, PARAMS.zone_fees, PARAMS.rule)
    assert (args.bid_positions, args.ask_positions) == ([0, 1], [2, 3]) and all(args.valid)
    assert args.marks == marks(0, 3, 0, 3, 0, 1_500)  # the walk ends at bid 0 against ask 3 (1,500 Wh before it)
    receipt = market.clear(keeper, k, args)
    clearing = market.clearing(k)
    expected = fills(args.orders, args.bid_positions, args.ask_positions, PARAMS.zone_fees, PARAMS.rule)
    assert market.cleared(k) and receipt.named("Cleared")[0].args["volume_wh"] == clearing.volume_wh
    assert clearing.book == book_hash(*args.book) and clearing.orders == 4
    # effective bids 300,000 (2,000 Wh) and 240,000 (zone 1's fee off); asks 200,000 (1,500 Wh) and 270,000 (fee
    # on): 1,500 Wh from the first ask, 500 from the second, then 240,000 < 270,000 stops the walk; the price is
    # the midpoint of the last matched pair, (300,000 + 270,000) / 2
    assert (clearing.buy_price, clearing.volume_wh) == (expected.buy_price, 2_000) == (285_000, 2_000)


def test_a_late_reveal_raises_the_contract_reason(chain):
    keeper, trader = chain.accounts[:2]
    market, _ = CallMarketClient.deploy(chain, keeper, PARAMS)
    k = chain.now() // PARAMS.interval_s + 2
    s, _ = market.commit(trader, k, Order(trader.lower(), 1, 1, 0, BUY))
    chain.advance_time(PARAMS.reveal_close(k) - chain.now())
    with pytest.raises(ChainRevert, match="call_market: reveal closed"):
        market.reveal(trader, s)
