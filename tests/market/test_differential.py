"""The contract against its twin on whole intervals: a random book committed and revealed (with hostile reveals
among the honest ones), then cleared with hostile marks (changes of the keeper's: tests/market/marks.py) and
finally with the keeper's arguments, under both rules and with zone fees. Every call goes through
tests/market/mirrored.py: the same events, ring words and clearing on both sides, and the same reason wherever
one refuses (the stateful machine, tests/market/test_stateful.py, draws more refusals)."""

from __future__ import annotations

import dataclasses

import boa
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.market.clearing import fills
from gridchain.market.model import fill_of
from tests.market.book import order_word, terms
from tests.market.harness_contract import ZONE_FEES, ZONES
from tests.market.marks import perturbations, rank_moves
from tests.market.mirrored import MirroredMarket
from tests.support.mirrored import fresh_traces

ORDERS = st.lists(
    st.tuples(
        st.integers(0, 5),  # trader
        st.integers(150_000, 350_000),  # price [micro-coin/kWh]: around the fees of zone 1 (20,000)
        st.integers(1, 6_000),  # energy [Wh]
        st.integers(0, ZONES - 1),
        st.integers(0, 1),  # side
        st.sampled_from(["honest"] * 6 + ["salt", "index", "sender", "twice", "unrevealed"]),
    ),
    min_size=1,
    max_size=24,
)


def _interval(m: MirroredMarket, traders: list[str], orders) -> int:
    """Commit then reveal `orders` as drawn; the keeper's arguments are built and cleared by the caller."""
    k = m.now // m.params.interval_s + 2
    opened = []
    for n, (t, price, energy, zone, side, how) in enumerate(orders):
        salt = n.to_bytes(32, "big")
        order_terms = terms(price, energy, zone, side)
        m.commit(traders[t], k, m.commitment(traders[t], k, order_word(traders[t], order_terms), salt))
        opened.append((traders[t], order_terms, salt, n, how))
    m.travel_to(m.params.reveal_open(k))
    for trader, order_terms, salt, n, how in opened:
        if how == "unrevealed":
            continue
        sender = traders[(traders.index(trader) + 1) % len(traders)] if how == "sender" else trader
        index = (n + 1) % len(opened) if how == "index" else n
        m.reveal(sender, k, index, order_terms, b"\x01" * 32 if how == "salt" else salt)
        if how == "twice":
            m.reveal(trader, k, n, order_terms, salt)
    m.travel_to(m.params.reveal_close(k))
    return k


@settings(max_examples=50, deadline=None)
@given(orders=ORDERS, rule=st.sampled_from([0, 1]), data=st.data())
def test_whole_intervals_clear_alike_on_the_contract_and_its_twin(orders, rule, data):
    with boa.env.anchor():
        fresh_traces()
        m = MirroredMarket(rule=rule, zone_fees=ZONE_FEES)
        traders = [str(boa.env.generate_address()) for _ in range(6)]
        k = _interval(m, traders, orders)
        args = m.args(k)
        moves = list(rank_moves(args.marks, args.bid_positions, args.ask_positions))
        changes = st.sampled_from(list(perturbations(args.marks, len(args.orders))))
        changes = st.one_of(st.sampled_from(moves), changes) if moves else changes
        for label, word in data.draw(st.lists(changes, max_size=8)):  # refused alike, nothing changed (mirrored)
            outcome = m.attempt(lambda: m.clear(k, dataclasses.replace(args, marks=word)), label)
            assert not outcome.ok, (label, word, args)
        m.clear(k, args)  # the same Cleared event and clearing on both sides (mirrored checks them)
        result = fills(args.orders, args.bid_positions, args.ask_positions, ZONE_FEES, rule)
        clearing = m.model.clearings(k)
        assert (result.buy_price, result.sell_price, result.volume_wh) == (
            clearing.buy_price,
            clearing.sell_price,
            clearing.volume_wh,
        )
        replayed = [
            fill_of(args.orders, args.valid, args.marks, clearing.volume_wh, r, ZONE_FEES)
            for r in range(len(args.orders))
        ]
        assert replayed == result.filled_wh
