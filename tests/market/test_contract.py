"""contracts/call_market.vy on its own (the twin's differential test comes at merge): every external function with
one positive and one negative test, every revert reason, boundary tables for the time windows, ring reuse,
both rules on hand-computed books with fees in two zones, and which reveals are void."""

from __future__ import annotations

import boa
import pytest
from eth_abi import encode
from eth_utils import keccak

from tests.market.book import ASK, BID, FLAG, commitment, order_word, pack16, terms
from tests.market.harness_contract import FEES, INTERVAL_S, Market, deploy

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
# rule 0: price (260,000 + 250,001) // 2 = 255,000 both sides, volume 7,000 Wh.
# rule 1: B1 and A2 excluded; Qb = 4,000 (B0), Qa = 2,000 + 4,000 (A0, A1); volume 4,000 Wh,
#         buyers 260,000, sellers 250,001.
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
    h = chain192(["uint256", "bytes32"], [0, c])
    assert m.c.commit_ring(k % 256) == (h << 64) | (1 << 32) | k
    assert m.commit(traders[1], k, HAND[1])[0] == 1
    word = m.c.commit_ring(k % 256)
    assert (word >> 32) & (2**32 - 1) == 2 and word >> 64 == chain192(
        ["uint256", "bytes32"], [h, m.committed[k][1]["commitment"]]
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
    h = chain192(["uint256", "uint256", "uint256", "bytes32"], [0, 0, order, c])
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


@pytest.mark.parametrize(("rule", "expected"), [(0, (255_000, 255_000, 7_000)), (1, (260_000, 250_001, 4_000))])
def test_clear_the_hand_book(traders, rule, expected):
    with boa.env.anchor():
        m = Market(rule=rule)
        k = m.next_interval()
        args = hand_book(m, traders, k)
        # bids by effective price: B0 (pos 0, 280,000), B1 (pos 2, 260,000), B2 (pos 4, 220,000);
        # asks: A0 (pos 1, 180,000), A1 (pos 3, 230,000), A2 (pos 5, 250,001)
        assert args.bids == pack16([0, 2, 4]) and args.asks == pack16([1, 3, 5])
        event = m.clear(args)
        book = keccak(
            encode(
                ["uint256[]", "uint256[]", "uint256", "uint256[]", "uint256"],
                [args.orders, args.bids, 3, args.asks, 3],
            )
        )
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
    assert args.bids == pack16([1, 0])
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


@pytest.mark.parametrize("change", ["drop", "swap", "extra", "alter"])
def test_commit_chain(m, traders, change):
    k = m.next_interval()
    args = hand_book(m, traders, k)
    cs = args.commitments
    if change == "drop":
        args.commitments = cs[:-1]
    elif change == "swap":
        args.commitments = [cs[1], cs[0], *cs[2:]]
    elif change == "extra":
        args.commitments = [*cs, b"\x01" * 32]
    else:
        args.commitments = [b"\x02" * 32, *cs[1:]]
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


@pytest.mark.parametrize("position", [2, 3, 4, 5, 6, 300, 2**16 - 1])
def test_a_void_or_absent_reveal_is_not_a_valid_bid(m, traders, position):
    k = m.next_interval()
    args = void_book(m, traders, k)
    args.bids, args.n_bids = pack16([0, position]), 2
    with reason("not a valid bid"):
        m.clear(args)


def test_not_a_valid_ask(m, traders):
    k = m.next_interval()
    args = void_book(m, traders, k)
    args.bids, args.n_bids, args.asks, args.n_asks = [], 0, pack16([1, 0]), 2  # the bid listed as an ask
    with reason("not a valid ask"):
        m.clear(args)
    args.bids, args.n_bids, args.asks, args.n_asks = pack16([0]), 1, pack16([1, 1]), 2  # listed twice
    with reason("not a valid ask"):
        m.clear(args)


def test_a_bid_listed_twice_or_on_the_wrong_side(m, traders):
    k = m.next_interval()
    args = void_book(m, traders, k)
    args.bids, args.n_bids = pack16([0, 0]), 2
    with reason("not a valid bid"):
        m.clear(args)
    args.bids, args.n_bids, args.asks, args.n_asks = pack16([1]), 1, pack16([0]), 1
    with reason("not a valid bid"):
        m.clear(args)


def test_keeper_cannot_void_a_valid_reveal(m, traders):
    k = m.next_interval()
    args = void_book(m, traders, k)
    # flag reveal 0 with its true commitment: refused
    true_c = args.commitments[0]
    refs = [0 | FLAG, 1, 0, FLAG | 0, FLAG | 2, FLAG | 2]
    args.refs = pack16(refs)
    args.mismatched = [true_c, *args.mismatched]
    args.asks, args.n_asks, args.bids, args.n_bids = pack16([1]), 1, [], 0
    with reason("not a mismatch"):
        m.clear(args)
    # flag it with a false commitment: the reveal chain breaks
    args.mismatched = [b"\x07" * 32, *args.mismatched[1:]]
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
    args.mismatched = [*full, b"\x05" * 32]  # one too many
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
        args.bids, args.asks = pack16([1]), pack16([0])
    else:  # the wrong-index reveal passed off as a valid one: its true commitment is not commitments[0]
        args.refs = pack16([0, 1, 0, 0, FLAG | 2, FLAG | 2])
        args.mismatched = args.mismatched[1:]
    with reason("reveal chain"):
        m.clear(args)


# ---- clear: the lists -----------------------------------------------------------------------------------------


def test_bids_and_asks_sorted(m, traders):
    k = m.next_interval()
    args = hand_book(m, traders, k)
    good_bids = args.bids
    args.bids = pack16([2, 0, 4])
    with reason("bids not sorted"):
        m.clear(args)
    args.bids, args.asks = good_bids, pack16([1, 5, 3])
    with reason("asks not sorted"):
        m.clear(args)


def test_ties_by_reveal_position(m, traders):
    k = m.next_interval()
    book = [
        terms(200_000, 1_000, 0, BID),
        terms(180_000, 1_000, 1, BID),  # eff 160,000
        terms(160_000, 1_000, 0, BID),  # eff 160,000: a tie, after position 1
        terms(100_000, 1_000, 0, ASK),
    ]
    args = m.trade(k, list(zip(traders, book, strict=False)))
    assert args.bids == pack16([0, 1, 2])
    tied = pack16([0, 2, 1])
    args_bad = m.book(k)
    args_bad.bids = tied
    with reason("bids not sorted"):
        m.clear(args_bad)
    assert m.clear(args)["buy_price"] == 150_000


def test_orders_missing(m, traders):
    k = m.next_interval()
    args = hand_book(m, traders, k)
    args.bids, args.n_bids = pack16([0, 2]), 2  # B2 left out
    with reason("orders missing"):
        m.clear(args)


@pytest.mark.parametrize("side", ["bids", "asks"])
def test_list_length(m, traders, side):
    k = m.next_interval()
    args = hand_book(m, traders, k)
    setattr(args, side, [*getattr(args, side), 0])  # a word beyond what 3 entries need
    with reason("list length"):
        m.clear(args)
    setattr(args, side, [])  # none for 3 entries
    with reason("list length"):
        m.clear(args)


def test_padding_beyond_the_count_is_ignored(m, traders):
    k = m.next_interval()
    args = hand_book(m, traders, k)
    args.bids = [args.bids[0] | (0xBEEF << 48)]  # garbage in the 4th slot of the last word
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
