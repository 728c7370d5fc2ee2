"""contracts/call_market.vy on its own (the twin's differential test: tests/market/test_differential.py): every
external function with one positive and one negative test, every revert reason (each of spec v2's clear reasons
from a hand-made bad marks word), boundary tables for the time windows, ring reuse, both rules on hand-computed
books with fees in two zones, and which reveals are void."""

from __future__ import annotations

import boa
import pytest
from eth_abi import encode
from eth_utils import keccak

from gridchain.market.model import TRADED, decode_marks, digest
from tests.market.book import ASK, BID, FLAG, commitment, order_word, pack16, terms
from tests.market.harness_contract import FEES, INTERVAL_S, Market, deploy
from tests.market.marks import marks, with_fields

MAX = 2048


def reason(text: str):
    return boa.reverts(f"call_market: {text}")


def chain192(types: list[str], values: list) -> int:
    return int.from_bytes(keccak(encode(types, values)), "big") >> 64


@pytest.fixture
def m():
    with boa.env.anchor():
        yield Market()


@pytest.fixture
def traders():
    return [boa.env.generate_address(f"trader{i}") for i in range(8)]


# -- the hand-computed book: 3 bids and 3 asks, fees 0 (zone 0) and 20,000 (zone 1) micro-coins per kWh --------
#   bid B0 300,000 x 4,000 Wh zone 1 -> eff 280,000   ask A0 180,000 x 2,000 Wh zone 0 -> eff 180,000
#   bid B1 260,000 x 3,000 Wh zone 0 -> eff 260,000   ask A1 210,000 x 4,000 Wh zone 1 -> eff 230,000
#   bid B2 240,000 x 5,000 Wh zone 1 -> eff 220,000   ask A2 250,001 x 6,000 Wh zone 0 -> eff 250,001
# walk: B0-A0 2,000 (A0 done), B0-A1 2,000 (B0 done), B1-A1 2,000 (A1 done), B1-A2 1,000 (B1 done),
#       B2 220,000 < A2 250,001: stop. Volume 7,000 Wh; K = B1 (260,000), L = A2 (250,001).
# rule 0: price (260,000 + 250,001) // 2 = 255,000 both sides, volume 7,000 Wh; B = K (4,000 Wh before it),
#         A = L (6,000 before it).
# rule 1: B1 and A2 excluded; Qb = 4,000 (B0), Qa = 2,000 + 4,000 (A0, A1); volume 4,000 Wh,
#         buyers 260,000, sellers 250,001; B = B0 (nothing before it), A = A1 (2,000 before it).
# In reveal positions (HAND's order): bids 0 [0, 4,000 Wh), 2 [4,000, 7,000), 4 [7,000, 12,000) of the bids'
# cumulative energy; asks 1 [0, 2,000), 3 [2,000, 6,000), 5 [6,000, 12,000).
HAND = [
    terms(300_000, 4_000, 1, BID),
    terms(180_000, 2_000, 0, ASK),
    terms(260_000, 3_000, 0, BID),
    terms(210_000, 4_000, 1, ASK),
    terms(240_000, 5_000, 1, BID),
    terms(250_001, 6_000, 0, ASK),
]


def hand_book(m, traders, k):
    return m.trade(k, list(zip(traders, HAND, strict=False)))


# ---- constructor ----------------------------------------------------------------------------------------------


def test_deploy_keeps_its_parameters(m):
    c = m.c
    assert (c.INTERVAL_S(), c.REVEAL_S(), c.GATE_S(), c.HORIZON(), c.ZONES()) == (900, 300, 60, 96, 2)
    assert (c.ZONE_FEES(), c.RULE()) == (FEES[1] << 32, 0)
    assert c.commit_ring(0) == 0 and c.reveal_ring(255) == 0 and c.cleared(0) is False


@pytest.mark.parametrize(
    ("params", "ok", "why"),
    [
        ({"interval_s": 0}, None, "zero interval"),
        ({"interval_s": 1, "reveal_s": 1, "gate_s": 0, "horizon": 2}, True, None),
        ({"horizon": 0}, None, "horizon out of range"),
        ({"horizon": 128}, True, None),
        ({"horizon": 129}, None, "horizon out of range"),
        ({"zones": 0}, None, "zones out of range"),
        ({"zones": 8}, True, None),
        ({"zones": 9}, None, "zones out of range"),
        ({"rule": 1}, True, None),
        ({"rule": 2}, None, "unknown rule"),
        ({"reveal_s": 0}, None, "zero reveal window"),
        # reveal_s + gate_s < horizon * interval_s: 2 x 900 - 1 passes, 2 x 900 reverts
        ({"horizon": 2, "reveal_s": 1_739, "gate_s": 60}, True, None),
        ({"horizon": 2, "reveal_s": 1_740, "gate_s": 60}, None, "windows exceed interval"),
        ({"horizon": 1, "reveal_s": 2**255, "gate_s": 2**255 - 1}, None, "windows exceed interval"),
    ],
)
def test_constructor_checks(params, ok, why):
    if ok:
        assert deploy(**params).HORIZON() == params.get("horizon", 96)
    else:
        with reason(why):
            deploy(**params)


# ---- commit -------------------------------------------------------------------------------------------------


def test_commit_links_the_ring_word_and_logs_its_index(m, traders):
    k = m.next_interval()
    index, salt = m.commit(traders[0], k, HAND[0])
    c = commitment(m.c.address, k, order_word(traders[0], HAND[0]), salt)
    assert index == 0 and m.committed[k][0]["commitment"] == c
    h = chain192(["uint256", "uint256"], [0, digest(c)])
    assert m.c.commit_ring(k % 256) == (h << 64) | (1 << 32) | k
    assert m.commit(traders[1], k, HAND[1])[0] == 1
    word = m.c.commit_ring(k % 256)
    assert (word >> 32) & (2**32 - 1) == 2 and word >> 64 == chain192(
        ["uint256", "uint256"], [h, digest(m.committed[k][1]["commitment"])]
    )


def test_commit_window_boundary(m, traders):
    k = m.next_interval()
    m.travel_to(m.reveal_open(k) - 1)
    m.commit(traders[0], k, HAND[0])  # reveal_open - 1 passes
    m.travel_to(m.reveal_open(k))
    with reason("commit closed"):
        m.commit(traders[0], k, HAND[0])
    with reason("commit closed"):  # a past interval, far below any underflow
        m.c.commit(0, b"\x01" * 32, sender=traders[0])


def test_commit_horizon_boundary(m, traders):
    now_interval = m.now // INTERVAL_S
    m.commit(traders[0], now_interval + 96, HAND[0])  # HORIZON ahead passes
    with reason("too far ahead"):
        m.commit(traders[0], now_interval + 97, HAND[0])
    with reason("too far ahead"):  # no overflow of k * INTERVAL_S
        m.c.commit(2**256 - 1, b"\x01" * 32, sender=traders[0])


def test_commit_book_full(m, traders):
    k = m.next_interval()
    h = 12345
    boa.env.set_storage(m.c.address, k % 256, (h << 64) | ((MAX - 1) << 32) | k)  # commit_ring[k % 256]
    assert m.commit(traders[0], k, HAND[0])[0] == MAX - 1  # the 2,048th passes
    with reason("book full"):
        m.commit(traders[0], k, HAND[0])


# ---- reveal -------------------------------------------------------------------------------------------------


def test_reveal_links_the_ring_word_and_logs_the_order(m, traders):
    k = m.next_interval()
    _, salt = m.commit(traders[0], k, HAND[0])
    m.travel_to(m.reveal_open(k))
    e = m.reveal(traders[0], k, 0, HAND[0], salt)
    order = order_word(traders[0], HAND[0])
    c = commitment(m.c.address, k, order, salt)
    assert (e["index"], e["commit_index"], e["order"], e["commitment"]) == (0, 0, order, c)
    h = chain192(["uint256", "uint256", "uint256", "uint256"], [0, 0, order, digest(c)])
    assert m.c.reveal_ring(k % 256) == (h << 64) | (1 << 32) | k


def test_reveal_window_boundaries(m, traders):
    k = m.next_interval()
    _, salt = m.commit(traders[0], k, HAND[0])
    m.travel_to(m.reveal_open(k) - 1)
    with reason("reveal not open"):
        m.reveal(traders[0], k, 0, HAND[0], salt)
    m.travel_to(m.reveal_open(k))
    m.reveal(traders[0], k, 0, HAND[0], salt)  # reveal_open passes
    m.travel_to(m.reveal_close(k) - 1)
    m.reveal(traders[0], k, 0, HAND[0], salt)  # reveal_close - 1 passes (a duplicate: void at the clear)
    m.travel_to(m.reveal_close(k))
    with reason("reveal closed"):
        m.reveal(traders[0], k, 0, HAND[0], salt)


@pytest.mark.parametrize(
    ("order_terms", "why"),
    [
        (2**96, "terms out of range"),
        (terms(0, 1_000, 0, BID), "zero price"),
        (terms(1, 0, 0, ASK), "zero energy"),
        (terms(1, 1, 2, BID), "unknown zone"),  # zones = 2
        (terms(1, 1, 127, ASK), "unknown zone"),
    ],
)
def test_reveal_field_checks(m, traders, order_terms, why):
    k = m.next_interval()
    m.travel_to(m.reveal_open(k))
    with reason(why):
        m.c.reveal(k, 0, order_terms, b"\x00" * 32, sender=traders[0])


def test_reveal_field_boundaries_pass(m, traders):
    k = m.next_interval()
    m.travel_to(m.reveal_open(k))
    top = terms(2**64 - 1, 2**24 - 1, 1, ASK)  # 2**96 - 1 but for the zone's high bits: the largest valid terms
    for t in (terms(1, 1, 0, BID), terms(1, 1, 1, ASK), top):
        m.reveal(traders[0], k, 0, t, b"\x00" * 32)


def test_reveals_full(m, traders):
    k = m.next_interval()
    m.travel_to(m.reveal_open(k))
    boa.env.set_storage(m.c.address, 256 + k % 256, (7 << 64) | ((MAX - 1) << 32) | k)  # reveal_ring[k % 256]
    assert m.reveal(traders[0], k, 0, HAND[0], b"\x00" * 32)["index"] == MAX - 1
    with reason("reveals full"):
        m.c.reveal(k, 0, HAND[0], b"\x00" * 32, sender=traders[0])


# ---- clear: the hand-computed books ---------------------------------------------------------------------------


HONEST_MARKS = {0: marks(2, 5, 2, 5, 4_000, 6_000), 1: marks(2, 5, 0, 3, 0, 2_000)}


@pytest.mark.parametrize(("rule", "expected"), [(0, (255_000, 255_000, 7_000)), (1, (260_000, 250_001, 4_000))])
def test_clear_the_hand_book(traders, rule, expected):
    with boa.env.anchor():
        m = Market(rule=rule)
        k = m.next_interval()
        args = hand_book(m, traders, k)
        # bids by effective price: B0 (pos 0, 280,000), B1 (pos 2, 260,000), B2 (pos 4, 220,000);
        # asks: A0 (pos 1, 180,000), A1 (pos 3, 230,000), A2 (pos 5, 250,001)
        assert args.bid_positions == [0, 2, 4] and args.ask_positions == [1, 3, 5]
        assert args.marks == HONEST_MARKS[rule]
        event = m.clear(args)
        valid = [0b111111] + [0] * 7
        book = keccak(encode(["uint256[]", "uint256[8]", "uint256"], [args.orders, valid, args.marks]))
        assert (event["buy_price"], event["sell_price"], event["volume_wh"]) == expected
        assert event["orders"] == 6 and event["book"] == book
        assert tuple(m.c.clearings(k)) == (*expected, 6, book) and m.c.cleared(k) is True
        # a zone-1 buyer pays buy_price + 20,000 <= its price; a zone-1 seller gets sell_price - 20,000 >= its price
        assert expected[0] + FEES[1] <= 300_000 and expected[1] - FEES[1] >= 210_000


def test_trade_reduction_without_a_second_bid_does_not_trade(traders):
    with boa.env.anchor():
        m = Market(rule=1)
        k = m.next_interval()
        # one bid of 10,000 Wh takes both asks: K = 0, so nothing is left after the reduction
        book = [terms(300_000, 10_000, 0, BID), terms(100_000, 2_000, 0, ASK), terms(120_000, 2_000, 1, ASK)]
        event = m.clear(m.trade(k, list(zip(traders, book, strict=False))))
        assert (event["buy_price"], event["sell_price"], event["volume_wh"]) == (0, 0, 0)
        assert m.c.cleared(k) is True


def test_uniform_price_with_a_fee_above_the_bid(m, traders):
    # bid 15,000 in zone 1 (fee 20,000): effective 0, never matched; bid 200,000 zone 0 against ask 150,000 zone 1
    # (eff 170,000): 1,000 Wh at (200,000 + 170,000) // 2 = 185,000
    k = m.next_interval()
    book = [terms(15_000, 5_000, 1, BID), terms(200_000, 1_000, 0, BID), terms(150_000, 3_000, 1, ASK)]
    args = m.trade(k, list(zip(traders, book, strict=False)))
    assert args.bid_positions == [1, 0] and decode_marks(args.marks).k == 1
    event = m.clear(args)
    assert (event["buy_price"], event["sell_price"], event["volume_wh"]) == (185_000, 185_000, 1_000)


def test_clear_an_empty_interval(m):
    k = m.next_interval()
    m.travel_to(m.reveal_close(k))
    event = m.clear(m.book(k))
    assert (event["buy_price"], event["volume_wh"], event["orders"]) == (0, 0, 0) and m.c.cleared(k)


# ---- clear: the windows and the once ---------------------------------------------------------------------------


def test_clear_window_boundaries(m, traders):
    k = m.next_interval()
    args = hand_book(m, traders, k)
    boa.env.time_travel(seconds=-1)  # reveal_close - 1
    with reason("reveal not closed"):
        m.clear(args)
    m.travel_to(m.start(k) + INTERVAL_S - 1)  # the last second of delivery passes
    m.clear(args)
    with reason("already cleared"):
        m.clear(args)


def test_clear_window_closed(m, traders):
    k = m.next_interval()
    args = hand_book(m, traders, k)
    m.travel_to(m.start(k) + INTERVAL_S)
    with reason("clear window closed"):
        m.clear(args)


# ---- clear: the commit chain ---------------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["drop", "swap", "extra", "alter", "full", "top"])
def test_commit_chain(m, traders, change):
    k = m.next_interval()
    args = hand_book(m, traders, k)
    cs = args.commitments
    if change == "drop":
        args.commitments = cs[:-1]
    elif change == "swap":
        args.commitments = [cs[1], cs[0], *cs[2:]]
    elif change == "extra":
        args.commitments = [*cs, 1]
    elif change == "alter":
        args.commitments = [2, *cs[1:]]
    elif change == "full":  # spec v1's 256-bit commitment where its digest belongs
        args.commitments = [int.from_bytes(e["commitment"], "big") for e in m.committed[k]]
    else:  # a digest with a bit above its 192
        args.commitments = [cs[0] | 1 << 192, *cs[1:]]
    with reason("commit chain"):
        m.clear(args)


# ---- clear: the reveals ---------------------------------------------------------------------------------------


def void_book(m, traders, k):
    """Six reveals, of which two are valid: a bid (pos 0) and an ask (pos 1); the others are void."""
    t = traders
    _, s0 = m.commit(t[0], k, HAND[0])
    _, s1 = m.commit(t[1], k, HAND[1])
    _, s2 = m.commit(t[2], k, HAND[2])
    m.travel_to(m.reveal_open(k))
    m.reveal(t[0], k, 0, HAND[0], s0)  # valid bid
    m.reveal(t[1], k, 1, HAND[1], s1)  # valid ask
    m.reveal(t[0], k, 0, HAND[0], s0)  # duplicate: void
    m.reveal(t[2], k, 0, HAND[2], s2)  # wrong index: void (flagged)
    m.reveal(t[2], k, 2, HAND[2], b"\x09" * 32)  # wrong salt: void (flagged)
    m.reveal(t[3], k, 2, HAND[2], s2)  # another sender: void (flagged)
    m.travel_to(m.reveal_close(k))
    return m.book(k)


def test_void_reveals_are_left_out(m, traders):
    k = m.next_interval()
    args = void_book(m, traders, k)
    assert args.valid == [0, 1] and len(args.mismatched) == 3
    refs = [args.refs[0] >> (16 * r) & 0xFFFF for r in range(6)]
    assert refs == [0, 1, 0, FLAG | 0, FLAG | 2, FLAG | 2]
    # B0 (eff 280,000) against A0 (180,000): 2,000 Wh at 230,000
    event = m.clear(args)
    assert (event["buy_price"], event["volume_wh"], event["orders"]) == (230_000, 2_000, 6)


@pytest.mark.parametrize(
    ("position", "why"),
    [
        (2, "marginal bid not valid"),
        (5, "marginal bid not valid"),
        (6, "marks out of range"),
        (2**16 - 1, "marks out of range"),
    ],
)
def test_a_void_or_absent_reveal_is_not_a_marginal_bid(m, traders, position, why):
    k = m.next_interval()
    args = void_book(m, traders, k)
    assert args.marks == marks(0, 1, 0, 1)
    args.marks = with_fields(args.marks, k=position)
    with reason(why):
        m.clear(args)


@pytest.mark.parametrize("position", [0, 2, 3, 4, 5])
def test_a_bid_or_a_void_reveal_is_not_a_marginal_ask(m, traders, position):
    k = m.next_interval()
    args = void_book(m, traders, k)
    args.marks = with_fields(args.marks, l=position)
    with reason("marginal ask not valid"):
        m.clear(args)


@pytest.mark.parametrize(
    ("field", "position", "why"),
    [
        ("b", 1, "bid boundary not valid"),
        ("b", 2, "bid boundary not valid"),
        ("a", 0, "ask boundary not valid"),
        ("a", 4, "ask boundary not valid"),
    ],
)
def test_a_void_reveal_or_one_of_the_other_side_is_not_a_boundary(m, traders, field, position, why):
    k = m.next_interval()
    args = void_book(m, traders, k)
    args.marks = with_fields(args.marks, **{field: position})
    with reason(why):
        m.clear(args)


def test_keeper_cannot_void_a_valid_reveal(m, traders):
    k = m.next_interval()
    args = void_book(m, traders, k)
    # flag reveal 0 with its true commitment: refused
    true_c = args.commitments[0]
    refs = [0 | FLAG, 1, 0, FLAG | 0, FLAG | 2, FLAG | 2]
    args.refs = pack16(refs)
    args.mismatched = [true_c, *args.mismatched]
    args.marks = 0  # as if reveal 0 were void: no bid left
    with reason("not a mismatch"):
        m.clear(args)
    # flag it with a false commitment, or the true one with a bit above its 192: the reveal chain breaks
    for false_c in (7, true_c | 1 << 192):
        args.mismatched = [false_c, *args.mismatched[1:]]
        with reason("reveal chain"):
            m.clear(args)


def test_commit_index_out_of_range(m, traders):
    k = m.next_interval()
    args = void_book(m, traders, k)
    args.refs = pack16([0, 1, 3, FLAG | 0, FLAG | 2, FLAG | 2])  # reveal 2 unflagged with index 3 of 3 commits
    with reason("commit index out of range"):
        m.clear(args)


def test_a_flagged_reveal_beyond_the_commits_is_void(m, traders):
    k = m.next_interval()
    _, salt = m.commit(traders[0], k, HAND[0])
    m.travel_to(m.reveal_open(k))
    m.reveal(traders[0], k, 5, HAND[0], salt)  # names commit 5 of 1
    m.travel_to(m.reveal_close(k))
    args = m.book(k)
    assert args.refs == [FLAG | 5] and args.valid == []
    assert m.clear(args)["volume_wh"] == 0


def test_mismatched_count(m, traders):
    k = m.next_interval()
    args = void_book(m, traders, k)
    full = args.mismatched
    args.mismatched = [*full, 5]  # one too many
    with reason("mismatched count"):
        m.clear(args)
    args.mismatched = full[:-1]  # one too few: the last flagged reveal finds none
    with reason("mismatched count"):
        m.clear(args)


@pytest.mark.parametrize("change", ["omit", "alter", "reorder", "unflag"])
def test_reveal_chain(m, traders, change):
    k = m.next_interval()
    args = void_book(m, traders, k)
    if change == "omit":  # the last (void) reveal left out
        args.orders = args.orders[:-1]
        args.refs = pack16([0, 1, 0, FLAG | 0, FLAG | 2])
        args.mismatched = args.mismatched[:-1]
    elif change == "alter":
        args.orders = [args.orders[0] + (1 << 32), *args.orders[1:]]
    elif change == "reorder":
        args.orders = [args.orders[1], args.orders[0], *args.orders[2:]]
        args.refs = pack16([1, 0, 0, FLAG | 0, FLAG | 2, FLAG | 2])
        args.marks = marks(1, 0, 1, 0)  # the positions as reordered
    else:  # the wrong-index reveal passed off as a valid one: its true commitment is not commitments[0]
        args.refs = pack16([0, 1, 0, 0, FLAG | 2, FLAG | 2])
        args.mismatched = args.mismatched[1:]
    with reason("reveal chain"):
        m.clear(args)


# ---- clear: the marks ------------------------------------------------------------------------------------------


def hand_void_book(m, traders, k):
    """HAND (positions 0-5), then three void reveals: 6 a duplicate of bid B0, 7 a duplicate of ask A0, 8 bid B1
    with a wrong salt (flagged)."""
    salts = [m.commit(t, k, o)[1] for t, o in zip(traders, HAND, strict=False)]
    m.travel_to(m.reveal_open(k))
    for i, (t, o) in enumerate(zip(traders, HAND, strict=False)):
        m.reveal(t, k, i, o, salts[i])
    m.reveal(traders[0], k, 0, HAND[0], salts[0])
    m.reveal(traders[1], k, 1, HAND[1], salts[1])
    m.reveal(traders[2], k, 2, HAND[2], b"\x09" * 32)
    m.travel_to(m.reveal_close(k))
    return m.book(k)


# Every reason of the clear from the marks, on hand_void_book (9 reveals; honest marks HONEST_MARKS[rule]): a
# change is a dict of fields to replace or a function of the honest word.
MARK_CASES = [
    (0, {"k": 9}, "marks out of range"),
    (0, {"l": 9}, "marks out of range"),
    (0, {"b": 9}, "marks out of range"),
    (0, {"a": 9}, "marks out of range"),
    (0, {"a": 2**16 - 1}, "marks out of range"),
    (0, lambda w: w | 1 << 65, "marks out of range"),
    (0, lambda w: w | 1 << 95, "marks out of range"),
    (0, lambda w: w | 1 << 192, "marks out of range"),
    (0, lambda w: w | 1 << 255, "marks out of range"),
    (0, lambda w: w ^ TRADED, "marks out of range"),  # fields without the walk trading
    (0, lambda w: 1 << 255, "marks out of range"),
    (0, {"k": 8}, "marginal bid not valid"),  # the last position: in range, a flagged reveal
    (0, {"k": 1}, "marginal bid not valid"),  # an ask
    (0, {"k": 6}, "marginal bid not valid"),  # a duplicate
    (0, {"l": 0}, "marginal ask not valid"),  # a bid
    (0, {"l": 7}, "marginal ask not valid"),  # a duplicate
    (0, {"k": 4}, "marginal pair does not cross"),  # 220,000 < 250,001
    (0, {"k": 0, "l": 5}, "marginal pair not matched"),  # B0 ends at 4,000, A2 starts at 6,000
    (0, {"k": 4, "l": 1}, "marginal pair not matched"),  # B2 starts at 7,000, A0 ends at 2,000
    (0, {"k": 0, "l": 3}, "walk goes on"),  # B0 used up first; B1 260,000 >= A1 230,000
    (0, {"k": 2, "l": 3}, "walk goes on"),  # A1 used up first; B1 260,000 >= A2 250,001
    (0, lambda w: 0, "book crosses"),
    (0, {"b": 1}, "bid boundary not valid"),  # an ask
    (0, {"b": 6}, "bid boundary not valid"),  # a duplicate
    (0, {"a": 0}, "ask boundary not valid"),  # a bid
    (0, {"a": 7}, "ask boundary not valid"),  # a duplicate
    (0, {"b": 0, "before_b": 0}, "wrong bid boundary"),  # B0 ends at 4,000 < 7,000
    (0, {"b": 4, "before_b": 7_000}, "wrong bid boundary"),  # B2 starts at 7,000 = the volume
    (0, {"a": 3, "before_a": 2_000}, "wrong ask boundary"),  # A1 ends at 6,000 < 7,000
    (0, {"before_b": 3_999}, "wrong boundary energy"),
    (0, {"before_b": 4_001}, "wrong boundary energy"),
    (0, {"before_a": 5_999}, "wrong boundary energy"),
    (1, {"b": 2, "before_b": 4_000}, "wrong bid boundary"),  # B1 starts at 4,000 = the volume
    (1, {"a": 1, "before_a": 0}, "wrong ask boundary"),  # A0 ends at 2,000 < 4,000
    (1, {"a": 5, "before_a": 6_000}, "wrong ask boundary"),  # A2 starts at 6,000
    (1, {"before_a": 1_999}, "wrong boundary energy"),
    (1, {"before_b": 1}, "wrong boundary energy"),
    (1, {"b": 8}, "bid boundary not valid"),
    (1, {"k": 0, "l": 3}, "walk goes on"),
]


@pytest.mark.parametrize(("rule", "change", "why"), MARK_CASES)
def test_each_reason_of_the_marks(traders, rule, change, why):
    with boa.env.anchor():
        m = Market(rule=rule)
        k = m.next_interval()
        args = hand_void_book(m, traders, k)
        assert args.valid == [0, 1, 2, 3, 4, 5] and args.marks == HONEST_MARKS[rule]
        honest_marks = args.marks
        args.marks = change(honest_marks) if callable(change) else with_fields(honest_marks, **change)
        assert args.marks != honest_marks
        with reason(why):
            m.clear(args)
        args.marks = honest_marks
        assert m.clear(args)["volume_wh"] == (7_000, 4_000)[rule]


def test_boundary_without_volume(traders):
    """Rule 1 with bid K first of the bids: the walk trades (marks with TRADED), the rule does not (B, A and their
    energies must be 0)."""
    with boa.env.anchor():
        m = Market(rule=1)
        k = m.next_interval()
        book = [terms(300_000, 10_000, 0, BID), terms(100_000, 2_000, 0, ASK), terms(120_000, 2_000, 1, ASK)]
        args = m.trade(k, list(zip(traders, book, strict=False)))
        honest_marks = args.marks
        assert honest_marks == marks(0, 2)
        for change in ({"b": 1}, {"a": 1}, {"a": 2}, {"before_b": 1}, {"before_a": 2**48 - 1}):
            args.marks = with_fields(honest_marks, **change)
            with reason("boundary without volume"):
                m.clear(args)
        for word, why in ((0, "book crosses"), (honest_marks ^ TRADED, "marks out of range")):
            args.marks = word
            with reason(why):
                m.clear(args)
        args.marks = honest_marks
        assert m.clear(args)["volume_wh"] == 0


# the walk's three ends: (book, honest K and L, an earlier pair claimed as the last)
ENDS = {
    "bid used up first": (
        [terms(300_000, 1_000, 0, BID), terms(200_000, 1_000, 0, BID), terms(100_000, 3_000, 0, ASK)],
        (1, 2),
        (0, 2),
    ),
    "ask used up first": (
        [terms(300_000, 3_000, 0, BID), terms(100_000, 1_000, 0, ASK), terms(280_000, 1_000, 1, ASK)],
        (0, 2),
        (0, 1),
    ),  # 300,000 at ask 300,000
    "both used up": (
        [
            terms(300_000, 1_000, 0, BID),
            terms(100_000, 1_000, 0, ASK),
            terms(290_000, 1_000, 0, BID),
            terms(110_000, 1_000, 0, ASK),
            terms(100_000, 500, 0, BID),
            terms(200_000, 500, 0, ASK),
        ],
        (2, 3),
        (0, 1),
    ),
}


@pytest.mark.parametrize("end", list(ENDS))
def test_walk_goes_on_in_each_of_its_three_ends(traders, end):
    book, last, earlier = ENDS[end]
    with boa.env.anchor():
        m = Market()
        k = m.next_interval()
        args = m.trade(k, list(zip(traders, book, strict=False)))
        honest_marks = args.marks
        assert (decode_marks(honest_marks).k, decode_marks(honest_marks).l) == last
        args.marks = with_fields(honest_marks, k=earlier[0], l=earlier[1])
        with reason("walk goes on"):
            m.clear(args)
        args.marks = honest_marks
        assert m.clear(args)["volume_wh"] > 0


def test_ties_by_reveal_position(m, traders):
    k = m.next_interval()
    book = [
        terms(200_000, 1_000, 0, BID),
        terms(180_000, 1_000, 1, BID),  # eff 160,000
        terms(160_000, 1_000, 0, BID),  # eff 160,000: a tie, after position 1
        terms(100_000, 2_500, 0, ASK),
    ]
    args = m.trade(k, list(zip(traders, book, strict=False)))
    assert args.bid_positions == [0, 1, 2] and args.marks == marks(2, 3, 2, 3, 2_000, 0)
    honest_marks = args.marks
    for change, why in (
        ({"k": 1}, "walk goes on"),  # bid 1 ranks before bid 2 (1,000..2,000 Wh): bid 2 is next
        ({"b": 1}, "wrong bid boundary"),
        ({"b": 1, "before_b": 1_000}, "wrong bid boundary"),
    ):
        args.marks = with_fields(honest_marks, **change)
        with reason(why):
            m.clear(args)
    args.marks = honest_marks
    assert m.clear(args)["buy_price"] == (160_000 + 100_000) // 2


def test_refs_padding_beyond_the_reveals_is_ignored(m, traders):
    k = m.next_interval()
    args = hand_book(m, traders, k)
    args.refs = [args.refs[0] | (0xBEEF << (16 * 6)) | (FLAG << (16 * 15))]  # garbage after the 6 entries
    assert m.clear(args)["volume_wh"] == 7_000


# ---- the ring --------------------------------------------------------------------------------------------------


def test_ring_word_is_reused_after_256_intervals(m, traders):
    k = m.next_interval()
    m.clear(hand_book(m, traders, k))
    first = tuple(m.c.clearings(k))
    old_commit, old_reveal = m.c.commit_ring(k % 256), m.c.reveal_ring(k % 256)
    k2 = k + 256
    m.travel_to(m.start(k2 - 2))
    args = hand_book(m, traders[1:], k2)
    assert m.committed[k2][0]["index"] == 0 and m.revealed[k2][0]["index"] == 0  # the stale words read as empty
    assert m.c.commit_ring(k2 % 256) != old_commit and m.c.reveal_ring(k2 % 256) != old_reveal
    assert m.c.commit_ring(k2 % 256) & (2**32 - 1) == k2 & (2**32 - 1)
    event = m.clear(args)
    assert event["volume_wh"] == 7_000 and tuple(m.c.clearings(k)) == first


# ---- the walk module on its own (contracts/mocks/double_auction_walk_mock.vy) -----------------------------------


@pytest.fixture(scope="module")
def walk_mock():
    from tests.support.deployers import CONTRACTS, load

    return load(CONTRACTS / "mocks" / "double_auction_walk_mock.vy").deploy()


@pytest.mark.parametrize(
    ("price", "zone", "side", "expected"),
    [
        (300_000, 1, BID, 280_000),
        (20_001, 1, BID, 1),
        (20_000, 1, BID, 0),  # fee not below the price: 0
        (5, 1, BID, 0),
        (300_000, 0, BID, 300_000),
        (210_000, 1, ASK, 230_000),
        (2**64 - 1, 7, ASK, 2**64 - 1 + 2**32 - 1),  # the largest: no overflow
    ],
)
def test_effective_price(walk_mock, price, zone, side, expected):
    fees = FEES[1] << 32 | (2**32 - 1) << (32 * 7)
    order = order_word("0x" + "ab" * 20, terms(price, 1, zone, side))
    assert walk_mock.effective_price(order, fees) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((0, False, 9, 1, 5, 1, 1, 3, 3), (0, 0, 0)),  # no fill, no trade
        ((0, True, 260_000, 250_001, 7_000, 1, 2, 4_000, 6_000), (255_000, 255_000, 7_000)),
        ((1, True, 260_000, 250_001, 7_000, 1, 2, 4_000, 6_000), (260_000, 250_001, 4_000)),
        ((1, True, 260_000, 250_001, 7_000, 0, 2, 0, 6_000), (0, 0, 0)),  # K = 0
        ((1, True, 260_000, 250_001, 7_000, 1, 0, 4_000, 0), (0, 0, 0)),  # L = 0
        ((0, True, 2**65 - 2, 2**65 - 2, 1, 0, 0, 0, 0), (2**65 - 2, 2**65 - 2, 1)),
    ],
)
def test_outcome(walk_mock, args, expected):
    assert tuple(walk_mock.outcome(*args)) == expected


def test_outcome_refuses_an_uncrossed_pair(walk_mock):
    with reason("invariant broken"):  # the walk never stops on a fill with eff_bid < eff_ask
        walk_mock.outcome(0, True, 100, 200, 1, 0, 0, 0, 0)
