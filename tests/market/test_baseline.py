"""The on-chain-sorting baseline (benchmarks/baseline/lemlab_clearing.vy, a port of lemlab's clearing) clears
as lemlab's algorithm defines: a hand-made book checked by hand, and random books against the merit order."""

from __future__ import annotations

from pathlib import Path

import boa
import pytest
from benchmarks.bench_market_baseline import TS_DELIVERY, position, trader_address
from benchmarks.market_books import ASK, BID, Order, efficient_walk, make_book

SOURCE = Path(__file__).resolve().parents[2] / "benchmarks" / "baseline" / "lemlab_clearing.vy"
T_CLEARED = 1_799_990_000


@pytest.fixture(scope="module")
def deployer():
    return boa.load_partial(str(SOURCE))


def cleared(deployer, book: list[Order], uniform: bool = True, discriminative: bool = True) -> list[tuple]:
    """Push every order, clear its delivery period, return market_results_total."""
    market = deployer.deploy()
    for order in book:
        market.push_offer_or_bid(position(order), order.side == ASK, True, False)
    market.market_clearing(1, TS_DELIVERY, uniform, discriminative, 900, T_CLEARED)
    return [tuple(market.market_results_total(k)) for k in range(market.results_count())]


def numbered(order: Order, number: int) -> tuple:
    ob = list(position(order))
    ob[6] = number
    return tuple(ob)


def test_hand_made_book_gives_lemlabs_pairs(deployer):
    # offers 30 @ 10 (trader 0), 20 @ 12 (1), 50 @ 20 (2), 10 @ 10 (trader 0 again: aggregated with its first);
    # bids 25 @ 25 (3), 35 @ 15 (4), 40 @ 11 (5). By hand: the aggregation sorts offers (price, quality) up and
    # the tie (0's two offers) puts the later first, so the aggregated offer keeps number 6 (energy 40);
    # cumulated offers 40, 60, 110 and bids (25 first) 25, 60, 100; the walk pairs (offer 40 @ 10, bid 25) to
    # 25, (40 @ 10, 35 @ 15) to 40, (20 @ 12, 35 @ 15) to 60, then (50 @ 20, 40 @ 11) is dropped (20 > 11).
    # Uniform price (12 + 15) // 2 = 13; discriminative (10+25)//2, (10+15)//2, (12+15)//2.
    book = [
        Order(ASK, 10, 30, 0, 0),
        Order(ASK, 12, 20, 0, 1),
        Order(ASK, 20, 50, 1, 2),
        Order(BID, 25, 25, 0, 3),
        Order(BID, 15, 35, 1, 4),
        Order(BID, 11, 40, 0, 5),
        Order(ASK, 10, 10, 0, 0),
    ]
    market = deployer.deploy()
    for number, order in enumerate(book):  # lemlab's number_position: the order's place in the book
        market.push_offer_or_bid(numbered(order, number), order.side == ASK, True, False)
    # ignored by the filter: another delivery period, and a zero energy
    other = list(position(Order(BID, 99, 50, 0, 7)))
    other[9] = TS_DELIVERY + 900
    market.push_offer_or_bid(tuple(other), False, True, False)
    market.push_offer_or_bid(position(Order(BID, 99, 0, 0, 8)), False, True, False)
    market.market_clearing(1, TS_DELIVERY, True, True, 900, T_CLEARED)
    results = [market.market_results_total(k) for k in range(market.results_count())]
    a, b = trader_address(0), trader_address(1)
    x, y = trader_address(3), trader_address(4)
    expected = [
        (a, 10, 6, x, 25, 3, 17, 25),
        (a, 10, 6, y, 15, 4, 12, 15),
        (b, 12, 1, y, 15, 4, 13, 20),
    ]
    got = [
        (
            r.id_user_offer,
            r.price_energy_offer,
            r.number_position_offer,
            r.id_user_bid,
            r.price_energy_bid,
            r.number_position_bid,
            r.price_energy_market_discriminative,
            r.qty_energy_traded,
        )
        for r in results
    ]
    assert got == expected
    assert {r.price_energy_market_uniform for r in results} == {13}
    assert all(
        (r.share_quality_NA, r.share_quality_local, r.ts_delivery, r.t_cleared) == (100, 0, TS_DELIVERY, T_CLEARED)
        for r in results
    )


def test_no_trade_when_every_offer_is_dearer(deployer):
    book = [Order(ASK, 300, 100, 0, 0), Order(BID, 200, 100, 0, 1), Order(ASK, 250, 50, 1, 2)]
    assert cleared(deployer, book) == []


def test_one_side_empty_clears_nothing(deployer):
    assert cleared(deployer, [Order(BID, 300, 100, 0, 0), Order(BID, 200, 100, 0, 1)]) == []


def test_clear_temp_data_forgets_positions_and_results(deployer):
    market = deployer.deploy()
    market.push_offer_or_bid(position(Order(ASK, 1, 10, 0, 0)), True, True, True)
    market.push_offer_or_bid(position(Order(BID, 2, 10, 0, 1)), False, True, False)
    market.market_clearing(1, TS_DELIVERY, True, False, 900, T_CLEARED)
    assert market.results_count() == 1
    market.clear_temp_data()
    assert market.results_count() == 0
    market.market_clearing(1, TS_DELIVERY, True, False, 900, T_CLEARED)
    assert market.results_count() == 0
    assert market.offers(0).qty_energy == 10  # the permanent list stays


def test_out_of_range_price_reverts(deployer):
    market = deployer.deploy()
    ob = list(position(Order(ASK, 1, 10, 0, 0)))
    ob[2] = 2**64
    market.push_offer_or_bid(tuple(ob), True, True, False)
    market.push_offer_or_bid(position(Order(BID, 2, 10, 0, 1)), False, True, False)
    with boa.reverts("lemlab: price or quality out of range"):
        market.market_clearing(1, TS_DELIVERY, True, False, 900, T_CLEARED)


@pytest.mark.parametrize("seed", range(4))
def test_random_books_trade_the_efficient_volume_at_the_walks_price(deployer, seed):
    # lemlab's rule is efficient (the merit-order walk, trades at equal prices included): same volume as the
    # walk, and its uniform price is the mean of the last matched offer's and bid's prices, as our rule 0's
    book = make_book(16 + 6 * seed, seed=1000 + seed)
    results = cleared(deployer, book)
    volume, last_bid, last_ask = efficient_walk(book)
    assert sum(r[9] for r in results) == volume
    assert {r[7] for r in results} == ({(last_bid + last_ask) // 2} if volume else set())
    assert all(r[1] <= r[5] for r in results)  # every pair: offer price <= bid price


def test_a_users_equal_positions_are_aggregated_without_changing_the_volume(deployer):
    # six traders push a second position at their first one's price: lemlab sums each pair into one position,
    # which keeps the number of the later push (its insertion sort puts a tie before the equal element)
    book = make_book(30, seed=7)
    again = [Order(o.side, o.price_per_kwh, o.energy_wh, o.zone, o.trader) for o in book[:6]]
    market = deployer.deploy()
    for number, order in enumerate(book + again):
        market.push_offer_or_bid(numbered(order, number), order.side == ASK, True, False)
    market.market_clearing(1, TS_DELIVERY, True, False, 900, T_CLEARED)
    results = [tuple(market.market_results_total(k)) for k in range(market.results_count())]
    assert sum(r[9] for r in results) == efficient_walk(book + again)[0]
    numbers = {r[2] for r in results} | {r[6] for r in results}
    assert not numbers & set(range(6))  # the first pushes of the six live on only inside the aggregates
    assert numbers & set(range(30, 36))
