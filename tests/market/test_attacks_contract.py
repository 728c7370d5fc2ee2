"""Attacks on contracts/call_market.vy, by traders (attacker accounts) and by a dishonest keeper: what each tries and
the check that stops it. Spec v2's keeper hands in `marks`, its claim about the walk: every false claim (the
marginal pair shifted, no trade on a crossing book, a boundary moved, a position beyond the orders) is refused.
One test shows a hole in spec v1 (a reveal's commit index is not bounded), fixed since."""

from __future__ import annotations

import boa
import pytest

from gridchain.market.clearing import marks_of
from gridchain.market.model import TRADED, decode_marks, digest
from tests.market.book import ASK, BID, FLAG, commitment, effective_price, order_word, pack16, terms
from tests.market.harness_contract import ZONE_FEES, Market
from tests.market.marks import marks, with_fields


def reason(text: str):
    return boa.reverts(f"call_market: {text}")


@pytest.fixture
def m():
    with boa.env.anchor():
        yield Market()


@pytest.fixture
def honest():
    return [boa.env.generate_address(f"honest{i}") for i in range(4)]


BOOK = [terms(300_000, 4_000, 0, BID), terms(200_000, 3_000, 1, ASK), terms(250_000, 2_000, 0, BID)]


def test_late_reveal_is_refused(m, honest, attacker):
    """A trader that waits to see the others' reveals and then reveals its own is refused at reveal_close."""
    k = m.next_interval()
    _, salt = m.commit(attacker.address, k, BOOK[0])
    m.travel_to(m.reveal_close(k))
    with reason("reveal closed"):
        m.reveal(attacker.address, k, 0, BOOK[0], salt)
    m.travel_to(m.start(k) + 1)
    with reason("reveal closed"):
        m.reveal(attacker.address, k, 0, BOOK[0], salt)


def test_copied_commitment_cannot_be_opened_by_the_copier(m, honest, attacker):
    """A front-runner copies an honest commitment (and later its opening, seen in the mempool): its copy opens
    nothing, its reveal of the honest terms is void, and the honest order trades as it would have."""
    k = m.next_interval()
    victim = honest[0]
    _, salt = m.commit(victim, k, BOOK[0])
    copied = m.committed[k][0]["commitment"]
    assert m.commit_raw(attacker.address, k, copied) == 1
    _, ask_salt = m.commit(honest[1], k, BOOK[1])
    m.travel_to(m.reveal_open(k))
    stolen = m.reveal(attacker.address, k, 1, BOOK[0], salt)  # the victim's terms and salt, its own account
    assert stolen["commitment"] != copied  # the trader is inside the order, so inside the commitment
    m.reveal(victim, k, 0, BOOK[0], salt)
    m.reveal(honest[1], k, 2, BOOK[1], ask_salt)
    m.travel_to(m.reveal_close(k))
    args = m.book(k)
    assert args.valid == [1, 2] and args.mismatched == [digest(stolen["commitment"])]
    event = m.clear(args)
    assert (event["buy_price"], event["volume_wh"]) == ((300_000 + 220_000) // 2, 3_000)


def test_a_commitment_of_another_market_does_not_open_here(honest):
    """The market's address is in the commitment: an opening made for market A is void on market B."""
    with boa.env.anchor():
        a, b = Market(), Market()
        k = a.next_interval()
        _, salt = a.commit(honest[0], k, BOOK[0])
        b.commit_raw(honest[0], k, a.committed[k][0]["commitment"])  # replayed on B
        b.travel_to(b.reveal_open(k))
        e = b.reveal(honest[0], k, 0, BOOK[0], salt)
        assert e["commitment"] == commitment(b.c.address, k, order_word(honest[0], BOOK[0]), salt)
        assert e["commitment"] != a.committed[k][0]["commitment"]
        b.travel_to(b.reveal_close(k))
        assert b.book(k).valid == []


def test_keeper_cannot_omit_an_order(m, honest):
    """Bid 0 (300,000 x 4,000 Wh) takes the ask (220,000 effective x 3,000 Wh) whole: K = 0, L = 1. A keeper that
    leaves bid 0 out hands in its reveal or not, calls it void, or claims the walk without it."""
    k = m.next_interval()
    args = m.trade(k, list(zip(honest, BOOK, strict=False)))
    honest_marks = args.marks
    assert honest_marks == marks(0, 1, 0, 1)
    orders, refs = args.orders, args.refs
    args.orders, args.refs = orders[1:], pack16([1, 2])  # its reveal left out
    with reason("reveal chain"):
        m.clear(args)
    args.orders, args.refs, args.mismatched = orders, pack16([FLAG | 0, 1, 2]), [args.commitments[0]]  # "void"
    with reason("not a mismatch"):
        m.clear(args)
    args.refs, args.mismatched = refs, []
    args.marks = marks_of(args.orders, [2], [1], ZONE_FEES, 0)  # the walk without it: bid 2 against the ask
    assert decode_marks(args.marks).k == 2
    with reason("marginal pair not matched"):  # bid 0 ranks first: bid 2 starts at 4,000 Wh, the ask ends at 3,000
        m.clear(args)
    args.marks = honest_marks
    assert m.clear(args)["volume_wh"] == 3_000


def test_keeper_cannot_reorder_a_tie(m, honest):
    """Two bids at the same effective price (one in each zone): the earlier reveal ranks first and takes the ask."""
    k = m.next_interval()
    book = [terms(200_000, 1_000, 0, ASK), terms(320_000, 1_000, 1, BID), terms(300_000, 1_000, 0, BID)]
    args = m.trade(k, list(zip(honest, book, strict=False)))
    assert effective_price(args.orders[1], ZONE_FEES) == effective_price(args.orders[2], ZONE_FEES) == 300_000
    assert args.bid_positions == [1, 2] and args.marks == marks(1, 0, 1, 0)
    honest_marks = args.marks
    for change, why in (
        ({"k": 2, "b": 2}, "marginal pair not matched"),  # bid 2 after bid 1: 1,000..2,000 Wh, the ask 0..1,000
        ({"b": 2}, "wrong bid boundary"),  # bid 2 the one filled
        ({"b": 2, "before_b": 1_000}, "wrong bid boundary"),
    ):
        args.marks = with_fields(honest_marks, **change)
        with reason(why):
            m.clear(args)


# bids 300,000 (2,000 Wh), 260,000 (2,000), 240,000 (2,000); asks 200,000 (1,000), 220,000 (1,000), 250,000
# (3,000), zone 0 (no fee). The walk: bid 0 takes asks 1 and 3 (2,000 Wh, both used up), bid 2 takes 2,000 Wh of
# ask 5 and is used up; bid 4 (240,000) does not cross ask 5: K = 2, L = 5, volume 4,000 Wh at 255,000.
SHIFT = [
    terms(300_000, 2_000, 0, BID),
    terms(200_000, 1_000, 0, ASK),
    terms(260_000, 2_000, 0, BID),
    terms(220_000, 1_000, 0, ASK),
    terms(240_000, 2_000, 0, BID),
    terms(250_000, 3_000, 0, ASK),
]


@pytest.mark.parametrize("rule", [0, 1])
def test_keeper_cannot_shift_the_marginal_pair_to_move_the_price(honest, attackers, rule):
    """K one rank later would price at (240,000 + 250,000) // 2 (rule 0) or exclude bid 4 instead of bid 2
    (rule 1); one rank earlier, with or without L, would stop the walk at 2,000 Wh and price at 250,000 or
    260,000. Each is refused, and so is every pair the walk fills before its last."""
    with boa.env.anchor():
        m = Market(rule=rule)
        k = m.next_interval()
        traders = honest + [a.address for a in attackers(2)]
        args = m.trade(k, list(zip(traders, SHIFT, strict=True)))
        honest_marks = args.marks
        assert decode_marks(honest_marks).k == 2 and decode_marks(honest_marks).l == 5
        for change, why in (
            ({"k": 4}, "marginal pair does not cross"),  # later
            ({"k": 0}, "marginal pair not matched"),  # earlier: bid 0 ends at 2,000 Wh, ask 5 starts there
            ({"k": 0, "l": 3}, "walk goes on"),  # the pair the walk fills before: bid 2 crosses ask 5
            ({"k": 0, "l": 1}, "walk goes on"),
            ({"l": 3}, "marginal pair not matched"),  # ask 3 ends at 2,000 Wh, where bid 2 starts
        ):
            args.marks = with_fields(honest_marks, **change)
            with reason(why):
                m.clear(args)
        args.marks = honest_marks
        event = m.clear(args)
        expected = (255_000, 255_000, 4_000) if rule == 0 else (260_000, 250_000, 2_000)
        assert (event["buy_price"], event["sell_price"], event["volume_wh"]) == expected


def test_keeper_cannot_claim_no_trade_on_a_crossing_book(m, honest):
    k = m.next_interval()
    args = m.trade(k, list(zip(honest, BOOK, strict=False)))
    for word, why in (
        (0, "book crosses"),  # no trade
        (TRADED, "marginal ask not valid"),  # trade claimed with every field 0: position 0 is a bid
        (marks(2, 1), "marginal pair not matched"),  # bid 2 alone against the ask: bid 0 ranks first
    ):
        args.marks = word
        with reason(why):
            m.clear(args)
    assert not m.c.cleared(k)


@pytest.mark.parametrize("rule", [0, 1])
def test_keeper_cannot_move_the_bid_boundary_to_favour_a_trader(honest, attacker, rule):
    """Two bids tie at 300,000 effective (one in each zone), the earlier revealed first; under rule 1 the walk's
    K (the later of them) is excluded and only the first trades, under rule 0 both. A keeper moving the boundary to
    the attacker's bid (revealed later), or claiming less energy before the boundary to give it more, is refused."""
    with boa.env.anchor():
        m = Market(rule=rule)
        k = m.next_interval()
        book = [
            (honest[0], terms(100_000, 1_000, 0, ASK)),
            (honest[1], terms(150_000, 1_000, 0, ASK)),
            (honest[2], terms(320_000, 1_000, 1, BID)),  # eff 300,000
            (attacker.address, terms(300_000, 1_000, 0, BID)),  # eff 300,000, ranked after position 2
            (honest[3], terms(90_000, 1_000, 0, BID)),
        ]
        args = m.trade(k, book)
        honest_marks = args.marks
        assert honest_marks == (marks(3, 1, 3, 1, 1_000, 1_000) if rule == 0 else marks(3, 1, 2, 0))
        cases = [({"b": 3, "before_b": 0}, "wrong bid boundary")] if rule == 1 else []
        cases += [
            ({"b": 4}, "wrong bid boundary"),  # 2,000 Wh before it
            ({"before_b": decode_marks(honest_marks).before_b + 1}, "wrong boundary energy"),
        ]
        if rule == 0:
            cases.append(({"before_b": 0}, "wrong boundary energy"))  # the attacker's bid would take the volume
        for change, why in cases:
            args.marks = with_fields(honest_marks, **change)
            with reason(why):
                m.clear(args)
        args.marks = honest_marks
        assert m.clear(args)["volume_wh"] == (2_000, 1_000)[rule]


def test_keeper_cannot_name_a_position_beyond_the_orders(m, honest):
    k = m.next_interval()
    args = m.trade(k, list(zip(honest, BOOK, strict=False)))
    honest_marks = args.marks
    for change in ({"k": 3}, {"l": 3}, {"b": 3}, {"a": 3}, {"a": 2**16 - 1}):
        args.marks = with_fields(honest_marks, **change)
        with reason("marks out of range"):
            m.clear(args)
    for bit in (65, 95, 192, 255):
        args.marks = honest_marks | 1 << bit
        with reason("marks out of range"):
            m.clear(args)


def test_a_commitment_digest_above_192_bits_fails_the_chain(m, honest):
    """The chains link digests below 2**192: the full commitment (spec v1's bytes32), or the digest with a bit
    above its 192, is another word, not the same commitment cut short."""
    k = m.next_interval()
    args = m.trade(k, list(zip(honest, BOOK, strict=False)))
    digests = args.commitments
    for wrong in (
        [int.from_bytes(e["commitment"], "big") for e in m.committed[k]],
        [digests[0] + 2**192, *digests[1:]],
        [digests[0], digests[1], digests[2] | 1 << 255],
    ):
        args.commitments = wrong
        with reason("commit chain"):
            m.clear(args)
    args.commitments = digests
    assert m.clear(args)["volume_wh"] == 3_000


def test_a_mismatched_reveal_cannot_be_handed_in_as_valid(m, honest, attacker):
    """The front-runner's reveal of the victim's terms (void: its commitment is not the one at its index) passed
    off as a valid reveal, or its digest replaced by the copied one's: the reveal chain holds its own."""
    k = m.next_interval()
    _, salt = m.commit(honest[0], k, BOOK[0])
    m.commit_raw(attacker.address, k, m.committed[k][0]["commitment"])  # a copy at index 1
    _, ask_salt = m.commit(honest[1], k, BOOK[1])
    m.travel_to(m.reveal_open(k))
    m.reveal(attacker.address, k, 1, BOOK[0], salt)  # flagged: the attacker is inside its order
    m.reveal(honest[1], k, 2, BOOK[1], ask_salt)
    m.travel_to(m.reveal_close(k))
    args = m.book(k)
    assert args.refs == pack16([FLAG | 1, 2]) and args.valid == [1] and args.marks == 0
    flagged = args.mismatched
    args.refs, args.mismatched, args.marks = pack16([1, 2]), [], marks(0, 1, 0, 1)  # handed in as valid
    with reason("reveal chain"):
        m.clear(args)
    args.refs, args.mismatched, args.marks = pack16([FLAG | 1, 2]), [args.commitments[0] + 1], 0
    with reason("reveal chain"):  # another digest for it
        m.clear(args)
    args.refs, args.mismatched = pack16([FLAG | 1, 2]), flagged
    assert m.clear(args)["volume_wh"] == 0  # the attacker's bid is void: nothing trades


@pytest.mark.parametrize("fake", ["appended", "raised_price", "other_trader"])
def test_keeper_cannot_insert_a_fake_order(m, honest, attacker, fake):
    k = m.next_interval()
    args = m.trade(k, list(zip(honest, BOOK, strict=False)))
    if fake == "appended":  # a bid of its own that was never revealed, opening an honest commitment
        args.orders = [*args.orders, order_word(attacker.address, terms(10**9, 9_000, 0, BID))]
        args.refs = pack16([0, 1, 2, 0])
    elif fake == "raised_price":
        args.orders = [args.orders[0] + (10**6 << 32), *args.orders[1:]]
    else:  # an honest order moved to the attacker's account
        args.orders = [order_word(attacker.address, BOOK[0]), *args.orders[1:]]
    with reason("reveal chain"):
        m.clear(args)


def test_double_clear_is_refused(m, honest, attackers):
    k = m.next_interval()
    args = m.trade(k, list(zip(honest, BOOK, strict=False)))
    first = m.clear(args)
    (second_keeper,) = attackers(1)
    with reason("already cleared"):
        m.clear(args, keeper=second_keeper.address)
    assert tuple(m.c.clearings(k))[4] == first["book"]


def test_orders_at_the_type_maximum_do_not_overflow(honest):
    """Prices at 2**64 - 1, energies at 2**24 - 1, the fee at 2**32 - 1: the sums and the products fit."""
    top_price, top_wh, top_fee = 2**64 - 1, 2**24 - 1, 2**32 - 1
    with boa.env.anchor():
        m = Market(zone_fees=top_fee << 32)
        k = m.next_interval()
        book = [
            terms(top_price, top_wh, 0, BID),  # eff 2**64 - 1
            terms(top_price, top_wh, 1, BID),  # eff 2**64 - 2**32
            terms(top_price, top_wh, 0, ASK),  # eff 2**64 - 1
            terms(top_price, top_wh, 1, ASK),  # eff 2**64 + 2**32 - 2: above any bid, never matched
            terms(1, top_wh, 1, BID),  # eff 0
        ]
        event = m.clear(m.trade(k, list(zip(honest + [boa.env.generate_address()], book, strict=False))))
        # bid 0 (2**64 - 1) against ask 2 (2**64 - 1): the whole of both, at 2**64 - 1
        assert (event["buy_price"], event["sell_price"], event["volume_wh"]) == (top_price, top_price, top_wh)
        assert tuple(m.c.clearings(k))[:3] == (top_price, top_price, top_wh)


def test_a_commit_index_beyond_the_book_cannot_block_the_clear(m, honest, attacker):
    """Spec v1 let one reveal (no commitment needed, ~30,000 gas) name commit 2**15: `refs` carries 15 bits of the
    index, so the reveal chain could never be replayed and the interval was void for everyone. `reveal` now
    refuses an index of 2,048 or more; one of 2,047 (no such commit) is merely void at the clear."""
    k = m.next_interval()
    salts = [m.commit(t, k, o)[1] for t, o in zip(honest, BOOK, strict=False)]
    m.travel_to(m.reveal_open(k))
    for i, (t, o) in enumerate(zip(honest, BOOK, strict=False)):
        m.reveal(t, k, i, o, salts[i])
    for index in (2**15, 2048):
        with reason("commit index too large"):
            m.reveal(attacker.address, k, index, terms(1, 1, 0, BID), b"\x00" * 32)
    m.reveal(attacker.address, k, 2047, terms(1, 1, 0, BID), b"\x00" * 32)
    m.travel_to(m.reveal_close(k))
    args = m.book(k)
    assert (args.refs[0] >> 48) & 0xFFFF == FLAG | 2047
    event = m.clear(args)
    assert event["orders"] == 4 and m.c.cleared(k)
