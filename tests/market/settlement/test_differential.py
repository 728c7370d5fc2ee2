"""The settlement contract against its twin on random books of both rules, with random readings (over and under
delivery) and hostile units (another meter's reading, a reading that does not match its proof, a duplicate, a
trader without a fill, a reading out of range) in random batches: every batch agrees on events, balances, debts
and, when refused, the reason. The twin's fills and amounts agree with the keeper's `clearing.fills` and
`clearing.payments` order by order."""

from __future__ import annotations

import dataclasses
import random

import pytest

from gridchain.market import clearing
from gridchain.market.settlement import model as s
from tests.market.book import ASK, BID, terms
from tests.market.settlement.harness import House


def random_orders(rng: random.Random, traders: list[str]) -> list[tuple[str, int]]:
    return [
        (
            rng.choice(traders[:-1]),  # the last trader never trades
            terms(rng.randrange(100_000, 400_000), rng.randrange(500, 5_000), rng.randrange(2), rng.randrange(2)),
        )
        for _ in range(rng.randrange(4, 14))
    ]


def hostile(rng: random.Random, h: House, u: s.Unit, units: dict) -> s.Unit:
    kind = rng.randrange(4)
    if kind == 0:  # the trader's other meter's reading
        other = units.get((u.trader, 1 - u.side))
        return dataclasses.replace(u, r=other.r, vs=other.vs, proof=other.proof) if other else u
    if kind == 1:  # not the signed value
        return dataclasses.replace(u, active_wh=u.active_wh + 1)
    if kind == 2:
        return dataclasses.replace(u, active_wh=2**64)
    return dataclasses.replace(u, proof=u.proof[:-1])


def check_fills_against_the_keeper(h: House, book: tuple, k: int) -> None:
    orders, bids, n_bids, asks, n_asks = book
    c = s.Clearing(*h.market.c.clearings(k))
    pos_b, pos_a = clearing.unpack16(bids, n_bids), clearing.unpack16(asks, n_asks)
    result = clearing.fills(orders, pos_b, pos_a, h.market.zone_fees, h.market.c.RULE())
    pay = clearing.payments(orders, result, h.market.zone_fees)
    assert result.volume_wh == c.volume_wh
    for side, positions, price in ((BID, pos_b, c.buy_price), (ASK, pos_a, c.sell_price)):
        mine = s.unit_fills(orders, positions, c.volume_wh, side, price, h.market.zone_fees)
        keeper: dict[str, tuple[int, int]] = {}
        for p in positions:
            t = "0x" + format(orders[p] >> 96, "040x")
            e, a = keeper.get(t, (0, 0))
            if result.filled_wh[p]:
                keeper[t] = (e + result.filled_wh[p], a + pay.amounts[p])
        assert mine == keeper


@pytest.mark.parametrize("rule", [0, 1])
@pytest.mark.parametrize("seed", range(3))
def test_random_books_readings_and_hostile_units(rule, seed):
    rng = random.Random(seed * 2 + rule)
    h = House(rule=rule, traders=5, deposit=0)
    for a in h.traders:
        if rng.random() < 0.7:
            h.deposit(a, rng.randrange(1, 3_000_000))
    h.deposit(h.house, rng.choice([10_000, 10**9]))
    k, book = h.trade(random_orders(rng, h.traders))
    check_fills_against_the_keeper(h, book, k)
    pairs = [(t, side) for t in h.traders for side in (BID, ASK)]
    metered = {p: rng.choice([0, rng.randrange(0, 6_000), rng.randrange(0, 1_000)]) for p in pairs}
    units = h.read(k, metered)
    c = s.Clearing(*h.market.c.clearings(k))
    orders, bids, n_bids, asks, n_asks = book
    filled = {
        **{
            (t, BID): e
            for t, (e, _) in s.unit_fills(orders, clearing.unpack16(bids, n_bids), c.volume_wh, BID, 0, 0).items()
        },
        **{
            (t, ASK): e
            for t, (e, _) in s.unit_fills(orders, clearing.unpack16(asks, n_asks), c.volume_wh, ASK, 0, 0).items()
        },
    }
    todo = [units[p] for p in pairs if filled.get((p[0].lower(), p[1]))]
    idle = [units[p] for p in pairs if not filled.get((p[0].lower(), p[1]))]
    rng.shuffle(todo)
    outcomes = []
    while todo:
        batch = todo[: rng.randrange(1, 4)]
        todo = todo[len(batch) :]
        sent = list(batch)
        if rng.random() < 0.4:
            extra = rng.choice([batch[0], rng.choice(idle), hostile(rng, h, batch[0], units)])
            sent.insert(rng.randrange(len(sent) + 1), extra)
        try:
            h.settle(k, book, sent)
            outcomes.append("ok")
        except s.SettlementError as e:
            outcomes.append(e.reason)
            for u in batch:  # one by one: refusals (no fill, house short) stay refusals on both sides
                try:
                    h.settle(k, book, [u])
                    outcomes.append("ok")
                except s.SettlementError as e1:
                    outcomes.append(e1.reason)
    assert not todo and (outcomes.count("ok") > 0 or c.volume_wh == 0)
