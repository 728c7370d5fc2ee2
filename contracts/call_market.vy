# pragma version ~=0.4.3
"""
@title The prosumers' sealed-bid call market of one community
@custom:contract-name call_market
@license MIT
@author gridchain
@notice Per delivery interval k ([k INTERVAL_S, (k + 1) INTERVAL_S) in unix seconds) the community's consumers
        and prosumers trade energy in one call auction with sealed orders (specification v2, shared with the
        Python twin `gridchain.market.model`). Timeline of interval k, with start(k) = k INTERVAL_S:
            commit          while now < reveal_open(k) = start(k) - GATE_S - REVEAL_S, and at most HORIZON
                            intervals ahead of the current one (k <= now // INTERVAL_S + HORIZON);
            reveal          while reveal_open(k) <= now < reveal_close(k) = start(k) - GATE_S;
            clear (anyone)  while reveal_close(k) <= now < start(k) + INTERVAL_S; an interval not cleared by
                            the end of its delivery is void (nobody trades).
        A commitment is keccak256(abi.encode(market, k, order, salt)) where the order word is
        trader (bits 96-255) | price per kWh in micro-coins (32-95) | energy_wh (8-31) | zone (1-7) |
        side (bit 0: 0 bid, 1 ask); a reveal gives the low 96 bits (`terms`) and the contract puts msg.sender
        above them, so only the committer can open a commitment, and the market's address stops replay on
        another market. Reveals are not matched to commitments here: the keeper's clear does it, and a reveal
        that does not open the commitment it names (or names one already opened) is void.

        No per-order storage: two rings of 256 words, `commit_ring` and `reveal_ring`, indexed k % 256, each
        word chain (192 bits) << 64 | count (32) << 32 | k mod 2**32. A word whose tag is not k's reads as
        empty, so a new interval overwrites a stale word (a non-zero to non-zero write after the ring's first
        lap). With d(c) = uint256(c) >> 64, a commitment's 192-bit digest (a collision costs 2**96 work):
        chain' = uint256(keccak256(abi.encode(chain, d(commitment)))) >> 64 for commits, and
        keccak256(abi.encode(chain, commit_index, order, d(commitment))) >> 64 for reveals.

        Specification v2's clear: the keeper hands in every commitment's digest, every revealed order, each
        reveal's commit index and mismatch flag, the digest of each flagged reveal, and `marks`, its claim
        about the walk (the walk goes down the valid bids by effective price descending and up the asks
        ascending, ties by reveal position, filling while the bid's effective price is at least the ask's):
        bid K and ask L, the walk's last filled pair, and B and A, each side's last order with a positive fill
        under the market's rule, with the energy ranked before B and A. One pass over the reveals recomputes
        both chains, decides each reveal's validity and ranks each valid order against K, L, B and A; after
        it the clear checks that (K, L) is a pair the walk fills (both valid, crossing, their cumulative
        energy ranges overlap) and that the walk's next step would not cross, computes the rule's prices and
        volume (`double_auction_walk.outcome`), and checks B and A (the volume falls in their cumulative
        ranges). Without trade, `marks` is 0 and the best bid must be below the best ask. It stores the prices,
        the volume and the hash of the book keccak256(abi.encode(orders, valid bitmap, marks)) (`clearings(k)`),
        from which settlement replays every fill: an order ranked before its side's boundary is filled, the
        boundary gets the volume less the energy before it, the rest nothing. Nothing is sorted on chain.

        Constructor checks, in this order, one reason each: INTERVAL_S > 0 ("zero interval"), 1 <= HORIZON
        <= 128 ("horizon out of range"), 1 <= ZONES <= 8 ("zones out of range"), RULE 0 or 1 ("unknown
        rule"), REVEAL_S > 0 ("zero reveal window"), REVEAL_S + GATE_S < HORIZON INTERVAL_S ("windows exceed
        interval": otherwise no commit could ever be accepted, since commits need now + GATE_S + REVEAL_S <
        k INTERVAL_S with k <= now // INTERVAL_S + HORIZON). The last check also keeps the rings sound: a
        ring word of k is written for k + 256 only once now >= (k + 256 - HORIZON) INTERVAL_S - a time past
        k's clear window, since HORIZON <= 128.

        Invariants: commit and reveal write one ring word each and no per-order storage; a ring word is
        written only with its own interval's tag (by construction in `commit` and `reveal`); an interval is
        cleared at most once; volume <= min(valid bid energy, valid ask energy); every matched bid's effective
        price >= buy_price, every matched ask's <= sell_price, buy_price >= sell_price (asserted in `clear` and
        `double_auction_walk.outcome`).
@dev Time comparisons are rewritten without subtraction (now + GATE_S + REVEAL_S < k INTERVAL_S as
     (now + GATE_S + REVEAL_S) // INTERVAL_S < k, and the like), so no k underflows or overflows. The clear's
     checks, in order, one reason each: "reveal not closed", "clear window closed", "already cleared",
     "commit chain", "list length" (len(refs) == ceil(len(orders) / 16)), "marks out of range" (with the walk
     trading: a position >= len(orders) or a reserved bit 65-95 or 192-255 set; without: marks != 0); per
     reveal in reveal order "mismatched count" (a flagged reveal finds no entry left), "not a mismatch",
     "commit index out of range"; then "mismatched count" (entries left over), "reveal chain"; with the walk
     trading "marginal bid not valid", "marginal ask not valid", "marginal pair does not cross", "marginal
     pair not matched", "walk goes on"; without, "book crosses"; with a volume "bid boundary not valid", "ask
     boundary not valid", "wrong bid boundary", "wrong ask boundary", "wrong boundary energy"; with none
     "boundary without volume" (B, A and their energies must be 0). `orders` = len(orders), every revealed
     order, void or not. The cleared marker is `books[k] != 0` (`cleared(k)`): a keccak is never zero.
     `reveal` bounds commit_index below MAX ("commit index too large"): `refs` carries 15 bits of it, and an
     index it could not name would make the interval impossible to clear (spec v1's hole; attack test).
     Gas: on the ring's first lap an interval's first commit and first reveal write a zero word (17,100 gas
     more each); the clear inlines `double_auction_walk.effective_price` in its pass (an internal call costs
     about 30 gas); the clearing is two storage words, not five.
"""

from modules import double_auction_walk as walk

MAX: constant(uint256) = 2048  # orders per interval (commits, reveals)
MAX_WORDS: constant(uint256) = MAX // 16  # packed 16-bit refs
RING: constant(uint256) = 256
MASK15: constant(uint256) = 2**15 - 1
MASK16: constant(uint256) = 2**16 - 1
MASK24: constant(uint256) = 2**24 - 1
MASK31: constant(uint256) = 2**31 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK48: constant(uint256) = 2**48 - 1
MASK64: constant(uint256) = 2**64 - 1
TRADED: constant(uint256) = 2**64  # marks: the walk trades
FLAG: constant(uint256) = 2**15  # a ref's mismatch flag
TERMS_LIMIT: constant(uint256) = 2**96
MAX_HORIZON: constant(uint256) = 128
MAX_ZONES: constant(uint256) = 8


struct Clearing:
    buy_price: uint64  # [micro-coins per kWh] buyers pay this plus their zone's fee
    sell_price: uint64  # [micro-coins per kWh] sellers receive this less their zone's fee
    volume_wh: uint64
    orders: uint32  # revealed orders, void ones included
    book: bytes32  # keccak256(abi.encode(orders, valid bitmap, marks)); never 0 once cleared


event Committed:
    interval: indexed(uint256)
    index: uint256
    commitment: bytes32


event Revealed:
    interval: indexed(uint256)
    index: uint256
    commit_index: uint256
    order: uint256
    commitment: bytes32


event Cleared:
    interval: indexed(uint256)
    buy_price: uint64
    sell_price: uint64
    volume_wh: uint64
    orders: uint32
    book: bytes32


INTERVAL_S: public(immutable(uint256))
REVEAL_S: public(immutable(uint256))
GATE_S: public(immutable(uint256))
HORIZON: public(immutable(uint256))
ZONES: public(immutable(uint256))
ZONE_FEES: public(immutable(uint256))
RULE: public(immutable(uint256))
LEAD_S: immutable(uint256)  # GATE_S + REVEAL_S: how long before start(k) the commits of k close

commit_ring: public(uint256[RING])
reveal_ring: public(uint256[RING])
results: HashMap[uint256, uint256]  # buy_price | sell_price << 64 | volume_wh << 128 | orders << 192
books: HashMap[uint256, bytes32]  # never 0 once cleared


@deploy
def __init__(
    interval_s: uint256, reveal_s: uint256, gate_s: uint256, horizon: uint256, zones: uint256, zone_fees: uint256,
    rule: uint256
):
    """
    @dev The market's parameters, fixed for its life (checks and reasons in the header).
    @param interval_s Length of a delivery interval [s], e.g. 900.
    @param reveal_s Length of the reveal window [s].
    @param gate_s Gate closure: the reveal window ends this long before the interval starts [s].
    @param horizon How many intervals ahead of the current one commits may go, 1..128.
    @param zones Number of grid zones, 1..8.
    @param zone_fees The zones' grid fees, 32 bits each (zone z at bits 32z..32z+31) [micro-coins per kWh].
    @param rule 0 uniform price (pay-as-clear), 1 trade reduction.
    """
    assert interval_s > 0, "call_market: zero interval"
    assert horizon >= 1 and horizon <= MAX_HORIZON, "call_market: horizon out of range"
    assert zones >= 1 and zones <= MAX_ZONES, "call_market: zones out of range"
    assert rule <= walk.RULE_TRADE_REDUCTION, "call_market: unknown rule"
    assert reveal_s > 0, "call_market: zero reveal window"
    # reveal_s + gate_s < horizon * interval_s, without overflow: floor(x / h) < i  <=>  x < h i
    assert (reveal_s + gate_s) // horizon < interval_s, "call_market: windows exceed interval"
    INTERVAL_S = interval_s
    REVEAL_S = reveal_s
    GATE_S = gate_s
    HORIZON = horizon
    ZONES = zones
    ZONE_FEES = zone_fees
    RULE = rule
    LEAD_S = gate_s + reveal_s


@internal
@pure
def _read(word: uint256, interval: uint256) -> (uint256, uint256):
    """
    @dev A ring word as interval `interval` sees it.
    @param word The ring word.
    @param interval The interval.
    @return Its chain (192 bits), 0 if the word belongs to another interval.
    @return Its count, 0 if the word belongs to another interval.
    """
    if word & MASK32 != interval & MASK32:
        return 0, 0
    return word >> 64, (word >> 32) & MASK32


@external
def commit(interval: uint256, commitment: bytes32):
    """
    @dev Commit a sealed order for `interval`: keccak256(abi.encode(this market, interval, order, salt)).
    @param interval The delivery interval k; commits close at reveal_open(k) and go at most HORIZON ahead.
    @param commitment The sealed order.
    """
    now: uint256 = block.timestamp
    assert (now + LEAD_S) // INTERVAL_S < interval, "call_market: commit closed"
    assert interval <= now // INTERVAL_S + HORIZON, "call_market: too far ahead"
    slot: uint256 = interval % RING
    h: uint256 = 0
    count: uint256 = 0
    h, count = self._read(self.commit_ring[slot], interval)
    assert count < MAX, "call_market: book full"
    h = convert(keccak256(abi_encode(h, convert(commitment, uint256) >> 64)), uint256) >> 64
    self.commit_ring[slot] = (h << 64) | (unsafe_add(count, 1) << 32) | (interval & MASK32)
    log Committed(interval=interval, index=count, commitment=commitment)


@external
def reveal(interval: uint256, commit_index: uint256, terms: uint256, salt: bytes32):
    """
    @dev Open a commitment of `interval` during its reveal window. The contract does not check that the
         opening matches commitment `commit_index`: a reveal that does not is void at the clear.
    @param interval The delivery interval k.
    @param commit_index The index of the commitment this reveal opens (its Committed event's index).
    @param terms The order's low 96 bits: price (bits 32-95) | energy_wh (8-31) | zone (1-7) | side (bit 0).
    @param salt The commitment's salt.
    """
    now: uint256 = block.timestamp
    assert (now + LEAD_S) // INTERVAL_S >= interval, "call_market: reveal not open"
    assert (now + GATE_S) // INTERVAL_S < interval, "call_market: reveal closed"
    assert terms < TERMS_LIMIT, "call_market: terms out of range"
    assert (terms >> 32) & MASK64 != 0, "call_market: zero price"
    assert (terms >> 8) & MASK24 != 0, "call_market: zero energy"
    assert (terms >> 1) & 127 < ZONES, "call_market: unknown zone"
    # a ref carries 15 bits of the index: a larger one could never be replayed at the clear and would block it
    assert commit_index < MAX, "call_market: commit index too large"
    slot: uint256 = interval % RING
    h: uint256 = 0
    count: uint256 = 0
    h, count = self._read(self.reveal_ring[slot], interval)
    assert count < MAX, "call_market: reveals full"
    order: uint256 = (convert(msg.sender, uint256) << 96) | terms
    c: bytes32 = keccak256(abi_encode(self, interval, order, salt))
    h = convert(keccak256(abi_encode(h, commit_index, order, convert(c, uint256) >> 64)), uint256) >> 64
    self.reveal_ring[slot] = (h << 64) | (unsafe_add(count, 1) << 32) | (interval & MASK32)
    log Revealed(interval=interval, index=count, commit_index=commit_index, order=order, commitment=c)


@external
@view
def cleared(interval: uint256) -> bool:
    """
    @dev Whether `interval` has been cleared (with or without trade).
    @param interval The interval.
    @return True once its clear has succeeded.
    """
    return self.books[interval] != empty(bytes32)


@external
@view
def clearings(interval: uint256) -> Clearing:
    """
    @dev The clearing of `interval` (all zero before its clear), stored as two words.
    @param interval The interval.
    @return Its prices, volume, revealed orders and the hash of its book.
    """
    word: uint256 = self.results[interval]
    return Clearing(
        buy_price=convert(word & MASK64, uint64),
        sell_price=convert((word >> 64) & MASK64, uint64),
        volume_wh=convert((word >> 128) & MASK64, uint64),
        orders=convert(word >> 192, uint32),
        book=self.books[interval],
    )


@internal
@pure
def _words_for(n: uint256) -> uint256:
    """
    @dev How many 16-entry words a list of `n` entries takes.
    @param n Entries.
    @return ceil(n / 16).
    """
    if n % 16 == 0:
        return n // 16
    return n // 16 + 1


@external
def clear(
    interval: uint256,
    commitments: DynArray[uint256, MAX],
    orders: DynArray[uint256, MAX],
    refs: DynArray[uint256, MAX_WORDS],
    mismatched: DynArray[uint256, MAX],
    marks: uint256,
):
    """
    @dev Verify the keeper's book of `interval` against the two chains and its claimed walk, and clear it by the
         market's rule. Anyone may call it, once, between reveal_close(k) and the end of the interval.
    @param interval The delivery interval k.
    @param commitments Every commitment of k in commit order, as its 192-bit digest (uint256(c) >> 64).
    @param orders Every revealed order word of k, in reveal order.
    @param refs Per reveal, 16 bits packed low to high: bit 15 the mismatch flag, bits 0-14 its commit index.
    @param mismatched The digest of the commitment each flagged reveal revealed, in reveal order.
    @param marks The keeper's claim about the walk (reveal positions, 16 bits each): bid K (bits 0-15) and ask
           L (16-31), the walk's last filled pair; B (32-47) and A (48-63), the last bid and ask with a positive
           fill under the market's rule; bit 64 set when the walk trades; the energy [Wh] of the bids ranked
           before B (bits 96-143) and of the asks ranked before A (144-191). 0 when the walk does not trade;
           B, A and the two energies 0 when the rule's volume is 0.
    """
    now: uint256 = block.timestamp
    assert (now + GATE_S) // INTERVAL_S >= interval, "call_market: reveal not closed"
    assert now // INTERVAL_S <= interval, "call_market: clear window closed"
    assert self.books[interval] == empty(bytes32), "call_market: already cleared"
    slot: uint256 = interval % RING
    fees: uint256 = ZONE_FEES

    # 4. the commit chain
    ring_chain: uint256 = 0
    ring_count: uint256 = 0
    ring_chain, ring_count = self._read(self.commit_ring[slot], interval)
    n_commits: uint256 = len(commitments)
    h: uint256 = 0
    for c: uint256 in commitments:
        h = convert(keccak256(abi_encode(h, c)), uint256) >> 64
    assert h == ring_chain and n_commits == ring_count, "call_market: commit chain"
    n_orders: uint256 = len(orders)
    assert len(refs) == self._words_for(n_orders), "call_market: list length"

    # 5. the marks: positions in range, reserved bits clear; the marked orders' keys
    traded: bool = marks & TRADED != 0
    kp: uint256 = marks & MASK16
    lp: uint256 = (marks >> 16) & MASK16
    bp: uint256 = (marks >> 32) & MASK16
    ap: uint256 = (marks >> 48) & MASK16
    if traded:
        reserved: uint256 = (marks >> 65) & MASK31 | marks >> 192  # bits 65-95 and 192-255
        assert reserved == 0 and max(max(kp, lp), max(bp, ap)) < n_orders, "call_market: marks out of range"
    else:
        assert marks == 0, "call_market: marks out of range"
    eff_k: uint256 = 0
    eff_l: uint256 = 0
    eff_b: uint256 = 0
    eff_a: uint256 = 0
    if traded:
        eff_k = walk.effective_price(orders[kp], fees)
        eff_l = walk.effective_price(orders[lp], fees)
        eff_b = walk.effective_price(orders[bp], fees)
        eff_a = walk.effective_price(orders[ap], fees)

    # 6. one pass over the reveals: each valid (its commitment, not used before) or void (flagged, or a
    # duplicate); each valid order ranked against the marks (bids by effective price descending, asks
    # ascending, ties by reveal position)
    used: uint256[MAX // 256] = empty(uint256[MAX // 256])  # commits opened by a valid reveal
    valid: uint256[MAX // 256] = empty(uint256[MAX // 256])  # valid reveals
    n_mismatched: uint256 = 0
    n_bids: uint256 = 0
    n_asks: uint256 = 0
    bid_wh: uint256 = 0  # all valid bids' energy
    ask_wh: uint256 = 0
    before_k: uint256 = 0  # energy of the bids ranked before K, and how many
    rank_k: uint256 = 0
    before_l: uint256 = 0
    rank_l: uint256 = 0
    before_b: uint256 = 0  # energy of the bids ranked before B
    before_a: uint256 = 0
    next_bid: uint256 = 0  # 1 + the best effective price of the bids ranked after K (0: none)
    next_ask: uint256 = max_value(uint256)  # the best of the asks ranked after L (max: none)
    best_bid: uint256 = 0  # 1 + the best bid's effective price (0: no bid)
    best_ask: uint256 = max_value(uint256)
    h = 0
    r: uint256 = 0
    word: uint256 = 0
    valid_bits: uint256 = 0  # valid[r >> 8] being built
    for order: uint256 in orders:
        if r & 15 == 0:
            word = refs[r >> 4]
        ref: uint256 = word & MASK16
        word >>= 16
        i: uint256 = ref & MASK15
        c: uint256 = 0
        ok: bool = False
        if ref & FLAG != 0:
            assert n_mismatched < len(mismatched), "call_market: mismatched count"
            c = mismatched[n_mismatched]
            n_mismatched = unsafe_add(n_mismatched, 1)
            if i < n_commits:
                assert c != commitments[i], "call_market: not a mismatch"
        else:
            assert i < n_commits, "call_market: commit index out of range"
            c = commitments[i]
            bit: uint256 = 1 << (i & 255)
            used_word: uint256 = used[i >> 8]
            if used_word & bit == 0:
                used[i >> 8] = used_word | bit
                ok = True
        h = convert(keccak256(abi_encode(h, i, order, c)), uint256) >> 64
        if ok:
            valid_bits |= 1 << (r & 255)
            e: uint256 = (order >> 8) & MASK24
            price: uint256 = (order >> 32) & MASK64
            fee: uint256 = (fees >> ((order & 254) << 4)) & MASK32
            if order & 1 == 0:  # a bid: double_auction_walk.effective_price, inline
                eff: uint256 = 0
                if price > fee:
                    eff = unsafe_sub(price, fee)
                n_bids = unsafe_add(n_bids, 1)
                bid_wh = unsafe_add(bid_wh, e)
                if traded:
                    if eff > eff_k or (eff == eff_k and r < kp):
                        before_k = unsafe_add(before_k, e)
                        rank_k = unsafe_add(rank_k, 1)
                    elif r != kp and eff >= next_bid:
                        next_bid = unsafe_add(eff, 1)
                    if bp != kp and (eff > eff_b or (eff == eff_b and r < bp)):
                        before_b = unsafe_add(before_b, e)
                elif eff >= best_bid:
                    best_bid = unsafe_add(eff, 1)
            else:
                eff: uint256 = unsafe_add(price, fee)
                n_asks = unsafe_add(n_asks, 1)
                ask_wh = unsafe_add(ask_wh, e)
                if traded:
                    if eff < eff_l or (eff == eff_l and r < lp):
                        before_l = unsafe_add(before_l, e)
                        rank_l = unsafe_add(rank_l, 1)
                    elif r != lp and eff < next_ask:
                        next_ask = eff
                    if ap != lp and (eff < eff_a or (eff == eff_a and r < ap)):
                        before_a = unsafe_add(before_a, e)
                elif eff < best_ask:
                    best_ask = eff
        r = unsafe_add(r, 1)
        if r & 255 == 0:
            valid[unsafe_sub(r, 1) >> 8] = valid_bits
            valid_bits = 0
    if r & 255 != 0:
        valid[r >> 8] = valid_bits
    assert n_mismatched == len(mismatched), "call_market: mismatched count"
    ring_chain, ring_count = self._read(self.reveal_ring[slot], interval)
    assert h == ring_chain and n_orders == ring_count, "call_market: reveal chain"

    # 7. the walk, checked at its end: (K, L) is a pair the walk fills (valid, crossing, overlapping in the
    # cumulative energy) and the walk's next step would not cross; then the rule's prices and volume
    buy: uint256 = 0
    sell: uint256 = 0
    volume: uint256 = 0
    if traded:
        k_order: uint256 = orders[kp]
        l_order: uint256 = orders[lp]
        assert (valid[kp >> 8] >> (kp & 255)) & 1 == 1 and k_order & 1 == 0, "call_market: marginal bid not valid"
        assert (valid[lp >> 8] >> (lp & 255)) & 1 == 1 and l_order & 1 == 1, "call_market: marginal ask not valid"
        assert eff_k >= eff_l, "call_market: marginal pair does not cross"
        through_k: uint256 = before_k + ((k_order >> 8) & MASK24)
        through_l: uint256 = before_l + ((l_order >> 8) & MASK24)
        assert before_k < through_l and before_l < through_k, "call_market: marginal pair not matched"
        if through_k < through_l:  # bid K is used up first: the next bid must not cross ask L
            assert next_bid == 0 or unsafe_sub(next_bid, 1) < eff_l, "call_market: walk goes on"
        elif through_l < through_k:  # ask L is used up first
            assert eff_k < next_ask, "call_market: walk goes on"
        else:  # both: the next pair must not cross
            assert next_bid == 0 or unsafe_sub(next_bid, 1) < next_ask, "call_market: walk goes on"
        buy, sell, volume = walk.outcome(
            RULE, True, eff_k, eff_l, min(through_k, through_l), rank_k, rank_l, before_k, before_l
        )
    else:
        assert best_bid == 0 or unsafe_sub(best_bid, 1) < best_ask, "call_market: book crosses"
    assert volume <= min(bid_wh, ask_wh), "call_market: invariant broken"

    # 8. the fills' boundaries: on each side the orders ranked before its boundary are filled, the boundary
    # gets the rest of the volume (settlement replays the fills from them)
    if volume > 0:
        b_order: uint256 = orders[bp]
        a_order: uint256 = orders[ap]
        assert (valid[bp >> 8] >> (bp & 255)) & 1 == 1 and b_order & 1 == 0, "call_market: bid boundary not valid"
        assert (valid[ap >> 8] >> (ap & 255)) & 1 == 1 and a_order & 1 == 1, "call_market: ask boundary not valid"
        if bp == kp:
            before_b = before_k
        if ap == lp:
            before_a = before_l
        assert before_b < volume and volume <= before_b + ((b_order >> 8) & MASK24), "call_market: wrong bid boundary"
        assert before_a < volume and volume <= before_a + ((a_order >> 8) & MASK24), "call_market: wrong ask boundary"
        assert (marks >> 96) & MASK48 == before_b and marks >> 144 == before_a, "call_market: wrong boundary energy"
    else:
        assert marks >> 32 & MASK32 == 0 and marks >> 96 == 0, "call_market: boundary without volume"

    # 9. the result
    book: bytes32 = keccak256(abi_encode(orders, valid, marks))
    # each fits its field: prices <= eff_k < 2**64 (a bid's), volume < 2**35, n_orders <= 2048
    self.results[interval] = buy | (sell << 64) | (volume << 128) | (n_orders << 192)
    self.books[interval] = book
    log Cleared(
        interval=interval,
        buy_price=convert(buy, uint64),
        sell_price=convert(sell, uint64),
        volume_wh=convert(volume, uint64),
        orders=convert(n_orders, uint32),
        book=book,
    )
