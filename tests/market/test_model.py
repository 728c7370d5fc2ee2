"""The call market's twin: every revert reason at its boundary (passes at the edge, reverts just past it), the
ring of packed words, and the clear's checks each triggered by one hand-made bad argument."""

from __future__ import annotations

import dataclasses

import pytest
from eth_abi import encode
from eth_utils import keccak

from gridchain.market.clearing import ClearArgs, marks_of
from gridchain.market.model import (
    FLAG,
    MAX_ORDERS,
    RING,
    RULE_TRADE_REDUCTION,
    RULE_UNIFORM,
    TRADED,
    CallMarketModel,
    MarketError,
    Marks,
    Order,
    Params,
    book_hash,
    commit_link,
    commitment,
    decode_marks,
    digest,
    encode_marks,
    pack,
    ring_word,
    terms,
    unpack,
)
from tests.market.harness import BOOK, MARKET, PARAMS, Interval, honest, order, salt, trader, zone_fees
from tests.market.marks import marks as raw_marks
from tests.market.marks import with_fields

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


def test_the_clear_takes_192_bit_digests():
    interval = honest(BOOK)
    args = interval.args()
    assert args.commitments == [digest(e.commitment) for e in interval.committed]
    assert all(c < 2**192 for c in args.commitments) and digest(b"\xff" * 32) == 2**192 - 1


def test_commit_chain_must_be_every_commitment_in_order():
    interval = honest(BOOK)
    c = interval.args().commitments
    full = [int.from_bytes(e.commitment, "big") for e in interval.committed]  # spec v1's 256-bit words
    top = [c[0] | 1 << 192, *c[1:]]  # a digest with a bit above its 192
    for wrong in (c[:-1], c[1:2] + c[:1] + c[2:], c[:-1] + [7], c + [c[0]], full, top):
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
    with reverts("reveal chain"):  # the true digest with a bit above its 192: no mismatch, but not what was revealed
        interval.clear(dataclasses.replace(args, refs=refs, mismatched=[args.commitments[0] | 1 << 200]))


def wrong_index_interval() -> Interval:
    interval = honest(BOOK)
    interval.reveal(BOOK[0], salt(0), len(BOOK))  # an index past the last commitment: void
    return interval


def test_an_unflagged_reveal_must_name_a_commitment():
    interval = wrong_index_interval()
    args = interval.args()
    assert args.mismatched == [digest(interval.revealed[-1].commitment)]
    refs = with_ref(args, len(BOOK), len(BOOK))  # the flag dropped
    with reverts("commit index out of range"):
        interval.clear(dataclasses.replace(args, refs=refs, mismatched=[]))
    interval.clear(args)


def test_every_mismatched_commitment_is_consumed():
    interval = wrong_index_interval()
    args = interval.args()
    with reverts("mismatched count"):
        interval.clear(dataclasses.replace(args, mismatched=args.mismatched + [0]))
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
    with reverts("reveal chain"):  # the last reveal left out (the marks still name positions below 5)
        interval.clear(dataclasses.replace(args, orders=args.orders[:-1]))


def test_refs_take_one_word_per_16_reveals():
    interval = honest(BOOK)
    args = interval.args()
    for refs in (args.refs + [0], []):
        with reverts("list length"):
            interval.clear(dataclasses.replace(args, refs=refs))


def test_refs_padding_beyond_the_reveals_is_ignored():
    interval = honest(BOOK)
    args = interval.args()
    padded = dataclasses.replace(args, refs=[args.refs[0] | (0xBEEF << (16 * 6)) | (FLAG << (16 * 15))])
    assert interval.clear(padded).volume_wh == 3_000


# -- clear: the marks and the book hash -----------------------------------------------------------------------
def test_marks_layout_round_trip():
    m = Marks(True, 2**16 - 1, 1, 2, 2**16 - 2, 2**48 - 1, 2**48 - 2)
    word = encode_marks(m)
    assert (
        word == (2**16 - 1) | 1 << 16 | 2 << 32 | (2**16 - 2) << 48 | 1 << 64 | (2**48 - 1) << 96 | (2**48 - 2) << 144
    )
    assert decode_marks(word) == m and word < 2**192
    assert encode_marks(dataclasses.replace(m, traded=False)) == 0
    assert raw_marks(1, 2, 3, 4, 5, 6, traded=False) == 1 | 2 << 16 | 3 << 32 | 4 << 48 | 5 << 96 | 6 << 144


def rule(r: int) -> Params:
    return dataclasses.replace(PARAMS, rule=r)


def test_the_honest_marks_of_the_test_book():
    """Bids 290 (2,000 Wh), 255 (1,500), 230 (1,000); asks 210 (1,000), 255 (2,000), 260 (1,500): the walk fills
    1,000 + 1,000 + 1,000 Wh and stops at bid 1 against ask 5 (255 < 260): K = 1, L = 4 (ask used up first).
    Rule 0: both sides fill up to 3,000 Wh, so B = K (2,000 Wh before it) and A = L (1,000 before).
    Rule 1: K and L excluded, volume min(2,000, 1,000) = 1,000: B = bid 0, A = ask 3, nothing before them."""
    uniform, reduction = honest(BOOK, rule(RULE_UNIFORM)), honest(BOOK, rule(RULE_TRADE_REDUCTION))
    assert decode_marks(uniform.args().marks) == Marks(True, 1, 4, 1, 4, 2_000, 1_000)
    assert decode_marks(reduction.args().marks) == Marks(True, 1, 4, 0, 3, 0, 0)
    for interval, volume in ((uniform, 3_000), (reduction, 1_000)):
        cleared = interval.clear()
        assert (cleared.buy_price, cleared.sell_price, cleared.volume_wh) == (255, 255, volume)


def test_the_book_hash_binds_orders_validity_and_marks():
    interval = void_interval()
    args = interval.args()
    cleared = interval.clear(args)
    valid = [True] * 6 + [False] * 4
    assert args.valid == valid and args.valid_words == [0b111111] + [0] * 7
    expected = keccak(encode(["uint256[]", "uint256[8]", "uint256"], [args.orders, args.valid_words, args.marks]))
    assert cleared.book == expected == book_hash(*args.book) == interval.model.clearings(interval.k).book
    assert book_hash(args.orders, args.valid_words, args.marks ^ 1) != expected
    assert book_hash(args.orders, [0b111110] + [0] * 7, args.marks) != expected
    assert book_hash(args.orders[:-1], args.valid_words, args.marks) != expected


def void_interval(params: Params = PARAMS) -> Interval:
    """BOOK (positions 0-5) and four void reveals: 6 a duplicate of bid 0, 7 bid 1 with a wrong salt (flagged),
    8 a duplicate of ask 3, 9 ask 4 with a wrong salt (flagged)."""
    interval = honest(BOOK, params)
    interval.reveal(BOOK[0], salt(0), 0)
    interval.reveal(BOOK[1], salt(99), 1)
    interval.reveal(BOOK[3], salt(3), 3)
    interval.reveal(BOOK[4], salt(98), 4)
    return interval


# Each of the clear's reasons from the marks, on void_interval (honest marks: rule 0 K 1, L 4, B 1, A 4, 2,000 Wh
# before B and 1,000 before A, volume 3,000; rule 1 B 0, A 3, nothing before, volume 1,000). A change is a dict of
# fields to replace or a function of the honest word.
CASES = [
    # positions: 10 orders, so 9 is in range (and void) and 10 is not
    (0, {"k": 10}, "marks out of range"),
    (0, {"l": 10}, "marks out of range"),
    (0, {"b": 10}, "marks out of range"),
    (0, {"a": 10}, "marks out of range"),
    (0, {"k": 2**16 - 1}, "marks out of range"),
    (0, {"k": 9}, "marginal bid not valid"),  # the last position is in range
    (0, lambda w: w | 1 << 65, "marks out of range"),
    (0, lambda w: w | 1 << 95, "marks out of range"),
    (0, lambda w: w | 1 << 192, "marks out of range"),
    (0, lambda w: w | 1 << 255, "marks out of range"),
    (0, lambda w: w ^ TRADED, "marks out of range"),  # fields without the walk trading
    (0, lambda w: 1, "marks out of range"),
    (0, lambda w: 1 << 144, "marks out of range"),
    (0, {"k": 3}, "marginal bid not valid"),  # an ask
    (0, {"k": 6}, "marginal bid not valid"),  # a duplicate of bid 0
    (0, {"k": 7}, "marginal bid not valid"),  # a mismatched reveal
    (0, {"l": 0}, "marginal ask not valid"),  # a bid
    (0, {"l": 8}, "marginal ask not valid"),  # a duplicate of ask 3
    (0, {"l": 9}, "marginal ask not valid"),  # a mismatched reveal
    (0, {"k": 2}, "marginal pair does not cross"),  # 230 < 255
    (0, {"k": 0, "l": 5}, "marginal pair not matched"),  # bid 0 fills 0..2,000 Wh; ask 5 would start at 3,000
    (0, {"k": 2, "l": 3}, "marginal pair not matched"),  # bid 2 would start at 3,500; ask 3 fills 0..1,000
    (0, {"k": 0, "l": 3}, "walk goes on"),  # ask 3 used up first, bid 0 crosses ask 4 (290 >= 255)
    (0, {"k": 0, "l": 4}, "walk goes on"),  # bid 0 used up first, bid 1 crosses ask 4 (255 >= 255)
    (0, lambda w: 0, "book crosses"),
    (0, {"b": 3}, "bid boundary not valid"),  # an ask
    (0, {"b": 6}, "bid boundary not valid"),  # void
    (0, {"b": 7}, "bid boundary not valid"),  # void
    (0, {"a": 0}, "ask boundary not valid"),  # a bid
    (0, {"a": 8}, "ask boundary not valid"),  # void
    (0, {"b": 0, "before_b": 0}, "wrong bid boundary"),  # bid 0 ends at 2,000 < 3,000
    (0, {"b": 2}, "wrong bid boundary"),  # bid 2 starts at 3,500
    (0, {"a": 3, "before_a": 0}, "wrong ask boundary"),  # ask 3 ends at 1,000
    (0, {"a": 5}, "wrong ask boundary"),  # ask 5 starts at 3,000 = the volume
    (0, {"before_b": 1_999}, "wrong boundary energy"),
    (0, {"before_b": 2_001}, "wrong boundary energy"),
    (0, {"before_a": 999}, "wrong boundary energy"),
    (0, {"before_a": 2**48 - 1}, "wrong boundary energy"),
    (1, {"b": 1}, "wrong bid boundary"),  # rule 1: bid 1 starts at 2,000 >= 1,000
    (1, {"a": 4}, "wrong ask boundary"),  # ask 4 starts at 1,000 = the volume
    (1, {"b": 6}, "bid boundary not valid"),
    (1, {"a": 9}, "ask boundary not valid"),
    (1, {"before_b": 1}, "wrong boundary energy"),
    (1, {"before_a": 1}, "wrong boundary energy"),
    (1, {"k": 0}, "walk goes on"),
]


@pytest.mark.parametrize(("rule_", "change", "reason"), CASES)
def test_each_reason_of_the_marks(rule_, change, reason):
    interval = void_interval(rule(rule_))
    args = interval.args()
    word = change(args.marks) if callable(change) else with_fields(args.marks, **change)
    assert word != args.marks
    with reverts(reason):
        interval.clear(dataclasses.replace(args, marks=word))
    interval.clear(args)  # the keeper's own marks pass


def test_boundary_without_volume():
    """Rule 1 with K or L first of its side: the walk trades, the rule does not, so B, A and their energies are 0."""
    for book, honest_marks in (
        ([order(1, 100, 10, 0), order(2, 50, 10, 1)], raw_marks(0, 1)),  # K rank 0
        ([order(1, 100, 10, 0), order(2, 90, 10, 0), order(3, 50, 30, 1)], raw_marks(1, 2)),  # L rank 0
    ):
        interval = honest(book, rule(RULE_TRADE_REDUCTION))
        args = interval.args()
        assert args.marks == honest_marks
        for change in ({"b": 1}, {"a": 1}, {"before_b": 1}, {"before_a": 1}, {"before_a": 2**48 - 1}):
            with reverts("boundary without volume"):
                interval.clear(dataclasses.replace(args, marks=with_fields(args.marks, **change)))
        with reverts("marks out of range"):  # no trade claimed: marks must be 0
            interval.clear(dataclasses.replace(args, marks=args.marks ^ TRADED))
        with reverts("book crosses"):
            interval.clear(dataclasses.replace(args, marks=0))
        assert interval.clear(args).volume_wh == 0
        assert honest(book, rule(RULE_UNIFORM)).clear().volume_wh == 10 * (len(book) - 1)


# The walk's three ends, each with the honest (K, L) and a pair the walk fills before it (claimed as the last):
# fees 10 in zone 0, so bids are 10 below their price and asks 10 above.
ENDS = {
    "bid used up first": (
        [order(1, 300, 1_000, 0), order(2, 200, 1_000, 0), order(3, 100, 3_000, 1)],
        (1, 2),  # through K 2,000 < through L 3,000; no bid left
        (0, 2),  # next bid 190 >= ask 110
    ),
    "bid used up first, the next bid at the ask": (
        [order(1, 300, 1_000, 0), order(2, 120, 1_000, 0), order(3, 100, 3_000, 1), order(4, 119, 1, 0)],
        (1, 2),  # bid 1 (110) crosses ask 2 (110); bid 3 (109) does not
        (0, 2),  # next bid 110 = ask 110: the walk goes on at equality
    ),
    "ask used up first": (
        [order(1, 300, 3_000, 0), order(2, 100, 1_000, 1), order(3, 200, 1_000, 1), order(4, 281, 5, 1)],
        (0, 2),  # through L 2,000 < through K 3,000; bid 290 < ask 3 (291)
        (0, 1),  # bid 290 >= next ask 210
    ),
    "ask used up first, the next ask at the bid": (
        [order(1, 300, 3_000, 0), order(2, 100, 1_000, 1), order(3, 280, 1_000, 1)],
        (0, 2),
        (0, 1),  # next ask 290 = bid 290: the walk goes on at equality
    ),
    "both used up": (
        [order(1, 300, 1_000, 0), order(2, 280, 1_000, 0), order(3, 100, 1_000, 1), order(4, 120, 1_000, 1)],
        (1, 3),  # through K = through L = 2,000, nothing left
        (0, 2),  # next bid 270 >= next ask 130
    ),
    "both used up, the next pair one apart": (
        [
            order(1, 300, 1_000, 0),
            order(2, 280, 1_000, 0),
            order(3, 100, 1_000, 1),
            order(4, 120, 1_000, 1),
            order(5, 199, 500, 0),
            order(6, 180, 500, 1),
        ],
        (1, 3),  # next bid 189 < next ask 190
        (0, 2),
    ),
    "both used up, the next pair at one price": (
        [order(1, 300, 1_000, 0), order(2, 100, 1_000, 1), order(3, 150, 500, 0), order(4, 130, 500, 1)],
        (2, 3),  # the next pair (140, 140) crosses at equality and fills
        (0, 1),
    ),
}


@pytest.mark.parametrize("end", list(ENDS))
@pytest.mark.parametrize("rule_", [RULE_UNIFORM, RULE_TRADE_REDUCTION])
def test_walk_goes_on_in_each_of_its_three_ends(end, rule_):
    book, last, earlier = ENDS[end]
    params = dataclasses.replace(PARAMS, zone_fees=zone_fees(10), rule=rule_)
    interval = honest(book, params)
    args = interval.args()
    assert (decode_marks(args.marks).k, decode_marks(args.marks).l) == last
    with reverts("walk goes on"):
        interval.clear(dataclasses.replace(args, marks=with_fields(args.marks, k=earlier[0], l=earlier[1])))
    interval.clear(args)


def test_a_book_that_does_not_cross_takes_no_marks():
    book = [order(1, 100, 10, 0), order(2, 95, 10, 0), order(3, 111, 10, 1)]  # fees 10: bids 90, 85; ask 121
    interval = honest(book, dataclasses.replace(PARAMS, zone_fees=zone_fees(10)))
    args = interval.args()
    assert args.marks == 0
    with reverts("marginal pair does not cross"):
        interval.clear(dataclasses.replace(args, marks=raw_marks(0, 2)))
    with reverts("marks out of range"):
        interval.clear(dataclasses.replace(args, marks=TRADED >> 1))
    assert interval.clear(args).volume_wh == 0


def test_the_honest_book_sorts_by_effective_price():
    args = honest(BOOK).args()
    assert args.bid_positions == [0, 1, 2]  # effective 290, 255, 230
    assert args.ask_positions == [3, 4, 5]  # effective 210, 255, 260
    assert args.refs == [sum(n << (16 * n) for n in range(6))]


def test_ties_go_by_reveal_position():
    """Two bids and two asks at one price each: the earlier reveal ranks first, so the walk's last pair is the
    later two, and under rule 1 the earlier bid and ask are the boundaries."""
    tied = [order(1, 100, 10, 0), order(2, 100, 10, 0), order(3, 50, 10, 1), order(4, 50, 10, 1)]
    for r, marks_ in ((RULE_UNIFORM, raw_marks(1, 3, 1, 3, 10, 10)), (RULE_TRADE_REDUCTION, raw_marks(1, 3, 0, 2))):
        interval = honest(tied, rule(r))
        args = interval.args()
        assert args.bid_positions == [0, 1] and args.ask_positions == [2, 3] and args.marks == marks_
        for change, reason in (
            ({"k": 0}, "marginal pair not matched"),  # bid 0 fills 0..10 Wh, ask 3 10..20
            ({"l": 2}, "marginal pair not matched"),
            ({"k": 0, "l": 2}, "walk goes on"),
            ({"b": 1 - decode_marks(marks_).b}, "wrong bid boundary"),
            ({"a": 5 - decode_marks(marks_).a}, "wrong ask boundary"),
        ):
            with reverts(reason):
                interval.clear(dataclasses.replace(args, marks=with_fields(args.marks, **change)))
        interval.clear(args)


def test_a_bid_whose_fee_eats_its_price_sorts_at_zero():
    book = [order(1, 20, 10, 0, zone=1), order(2, 5, 10, 0), order(3, 1, 10, 1)]  # effective 0 (fee 25) and 0
    interval = honest(book)
    assert interval.args().bid_positions == [0, 1] and interval.args().marks == 0
    assert interval.clear().volume_wh == 0


def test_marks_that_leave_out_an_order_are_refused():
    """Spec v1 refused lists without every valid order ("orders missing"); in v2 the clear ranks every valid order
    itself, so marks the keeper computed without one of them are refused, unless that order plays no part in the
    walk or the fills (then they are the same marks)."""
    for r_ in (RULE_UNIFORM, RULE_TRADE_REDUCTION):
        interval = void_interval(rule(r_))
        args = interval.args()
        refused = 0
        for side in ("bid_positions", "ask_positions"):
            for left_out in getattr(args, side):
                bids = [p for p in args.bid_positions if p != left_out]
                asks = [p for p in args.ask_positions if p != left_out]
                word = marks_of(args.orders, bids, asks, PARAMS.zone_fees, r_)
                if word == args.marks:
                    continue
                refused += 1
                with pytest.raises(MarketError):
                    interval.clear(dataclasses.replace(args, marks=word))
        assert refused >= 4, refused
        interval.clear(args)


def test_an_empty_interval_clears_with_no_trade():
    interval = Interval(CallMarketModel(PARAMS, MARKET))
    cleared = interval.clear()
    assert (cleared.buy_price, cleared.sell_price, cleared.volume_wh, cleared.orders) == (0, 0, 0, 0)
    assert interval.model.cleared(interval.k)
    with reverts("marks out of range"):
        Interval(CallMarketModel(PARAMS, MARKET)).clear(dataclasses.replace(interval.args(), marks=TRADED))


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
        interval.clear(bad(interval, commitments=[0] * (MAX_ORDERS + 1)))
    for word in (2**256, -1):
        with pytest.raises(ValueError, match="abi"):
            interval.clear(bad(interval, marks=word))


def test_encoding_helpers_match_eth_abi():
    c = b"\x01" * 32
    assert (
        commit_link(0, c) == int.from_bytes(keccak(encode(["uint256", "uint256"], [0, int(c.hex(), 16) >> 64]))) >> 64
    )
    assert ring_word(2**192 - 1, 2**32 - 1, 2**32 + 5) == (2**192 - 1) << 64 | (2**32 - 1) << 32 | 5
    assert Params().reveal_open(10) == 9_000 - 600
