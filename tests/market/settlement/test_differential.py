"""The settlement contract against its twin on random books of both rules, some reveals void, with random readings
(over and under delivery) and hostile units (another meter's reading, a reading that does not match its proof, a
duplicate, a trader without a fill, a reading out of range) in random batches: every batch agrees on events,
balances, debts and, when refused, the reason. The twin's fills replayed from the marks (`model.fill_of`) and its
amounts agree with the keeper's walk (`clearing.fills`, `clearing.payments`) order by order."""

from __future__ import annotations

import dataclasses
import random

import pytest

from gridchain.market import clearing
from gridchain.market.model import decode_marks, effective_price, fill_of, is_valid
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


def check_fills_against_the_keeper(h: House, book: tuple, k: int) -> dict[tuple[str, int], int]:
    """The replay's fills and amounts per (trader, side) are the keeper's walk's; returns the filled energies."""
    args = h.clear_args(k)
    assert args.book == book
    c = s.Clearing(*h.market.c.clearings(k))
    result = clearing.fills(args.orders, args.bid_positions, args.ask_positions, h.market.zone_fees, h.market.c.RULE())
    pay = clearing.payments(args.orders, result, h.market.zone_fees)
    assert result.volume_wh == c.volume_wh
    keeper: dict[tuple[str, int], tuple[int, int]] = {}
    for r, word in enumerate(args.orders):
        assert fill_of(args.orders, args.valid, args.marks, c.volume_wh, r, h.market.zone_fees) == result.filled_wh[r]
        if result.filled_wh[r]:
            key = ("0x" + format(word >> 96, "040x"), word & 1)
            e, a = keeper.get(key, (0, 0))
            keeper[key] = (e + result.filled_wh[r], a + pay.amounts[r])
    assert s.unit_fills(book, c.buy_price, c.sell_price, c.volume_wh, h.market.zone_fees) == keeper
    return {key: e for key, (e, _) in keeper.items()}


@pytest.mark.parametrize("rule", [0, 1])
@pytest.mark.parametrize("seed", range(3))
def test_random_books_readings_and_hostile_units(rule, seed):
    rng = random.Random(seed * 2 + rule)
    h = House(rule=rule, traders=5, deposit=0)
    for a in h.traders:
        if rng.random() < 0.7:
            h.deposit(a, rng.randrange(1, 3_000_000))
    h.deposit(h.house, rng.choice([10_000, 10**9]))
    orders = random_orders(rng, h.traders)
    void = frozenset(r for r in range(len(orders)) if rng.random() < 0.2)
    k, book = h.trade(orders, void=void)
    assert all((book[1][0] >> r) & 1 == (r not in void) for r in range(len(orders)))
    filled = check_fills_against_the_keeper(h, book, k)
    pairs = [(t, side) for t in h.traders for side in (BID, ASK)]
    metered = {p: rng.choice([0, rng.randrange(0, 6_000), rng.randrange(0, 1_000)]) for p in pairs}
    units = h.read(k, metered)
    c = s.Clearing(*h.market.c.clearings(k))
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


@pytest.mark.parametrize("rule", [0, 1])
def test_ties_are_ranked_by_reveal_position(rule):
    """40 orders at three prices in one zone (many equal effective prices, the boundaries among them), some void:
    every filled (trader, side) settles on both sides with the keeper's fill."""
    rng = random.Random(40 + rule)
    h = House(rule=rule, traders=6)
    orders = [
        (
            rng.choice(h.traders),
            terms(rng.choice([240_000, 250_000, 260_000]), rng.randrange(100, 3_000), 0, rng.randrange(2)),
        )
        for _ in range(40)
    ]
    k, book = h.trade(orders, void=frozenset(rng.sample(range(40), 6)))
    filled = check_fills_against_the_keeper(h, book, k)
    orders_, valid, marks = book
    m = decode_marks(marks)

    def price(w: int) -> int:
        return effective_price(w, h.market.zone_fees)

    spans = []
    for q in (m.b, m.a):  # the valid orders of the boundary's side and effective price, in reveal order
        key = (orders_[q] & 1, price(orders_[q]))
        tied = [r for r, w in enumerate(orders_) if is_valid(valid, r) and (w & 1, price(w)) == key]
        spans.append((min(tied), q, max(tied)))
    assert all(lo < hi for lo, _, hi in spans) and any(lo < q < hi for lo, q, hi in spans), spans
    trader = {t.lower(): t for t in h.traders}
    units = h.read(k, {(trader[t], side): e for (t, side), e in filled.items()})
    logs = h.settle(k, book, [units[key] for key in sorted(units, key=lambda key: (key[1], key[0]))])
    assert {(e.trader, e.side): e.filled_wh for e in logs} == filled
