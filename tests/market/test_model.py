"""The call market's twin: every revert reason at its boundary (passes at the edge, reverts just past it), the
ring of packed words, and the clear's checks each triggered by one hand-made bad argument."""

from __future__ import annotations

import dataclasses

import pytest
from eth_abi import encode
from eth_utils import keccak

from gridchain.market.clearing import ClearArgs, pack16
from gridchain.market.model import (
    FLAG,
    MAX_ORDERS,
    RING,
    CallMarketModel,
    MarketError,
    Order,
    Params,
    commit_link,
    commitment,
    pack,
    ring_word,
    terms,
    unpack,
)
from tests.market.harness import BOOK, MARKET, PARAMS, Interval, honest, order, salt, trader

I = PARAMS.interval_s  # noqa: E741


def reverts(reason: str):
    return pytest.raises(MarketError, match=f"^call_market: {reason}$")


# -- the order word and the constructor ---------------------------------------------------------------------
def test_order_word_layout_and_round_trip():
    o = Order(trader(7), price=2**64 - 1, energy_wh=2**24 - 1, zone=5, side=1)
    word = pack(o)
    assert word >> 96 == int(trader(7), 16)
    assert (word >> 32) & (2**64 - 1) == 2**64 - 1
    assert (word >> 8) & (2**24 - 1) == 2**24 - 1
    assert (word >> 1) & 127 == 5 and word & 1 == 1
    assert terms(o) == word & (2**96 - 1)
    assert unpack(word) == o


def test_commitment_is_keccak_of_the_abi_encoding():
    o = BOOK[0]
    expected = keccak(
        bytes(12) + bytes.fromhex(MARKET[2:]) + (7).to_bytes(32, "big") + pack(o).to_bytes(32, "big") + salt(0)
    )
    assert commitment(MARKET, 7, o, salt(0)) == expected
    assert commitment(MARKET, 7, o, salt(0)) != commitment(MARKET, 8, o, salt(0))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (dict(interval_s=0), "zero interval"),
        (dict(reveal_s=0), "zero reveal window"),
        (dict(horizon=0), "horizon out of range"),
        (dict(horizon=129), "horizon out of range"),
        (dict(zones=0), "zones out of range"),
        (dict(zones=9), "zones out of range"),
        (dict(rule=2), "unknown rule"),
        (dict(horizon=1, reveal_s=600, gate_s=300), "windows exceed interval"),
    ],
)
def test_constructor_refuses(change, reason):
    with reverts(reason):
        CallMarketModel(dataclasses.replace(PARAMS, **change))


@pytest.mark.parametrize(
    "change",
    [
        dict(interval_s=1, reveal_s=1, gate_s=0, horizon=2),
        dict(horizon=1, reveal_s=599, gate_s=300),  # one second under an interval: the edge
        dict(horizon=128, zones=8, rule=1),
        dict(zones=1),
    ],
)
def test_constructor_accepts_the_edges(change):
    CallMarketModel(dataclasses.replace(PARAMS, **change))


# -- commit --------------------------------------------------------------------------------------------------
def commit_at(model: CallMarketModel, k: int, now: int, n: int = 0):
    return model.commit(trader(n), k, commitment(MARKET, k, BOOK[0], salt(n)), now)


def test_commit_closes_at_reveal_open():
    model = CallMarketModel(PARAMS, MARKET)
    k = 2_000_000
    assert commit_at(model, k, PARAMS.reveal_open(k) - 1).index == 0
    with reverts("commit closed"):
        commit_at(model, k, PARAMS.reveal_open(k))
    assert model.commit_state(k)[1] == 1


def test_commit_at_most_horizon_intervals_ahead():
    model = CallMarketModel(PARAMS, MARKET)
    now = 2_000_000 * I + 17
    commit_at(model, now // I + PARAMS.horizon, now)
    with reverts("too far ahead"):
        commit_at(model, now // I + PARAMS.horizon + 1, now)


def test_a_commit_to_an_interval_whose_reveal_opened_before_time_zero_is_closed():
    model = CallMarketModel(PARAMS, MARKET)
    with reverts("commit closed"):
        commit_at(model, 0, 0)


def test_the_book_holds_2048_commits():
    model = CallMarketModel(PARAMS, MARKET)
    k, now = 2_000_000, PARAMS.reveal_open(2_000_000) - 1
    for n in range(MAX_ORDERS):
        assert model.commit(trader(n), k, n.to_bytes(32, "big"), now).index == n
    with reverts("book full"):
        model.commit(trader(0), k, b"\x01" * 32, now)
    assert model.commit_state(k)[1] == MAX_ORDERS


def test_commit_chains_each_commitment_into_its_ring_word():
    interval = honest(BOOK[:2])
    c0, c1 = (e.commitment for e in interval.committed)
    chain = commit_link(commit_link(0, c0), c1)
    assert interval.model.commit_ring(interval.k % RING) == ring_word(chain, 2, interval.k)
    assert interval.model.commit_state(interval.k) == (chain, 2)


# -- reveal --------------------------------------------------------------------------------------------------
def reveal_at(model: CallMarketModel, k: int, now: int, terms_: int, n: int = 1):
    return model.reveal(trader(n), k, 0, terms_, salt(n), now)


GOOD = terms(order(1, 250, 1_000, 0))


def test_reveal_window_edges():
    model = CallMarketModel(PARAMS, MARKET)
    k = 2_000_000
    with reverts("reveal not open"):
        reveal_at(model, k, PARAMS.reveal_open(k) - 1, GOOD)
    reveal_at(model, k, PARAMS.reveal_open(k), GOOD)
    reveal_at(model, k, PARAMS.reveal_close(k) - 1, GOOD)
    with reverts("reveal closed"):
        reveal_at(model, k, PARAMS.reveal_close(k), GOOD)
    assert model.reveal_state(k)[1] == 2


@pytest.mark.parametrize(
    ("good", "bad", "reason"),
    [
        (terms(Order(trader(1), 2**64 - 1, 2**24 - 1, 2, 1)), 2**96, "terms out of range"),
        (terms(order(1, 1, 10, 0)), terms(order(1, 0, 10, 0)), "zero price"),
        (terms(order(1, 10, 1, 0)), terms(order(1, 10, 0, 0)), "zero energy"),
        (terms(order(1, 10, 1, 0, zone=2)), terms(order(1, 10, 1, 0, zone=3)), "unknown zone"),
    ],
)
def test_reveal_terms_checks(good, bad, reason):
    model = CallMarketModel(PARAMS, MARKET)
    k = 2_000_000
    reveal_at(model, k, PARAMS.reveal_open(k), good)
    with reverts(reason):
        reveal_at(model, k, PARAMS.reveal_open(k), bad)


def test_terms_checks_come_in_the_specified_order():
    model = CallMarketModel(PARAMS, MARKET)
    k = 2_000_000
    with reverts("zero price"):
        reveal_at(model, k, PARAMS.reveal_open(k), terms(Order(trader(1), 0, 0, 5, 0)))
    with reverts("zero energy"):
        reveal_at(model, k, PARAMS.reveal_open(k), terms(Order(trader(1), 1, 0, 5, 0)))


def test_the_book_holds_2048_reveals():
    model = CallMarketModel(PARAMS, MARKET)
    k = 2_000_000
    for n in range(MAX_ORDERS):
        assert reveal_at(model, k, PARAMS.reveal_open(k), GOOD).index == n
    with reverts("reveals full"):
        reveal_at(model, k, PARAMS.reveal_open(k), GOOD)


def test_reveal_builds_the_order_from_the_sender_and_recomputes_the_commitment():
    interval = honest(BOOK[:1])
    event = interval.revealed[0]
    assert event.order == pack(BOOK[0]) and event.commit_index == 0
    assert event.commitment == interval.committed[0].commitment
    forged = interval.reveal(BOOK[0], salt(0), 0, sender=trader(99))  # someone else opening it
    assert unpack(forged.order).trader == trader(99)
    assert forged.commitment != interval.committed[0].commitment


# -- clear: times and the chains ----------------------------------------------------------------------------
def test_clear_opens_at_reveal_close():
    interval = honest(BOOK)
    with reverts("reveal not closed"):
        interval.clear(now=interval.clear_time - 1)
    assert interval.clear(now=interval.clear_time).volume_wh > 0


def test_clear_window_ends_with_the_delivery_interval():
    interval = honest(BOOK)
    end = PARAMS.start(interval.k) + I
    with reverts("clear window closed"):
        interval.clear(now=end)
    interval.clear(now=end - 1)


def test_an_interval_clears_once():
    interval = honest(BOOK)
    cleared = interval.clear()
    assert interval.model.cleared(interval.k)
    assert interval.model.clearings(interval.k).as_tuple() == (
        cleared.buy_price,
        cleared.sell_price,
        cleared.volume_wh,
        6,
        cleared.book,
    )
    with reverts("already cleared"):
        interval.clear()


def bad(interval: Interval, **change) -> ClearArgs:
    return dataclasses.replace(interval.args(), **change)


def test_commit_chain_must_be_every_commitment_in_order():
    interval = honest(BOOK)
    c = interval.args().commitments
    for wrong in (c[:-1], c[1:2] + c[:1] + c[2:], c[:-1] + [b"\x07" * 32], c + [c[0]]):
        with reverts("commit chain"):
            interval.clear(bad(interval, commitments=wrong))


def with_ref(args: ClearArgs, r: int, ref16: int) -> list[int]:
    refs = list(args.refs)
    refs[r // 16] = refs[r // 16] & ~(0xFFFF << (16 * (r % 16))) | (ref16 << (16 * (r % 16)))
    return refs


def test_a_flagged_reveal_must_be_a_mismatch():
    interval = honest(BOOK)
    args = interval.args()
    refs = with_ref(args, 0, 0 | FLAG)
    with reverts("not a mismatch"):
        interval.clear(dataclasses.replace(args, refs=refs, mismatched=[args.commitments[0]]))


def wrong_index_interval() -> Interval:
    interval = honest(BOOK)
    interval.reveal(BOOK[0], salt(0), len(BOOK))  # an index past the last commitment: void
    return interval


def test_an_unflagged_reveal_must_name_a_commitment():
    interval = wrong_index_interval()
    args = interval.args()
    assert args.mismatched == [interval.revealed[-1].commitment]
    refs = with_ref(args, len(BOOK), len(BOOK))  # the flag dropped
    with reverts("commit index out of range"):
        interval.clear(dataclasses.replace(args, refs=refs, mismatched=[]))
    interval.clear(args)


def test_every_mismatched_commitment_is_consumed():
    interval = wrong_index_interval()
    args = interval.args()
    with reverts("mismatched count"):
        interval.clear(dataclasses.replace(args, mismatched=args.mismatched + [b"\x00" * 32]))
    with reverts("mismatched count"):
        interval.clear(dataclasses.replace(args, mismatched=[]))


def test_reveal_chain_binds_every_order_and_index():
    interval = honest(BOOK)
    args = interval.args()
    orders = list(args.orders)
    orders[2] += 1 << 8  # one more Wh
    with reverts("reveal chain"):
        interval.clear(dataclasses.replace(args, orders=orders))
    with reverts("reveal chain"):
        interval.clear(dataclasses.replace(args, refs=with_ref(args, 1, 2)))  # reveal 1 said index 1
    with reverts("reveal chain"):  # the last reveal left out
        interval.clear(dataclasses.replace(args, orders=orders[:-1], asks=pack16(args.ask_positions[:-1]), n_asks=2))


def test_refs_take_one_word_per_16_reveals():
    interval = honest(BOOK)
    args = interval.args()
    for refs in (args.refs + [0], []):
        with reverts("list length"):
            interval.clear(dataclasses.replace(args, refs=refs))


# -- clear: the lists ----------------------------------------------------------------------------------------
def test_the_honest_book_sorts_by_effective_price():
    args = honest(BOOK).args()
    assert args.bid_positions == [0, 1, 2]  # effective 290, 255, 230
    assert args.ask_positions == [3, 4, 5]  # effective 210, 255, 260
    assert args.refs == [sum(n << (16 * n) for n in range(6))]


def void_interval() -> Interval:
    """BOOK plus a duplicate reveal of order 0 (void) at position 6 and a wrong-salt reveal at 7 (flagged)."""
    interval = honest(BOOK)
    interval.reveal(BOOK[0], salt(0), 0)
    interval.reveal(BOOK[1], salt(99), 1)
    return interval


@pytest.mark.parametrize(
    "bids",
    [
        [0, 1, 2, 6],  # a duplicate (void)
        [0, 1, 2, 7],  # a mismatch (void)
        [0, 1, 2, 8],  # no such reveal
        [0, 1, 2, 3],  # an ask
        [0, 1, 1, 2],  # listed twice
    ],
)
def test_not_a_valid_bid(bids):
    void_interval().clear()  # the keeper's own lists pass
    interval = void_interval()
    with reverts("not a valid bid"):
        interval.clear(bad(interval, bids=pack16(bids), n_bids=len(bids)))


@pytest.mark.parametrize("asks", [[3, 4, 5, 6], [3, 4, 5, 7], [3, 4, 5, 8], [3, 4, 5, 0], [3, 3, 4, 5]])
def test_not_a_valid_ask(asks):
    interval = void_interval()
    with reverts("not a valid ask"):
        interval.clear(bad(interval, asks=pack16(asks), n_asks=len(asks)))


def test_bids_and_asks_must_be_sorted():
    interval = honest(BOOK)
    with reverts("bids not sorted"):
        interval.clear(bad(interval, bids=pack16([1, 0, 2])))
    with reverts("asks not sorted"):
        interval.clear(bad(interval, asks=pack16([3, 5, 4])))


def test_ties_go_by_reveal_position():
    tied = [order(1, 100, 10, 0), order(2, 100, 10, 0), order(3, 50, 10, 1), order(4, 50, 10, 1)]
    interval = honest(tied)
    assert interval.args().bid_positions == [0, 1] and interval.args().ask_positions == [2, 3]
    with reverts("bids not sorted"):
        interval.clear(bad(interval, bids=pack16([1, 0])))
    with reverts("asks not sorted"):
        interval.clear(bad(interval, asks=pack16([3, 2])))
    interval.clear()


def test_a_bid_whose_fee_eats_its_price_sorts_at_zero():
    book = [order(1, 20, 10, 0, zone=1), order(2, 5, 10, 0), order(3, 1, 10, 1)]  # effective 0 (fee 25) and 0
    interval = honest(book)
    assert interval.args().bid_positions == [0, 1]
    assert interval.clear().volume_wh == 0


def test_every_valid_order_must_be_listed():
    interval = honest(BOOK)
    with reverts("orders missing"):
        interval.clear(bad(interval, n_bids=2))
    with reverts("orders missing"):
        interval.clear(bad(interval, asks=[], n_asks=0))


def test_list_words_match_their_counts():
    interval = honest(BOOK)
    args = interval.args()
    with reverts("list length"):
        interval.clear(dataclasses.replace(args, bids=args.bids + [0]))
    with reverts("list length"):
        interval.clear(dataclasses.replace(args, asks=args.asks + [0]))
    with reverts("list length"):
        interval.clear(dataclasses.replace(args, n_bids=17))


def test_padding_beyond_n_is_ignored():
    interval = honest(BOOK)
    args = interval.args()
    padded = dataclasses.replace(args, bids=[args.bids[0] | (0xBEEF << 48)])
    assert interval.clear(padded).volume_wh == 3_000


def test_an_empty_interval_clears_with_no_trade():
    interval = Interval(CallMarketModel(PARAMS, MARKET))
    cleared = interval.clear()
    assert (cleared.buy_price, cleared.sell_price, cleared.volume_wh, cleared.orders) == (0, 0, 0, 0)
    assert interval.model.cleared(interval.k)


# -- the ring ------------------------------------------------------------------------------------------------
def test_ring_reuse_after_256_intervals_overwrites_a_stale_word():
    first = honest([BOOK[0], BOOK[3]])
    first.clear()
    k = first.k + RING
    model = first.model
    stale = model.commit_ring(k % RING)
    assert stale != 0 and model.commit_state(k) == (0, 0) and model.reveal_state(k) == (0, 0)
    later = Interval(model, k)
    event = later.commit(BOOK[3], salt(3))
    assert event.index == 0  # a fresh count, not the stale one's
    assert model.commit_ring(k % RING) == ring_word(commit_link(0, event.commitment), 1, k)
    assert model.commit_state(first.k) == (0, 0)  # the old interval's word now reads empty
    later.reveal(BOOK[3], salt(3), 0)
    assert later.clear().volume_wh == 0
    assert model.clearings(first.k).volume_wh == 1_000  # results are kept per interval, not in the ring


def test_an_interval_the_ring_forgot_cannot_be_cleared_with_the_old_book():
    first = honest(BOOK)
    args = first.args()
    Interval(first.model, first.k + RING).commit(BOOK[0], salt(0))
    with reverts("clear window closed"):  # long over anyway; and its chain is gone
        first.model.clear(first.k, *args.as_args(), now=PARAMS.reveal_close(first.k + RING))
    with reverts("commit chain"):
        first.model.clear(first.k + RING, *args.as_args(), now=PARAMS.reveal_close(first.k + RING))


# -- a reveal's index: bounded so that it always fits a ref -------------------------------------------------
def test_a_reveal_with_a_commit_index_beyond_the_book_is_refused():
    """A ref carries 15 bits of the index: an unbounded index (specification v1) let one reveal make the interval
    unclearable (the reveal chain could never be replayed). Now the reveal itself is refused: 2,047 passes."""
    interval = honest(BOOK)
    interval.reveal(order(9, 1, 1, 0), salt(9), MAX_ORDERS - 1)  # void at the clear (no such commit), but allowed
    with reverts("commit index too large"):
        interval.reveal(order(9, 1, 1, 0), salt(9), MAX_ORDERS)
    with reverts("commit index too large"):
        interval.reveal(order(9, 1, 1, 0), salt(9), 2**15)
    interval.clear()  # the keeper flags the index-2,047 reveal and the interval clears


def test_abi_bounds_are_not_a_contract_reason():
    interval = honest(BOOK)
    with pytest.raises(ValueError, match="abi"):
        interval.clear(bad(interval, commitments=[b"\x00" * 32] * (MAX_ORDERS + 1)))


def test_encoding_helpers_match_eth_abi():
    assert (
        commit_link(0, b"\x01" * 32) == int.from_bytes(keccak(encode(["uint256", "bytes32"], [0, b"\x01" * 32]))) >> 64
    )
    assert ring_word(2**192 - 1, 2**32 - 1, 2**32 + 5) == (2**192 - 1) << 64 | (2**32 - 1) << 32 | 5
    assert Params().reveal_open(10) == 9_000 - 600
