"""Twin of contracts/call_market.vy: the prosumers' sealed-bid call market, specification v2.

Per delivery interval k a trader commits keccak256(abi.encode(market, k, order, salt)), reveals the order's terms
and the salt in the reveal window, and anyone (the keeper) clears the interval by handing in every commitment's
192-bit digest, every revealed order and `marks`, its claim about where the clearing walk ends; the market checks
them in one pass against two hash chains, without sorting or walking, and stores one Clearing. No per-order
storage: a ring of 256 packed words per phase (chain192 | count | tag). Every method raises MarketError with the
contract's reason where the contract reverts, and then changes nothing.

Units: prices [micro-coin/kWh] (uint64), zone fees [micro-coin/kWh] (32 bits per zone), energy [Wh] (uint24),
times [s]; effective prices: bid `price - fee` (0 if the fee is not below the price), ask `price + fee`.

Choices the specification leaves open (the contract's header lists the clear's checks in the same order):
- constructor checks, in this order: `interval_s > 0` ("zero interval"), `1 <= horizon <= 128` ("horizon out of
  range"), `1 <= zones <= 8` ("zones out of range"), `rule in (0, 1)` ("unknown rule"), `reveal_s > 0` ("zero
  reveal window"), `gate_s + reveal_s < horizon * interval_s` ("windows exceed interval": otherwise no commit can
  ever be made; it also keeps interval k's reveals from touching the ring word of k - 256 while that interval can
  still be cleared). Fees of zones >= `zones` are not checked (they are never read).
- times are whole integers: `reveal_open(k)` may be negative here (every commit to such a k is "commit closed",
  every reveal is open); the contract must compare without underflow (`now + gate_s + reveal_s < k * interval_s`).
- reveal: `commit_index < 2048` ("commit index too large"), after the terms' checks: a ref carries 15 bits of it,
  so a larger index could never be replayed and would block the interval's clear.
- clear: "list length" (refs) after the commit chain, then "marks out of range", then the reveals; the walk's
  checks; the boundaries' checks. `Clearing.orders` is `len(orders)` (every revealed order, void ones included);
  `cleared(k)` is the marker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi import encode
from eth_utils import keccak

from gridchain.errors import ContractRevert

MAX_ORDERS = 2048  # commits, reveals, and orders per interval
RING = 256  # ring words per phase, indexed k % RING
MAX_HORIZON = 128
MAX_ZONES = 8
RULE_UNIFORM, RULE_TRADE_REDUCTION = 0, 1
BUY, SELL = 0, 1

MASK15, MASK16, MASK24, MASK32, MASK64 = 2**15 - 1, 2**16 - 1, 2**24 - 1, 2**32 - 1, 2**64 - 1
TERMS_BITS = 96
FLAG = 1 << 15  # a ref's mismatch flag
VALID_WORDS = MAX_ORDERS // 256  # the clear's bitmap of valid reveals
MASK31, MASK48 = 2**31 - 1, 2**48 - 1
TRADED = 1 << 64  # marks: the walk trades


class MarketError(ContractRevert):
    """A call the contract would revert, with the contract's reason (`call_market: ...`)."""


def _fail(ok: bool, reason: str) -> None:
    if not ok:
        raise MarketError(f"call_market: {reason}")


# -- the order word ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Order:
    """`trader` (address) buys (side 0) or sells (side 1) `energy_wh` in `zone` at `price` [micro-coin/kWh]."""

    trader: str
    price: int
    energy_wh: int
    zone: int
    side: int

    @property
    def is_bid(self) -> bool:
        return self.side == BUY


def pack(order: Order) -> int:
    """The order word: trader << 96 | price << 32 | energy_wh << 8 | zone << 1 | side."""
    return (int(order.trader, 16) << TERMS_BITS) | terms(order)


def terms(order: Order) -> int:
    """The low 96 bits of the order word, as `reveal` takes them (the contract adds msg.sender above)."""
    return (order.price << 32) | (order.energy_wh << 8) | (order.zone << 1) | order.side


def unpack(word: int) -> Order:
    """The order a word holds (trader as a lower-case 0x address)."""
    return Order(
        trader="0x" + format(word >> TERMS_BITS, "040x"),
        price=(word >> 32) & MASK64,
        energy_wh=(word >> 8) & MASK24,
        zone=(word >> 1) & 127,
        side=word & 1,
    )


def fee(zone_fees: int, zone: int) -> int:
    """Zone `zone`'s grid fee [micro-coin/kWh], bits 32z..32z+31 of `zone_fees`."""
    return (zone_fees >> (32 * zone)) & MASK32


def effective_price(word: int, zone_fees: int) -> int:
    """What the walk compares [micro-coin/kWh]: a bid's price less its zone's fee (floored at 0), an ask's plus it."""
    order = unpack(word)
    f = fee(zone_fees, order.zone)
    if order.is_bid:
        return order.price - f if order.price > f else 0
    return order.price + f


# -- hashes --------------------------------------------------------------------------------------------------
def commitment(market: str, interval: int, order: Order | int, salt: bytes) -> bytes:
    """keccak256(abi.encode(address market, uint256 interval, uint256 order, bytes32 salt))."""
    word = pack(order) if isinstance(order, Order) else order
    return keccak(encode(["address", "uint256", "uint256", "bytes32"], [market, interval, word, salt]))


def chain192(data: bytes) -> int:
    """uint256(keccak256(data)) >> 64: a hash chain's link, 192 bits so that it packs with a count and a tag."""
    return int.from_bytes(keccak(data), "big") >> 64


def digest(c: bytes) -> int:
    """A commitment's 192-bit digest, uint256(c) >> 64: what the chains link and the clear takes (collisions cost
    2**96 work, and the calldata of a commitment shrinks by 8 non-zero bytes)."""
    return int.from_bytes(c, "big") >> 64


def commit_link(chain: int, c: bytes) -> int:
    """The commit chain after `c`: chain192(abi.encode(uint256 chain, uint256 digest(c)))."""
    return chain192(encode(["uint256", "uint256"], [chain, digest(c)]))


def reveal_link(chain: int, commit_index: int, word: int, c: bytes | int) -> int:
    """The reveal chain after a reveal: chain192(abi.encode(uint256 chain, uint256 commit_index, uint256 order,
    uint256 digest(c))); `c` the commitment or already its digest."""
    d = digest(c) if isinstance(c, bytes) else c
    return chain192(encode(["uint256", "uint256", "uint256", "uint256"], [chain, commit_index, word, d]))


def book_hash(orders: list[int], valid_words: list[int], marks: int) -> bytes:
    """keccak256(abi.encode(orders, uint256[8] valid, marks)): what settlement replays the fills from."""
    words = list(valid_words) + [0] * (VALID_WORDS - len(valid_words))
    return keccak(encode(["uint256[]", f"uint256[{VALID_WORDS}]", "uint256"], [orders, words, marks]))


def valid_words(valid: list[bool]) -> list[int]:
    """The valid reveals as the clear's bitmap: bit r % 256 of word r // 256, 8 words."""
    words = [0] * VALID_WORDS
    for r, ok in enumerate(valid):
        if ok:
            words[r // 256] |= 1 << (r % 256)
    return words


def is_valid(words: list[int], r: int) -> bool:
    return (words[r // 256] >> (r % 256)) & 1 == 1


def ring_word(chain: int, count: int, interval: int) -> int:
    """chain (192 bits) << 64 | count (32 bits) << 32 | interval tag (k mod 2**32)."""
    return (chain << 64) | (count << 32) | (interval & MASK32)


def packed16(words: list[int], index: int) -> int:
    """The 16-bit entry `index` of a list packed low to high, 16 entries per word."""
    return (words[index // 16] >> (16 * (index % 16))) & MASK16


def words_for(n: int) -> int:
    """How many packed words n 16-bit entries take."""
    return (n + 15) // 16


# -- parameters and events -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Params:
    """The constructor's immutables; times [s], `zone_fees` 8 x 32 bits [micro-coin/kWh]."""

    interval_s: int = 900
    reveal_s: int = 300
    gate_s: int = 300
    horizon: int = 96
    zones: int = 1
    zone_fees: int = 0
    rule: int = RULE_UNIFORM

    def start(self, k: int) -> int:
        return k * self.interval_s

    def reveal_open(self, k: int) -> int:
        return self.start(k) - self.gate_s - self.reveal_s

    def reveal_close(self, k: int) -> int:
        return self.start(k) - self.gate_s

    def fee(self, zone: int) -> int:
        return fee(self.zone_fees, zone)


def check_params(p: Params) -> None:
    """The constructor's checks, one reason each, in the contract's order (see the module docstring)."""
    _fail(p.interval_s > 0, "zero interval")
    _fail(1 <= p.horizon <= MAX_HORIZON, "horizon out of range")
    _fail(1 <= p.zones <= MAX_ZONES, "zones out of range")
    _fail(p.rule in (RULE_UNIFORM, RULE_TRADE_REDUCTION), "unknown rule")
    _fail(p.reveal_s > 0, "zero reveal window")
    _fail(p.gate_s + p.reveal_s < p.horizon * p.interval_s, "windows exceed interval")


@dataclass(frozen=True)
class Committed:
    """The `Committed(interval indexed, index, commitment)` event."""

    interval: int
    index: int
    commitment: bytes


@dataclass(frozen=True)
class Revealed:
    """The `Revealed(interval indexed, index, commit_index, order, commitment)` event."""

    interval: int
    index: int
    commit_index: int
    order: int
    commitment: bytes


@dataclass(frozen=True)
class Clearing:
    """What `clearings(k)` returns: prices [micro-coin/kWh], volume [Wh], revealed orders, the book's hash."""

    buy_price: int = 0
    sell_price: int = 0
    volume_wh: int = 0
    orders: int = 0
    book: bytes = b"\x00" * 32

    def as_tuple(self) -> tuple:
        return (self.buy_price, self.sell_price, self.volume_wh, self.orders, self.book)


@dataclass(frozen=True)
class Cleared:
    """The `Cleared(interval indexed, buy_price, sell_price, volume_wh, orders, book)` event."""

    interval: int
    buy_price: int
    sell_price: int
    volume_wh: int
    orders: int
    book: bytes


# -- the market ----------------------------------------------------------------------------------------------
@dataclass
class CallMarketModel:
    """The contract's state and methods; `market` is the contract's address (inside every commitment)."""

    params: Params
    market: str = "0x" + "00" * 19 + "01"
    _commits: list[int] = field(default_factory=lambda: [0] * RING)
    _reveals: list[int] = field(default_factory=lambda: [0] * RING)
    _clearings: dict[int, Clearing] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_params(self.params)
        self.market = self.market.lower()

    # -- public getters (storage-visible, as the contract's) ------------------------------------------------
    def commit_ring(self, i: int) -> int:
        return self._commits[i]

    def reveal_ring(self, i: int) -> int:
        return self._reveals[i]

    def clearings(self, k: int) -> Clearing:
        return self._clearings.get(k, Clearing())

    def cleared(self, k: int) -> bool:
        return k in self._clearings

    def commit_state(self, k: int) -> tuple[int, int]:
        """(chain, count) of interval k's commits: (0, 0) if its ring word holds another interval."""
        return _read(self._commits[k % RING], k)

    def reveal_state(self, k: int) -> tuple[int, int]:
        return _read(self._reveals[k % RING], k)

    # -- commit and reveal ----------------------------------------------------------------------------------
    def commit(self, sender: str, k: int, c: bytes, now: int) -> Committed:
        """Append commitment `c` to interval k's commit chain (the sender is inside the committed order)."""
        p = self.params
        _fail(now < p.reveal_open(k), "commit closed")
        _fail(k <= now // p.interval_s + p.horizon, "too far ahead")
        chain, count = self.commit_state(k)
        _fail(count < MAX_ORDERS, "book full")
        self._commits[k % RING] = ring_word(commit_link(chain, c), count + 1, k)
        return Committed(k, count, c)

    def reveal(self, sender: str, k: int, commit_index: int, terms_: int, salt: bytes, now: int) -> Revealed:
        """Open an order: (sender << 96) | terms, its commitment recomputed; the index is checked at the clear."""
        p = self.params
        _fail(now >= p.reveal_open(k), "reveal not open")
        _fail(now < p.reveal_close(k), "reveal closed")
        _fail(terms_ < 2**TERMS_BITS, "terms out of range")
        word = (int(sender, 16) << TERMS_BITS) | terms_
        order = unpack(word)
        _fail(order.price > 0, "zero price")
        _fail(order.energy_wh > 0, "zero energy")
        _fail(order.zone < p.zones, "unknown zone")
        _fail(commit_index < MAX_ORDERS, "commit index too large")  # a ref holds 15 bits: larger would block the clear
        chain, count = self.reveal_state(k)
        _fail(count < MAX_ORDERS, "reveals full")
        c = commitment(self.market, k, word, salt)
        self._reveals[k % RING] = ring_word(reveal_link(chain, commit_index, word, c), count + 1, k)
        return Revealed(k, count, commit_index, word, c)

    # -- clear ----------------------------------------------------------------------------------------------
    def clear(
        self,
        k: int,
        commitments: list[int],
        orders: list[int],
        refs: list[int],
        mismatched: list[int],
        marks: int,
        now: int,
    ) -> Cleared:
        """Verify the keeper's book of interval k and its claimed walk in O(n), store prices and volume once.
        `commitments` and `mismatched` are 192-bit digests; `marks` as the contract's docstring has it."""
        _check_abi(commitments, orders, refs, mismatched, marks)
        p = self.params
        _fail(now >= p.reveal_close(k), "reveal not closed")
        _fail(now < p.start(k) + p.interval_s, "clear window closed")
        _fail(k not in self._clearings, "already cleared")
        chain, count = self.commit_state(k)
        link = 0
        for c in commitments:
            link = chain192(encode(["uint256", "uint256"], [link, c]))
        _fail(link == chain and len(commitments) == count, "commit chain")
        _fail(len(refs) == words_for(len(orders)), "list length")
        m = _marks(marks, len(orders))
        valid = self._check_reveals(k, commitments, orders, refs, mismatched)
        buy, sell, volume = _check_walk(orders, valid, m, p.zone_fees, p.rule)
        _check_boundaries(orders, valid, m, p.zone_fees, volume)
        book = book_hash(orders, valid_words(valid), marks)
        self._clearings[k] = Clearing(buy, sell, volume, len(orders), book)
        return Cleared(k, buy, sell, volume, len(orders), book)

    def _check_reveals(
        self, k: int, commitments: list[int], orders: list[int], refs: list[int], mismatched: list[int]
    ) -> list[bool]:
        """Step 6's chain half: replay the reveal chain; a reveal is valid if it opens an unused commitment."""
        used: set[int] = set()
        valid: list[bool] = []
        link, n = 0, 0
        for r, word in enumerate(orders):
            ref = packed16(refs, r)
            i = ref & MASK15
            if ref & FLAG:
                _fail(n < len(mismatched), "mismatched count")
                c = mismatched[n]
                n += 1
                if i < len(commitments):
                    _fail(c != commitments[i], "not a mismatch")
                valid.append(False)
            else:
                _fail(i < len(commitments), "commit index out of range")
                c = commitments[i]
                valid.append(i not in used)
                used.add(i)
            link = reveal_link(link, i, word, c)
        _fail(n == len(mismatched), "mismatched count")
        chain, count = self.reveal_state(k)
        _fail(link == chain and len(orders) == count, "reveal chain")
        return valid


def _read(word: int, k: int) -> tuple[int, int]:
    """A ring word's (chain, count) for interval k; a word tagged with another interval reads empty."""
    if word & MASK32 != k & MASK32:
        return 0, 0
    return word >> 64, (word >> 32) & MASK32


def _check_abi(commitments: list[int], orders: list[int], refs: list[int], mismatched: list[int], marks: int) -> None:
    """The bounds the contract's ABI decoder enforces (a revert without reason there)."""
    bounds = ((commitments, MAX_ORDERS), (orders, MAX_ORDERS), (mismatched, MAX_ORDERS), (refs, MAX_ORDERS // 16))
    if any(len(values) > bound for values, bound in bounds):
        raise ValueError("abi: a DynArray longer than its bound (the contract reverts without a reason)")
    if any(not 0 <= v < 2**256 for v in [*commitments, *orders, *refs, *mismatched, marks]):
        raise ValueError("abi: a value outside uint256")


@dataclass(frozen=True)
class Marks:
    """The keeper's claim about the walk, decoded (reveal positions; energies [Wh])."""

    traded: bool
    k: int  # bid K and ask L: the walk's last filled pair
    l: int  # noqa: E741 (the paper's letter)
    b: int  # bid B and ask A: the last with a positive fill under the rule
    a: int
    before_b: int  # energy of the bids ranked before B, of the asks ranked before A
    before_a: int


def decode_marks(marks: int) -> Marks:
    return Marks(
        marks & TRADED != 0,
        marks & MASK16,
        (marks >> 16) & MASK16,
        (marks >> 32) & MASK16,
        (marks >> 48) & MASK16,
        (marks >> 96) & MASK48,
        marks >> 144,
    )


def encode_marks(m: Marks) -> int:
    """The marks word (0 when the walk does not trade)."""
    if not m.traded:
        return 0
    fields = m.k | (m.l << 16) | (m.b << 32) | (m.a << 48) | TRADED
    return fields | (m.before_b << 96) | (m.before_a << 144)


def _marks(marks: int, n_orders: int) -> Marks:
    """Step 5: the positions in range and the reserved bits (65-95, 192-255) clear; 0 without trade."""
    m = decode_marks(marks)
    if m.traded:
        reserved = ((marks >> 65) & MASK31) | (marks >> 192)
        _fail(reserved == 0 and max(m.k, m.l, m.b, m.a) < n_orders, "marks out of range")
    else:
        _fail(marks == 0, "marks out of range")
    return m


def before(eff: int, r: int, eff_m: int, m: int, side: int) -> bool:
    """Whether an order (effective price, reveal position) is ranked before the order (eff_m, m) of its side:
    bids by effective price descending, asks ascending, ties by reveal position."""
    better = eff > eff_m if side == BUY else eff < eff_m
    return better or (eff == eff_m and r < m)


def _check_walk(orders: list[int], valid: list[bool], m: Marks, zone_fees: int, rule: int) -> tuple[int, int, int]:
    """Step 7: (K, L) is a pair the walk fills and its last; the rule's (buy_price, sell_price, volume_wh)."""
    eff = [effective_price(w, zone_fees) for w in orders]
    energy = [(w >> 8) & MASK24 for w in orders]
    bids = [r for r, w in enumerate(orders) if valid[r] and w & 1 == BUY]
    asks = [r for r, w in enumerate(orders) if valid[r] and w & 1 == SELL]
    volume = buy = sell = 0
    if m.traded:
        k, ell = m.k, m.l
        _fail(valid[k] and orders[k] & 1 == BUY, "marginal bid not valid")
        _fail(valid[ell] and orders[ell] & 1 == SELL, "marginal ask not valid")
        _fail(eff[k] >= eff[ell], "marginal pair does not cross")
        ahead_k = [r for r in bids if before(eff[r], r, eff[k], k, BUY)]
        ahead_l = [r for r in asks if before(eff[r], r, eff[ell], ell, SELL)]
        before_k, before_l = sum(energy[r] for r in ahead_k), sum(energy[r] for r in ahead_l)
        through_k, through_l = before_k + energy[k], before_l + energy[ell]
        _fail(before_k < through_l and before_l < through_k, "marginal pair not matched")
        after_k = [eff[r] for r in bids if r != k and r not in set(ahead_k)]
        after_l = [eff[r] for r in asks if r != ell and r not in set(ahead_l)]
        next_bid, next_ask = max(after_k, default=None), min(after_l, default=None)
        if through_k < through_l:
            _fail(next_bid is None or next_bid < eff[ell], "walk goes on")
        elif through_l < through_k:
            _fail(next_ask is None or eff[k] < next_ask, "walk goes on")
        else:
            _fail(next_bid is None or next_ask is None or next_bid < next_ask, "walk goes on")
        walked = min(through_k, through_l)
        if rule == RULE_UNIFORM:
            buy = sell = (eff[k] + eff[ell]) // 2
            volume = walked
        elif ahead_k and ahead_l:
            buy, sell, volume = eff[k], eff[ell], min(before_k, before_l)
        # the contract's "invariant broken" (double_auction_walk.outcome: not asserted when rule 1 does not trade)
        assert volume == 0 or (buy <= eff[k] and sell >= eff[ell] and buy >= sell)
    else:
        best_bid = max((eff[r] for r in bids), default=None)
        best_ask = min((eff[r] for r in asks), default=None)
        _fail(best_bid is None or best_ask is None or best_bid < best_ask, "book crosses")
    assert volume <= min(sum(energy[r] for r in bids), sum(energy[r] for r in asks))
    return buy, sell, volume


def _check_boundaries(orders: list[int], valid: list[bool], m: Marks, zone_fees: int, volume: int) -> None:
    """Step 8: B and A are the last orders with a positive fill when the orders of each side are filled in rank
    order up to the volume, and the marks carry the energy ranked before them."""
    if volume == 0:
        _fail(m.b == 0 and m.a == 0 and m.before_b == 0 and m.before_a == 0, "boundary without volume")
        return
    _fail(valid[m.b] and orders[m.b] & 1 == BUY, "bid boundary not valid")
    _fail(valid[m.a] and orders[m.a] & 1 == SELL, "ask boundary not valid")
    before_b = energy_before(orders, valid, m.b, zone_fees)
    before_a = energy_before(orders, valid, m.a, zone_fees)
    _fail(before_b < volume <= before_b + ((orders[m.b] >> 8) & MASK24), "wrong bid boundary")
    _fail(before_a < volume <= before_a + ((orders[m.a] >> 8) & MASK24), "wrong ask boundary")
    _fail(m.before_b == before_b and m.before_a == before_a, "wrong boundary energy")


def energy_before(orders: list[int], valid: list[bool], q: int, zone_fees: int) -> int:
    """The energy [Wh] of the valid orders of q's side ranked before q."""
    side, eff_q = orders[q] & 1, effective_price(orders[q], zone_fees)
    return sum(
        (w >> 8) & MASK24
        for r, w in enumerate(orders)
        if valid[r] and w & 1 == side and before(effective_price(w, zone_fees), r, eff_q, q, side)
    )


def fill_of(orders: list[int], valid: list[bool], marks: int, volume_wh: int, r: int, zone_fees: int) -> int:
    """Reveal r's filled energy [Wh] from a clearing's marks, as settlement replays it: the orders ranked before
    their side's boundary are filled, the boundary gets the rest of the volume, the others nothing."""
    m = decode_marks(marks)
    if volume_wh == 0 or not valid[r]:
        return 0
    side = orders[r] & 1
    q, before_q = (m.b, m.before_b) if side == BUY else (m.a, m.before_a)
    if r == q:
        return volume_wh - before_q
    eff_q = effective_price(orders[q], zone_fees)
    return (orders[r] >> 8) & MASK24 if before(effective_price(orders[r], zone_fees), r, eff_q, q, side) else 0


def clearing_prices(
    orders: list[int], bids: list[int], asks: list[int], zone_fees: int, rule: int
) -> tuple[int, int, int]:
    """The walk over sorted positions (spec v1 ran it on chain; v2 checks its end): (buy_price, sell_price, volume_wh);
    (0, 0, 0) when nothing trades. The reference the feeder experiment checks the keeper against."""
    eff_b = [effective_price(orders[p], zone_fees) for p in bids]
    eff_a = [effective_price(orders[p], zone_fees) for p in asks]
    energy_b = [unpack(orders[p]).energy_wh for p in bids]
    energy_a = [unpack(orders[p]).energy_wh for p in asks]
    i = j = volume = 0
    last_b = last_a = -1
    rem_b = energy_b[0] if energy_b else 0
    rem_a = energy_a[0] if energy_a else 0
    while i < len(bids) and j < len(asks) and eff_b[i] >= eff_a[j]:
        m = min(rem_b, rem_a)
        volume += m
        rem_b, rem_a, last_b, last_a = rem_b - m, rem_a - m, i, j
        if rem_b == 0:
            i += 1
            rem_b = energy_b[i] if i < len(bids) else 0
        if rem_a == 0:
            j += 1
            rem_a = energy_a[j] if j < len(asks) else 0
    if volume == 0:
        return 0, 0, 0
    if rule == RULE_UNIFORM:
        price = (eff_b[last_b] + eff_a[last_a]) // 2
        assert eff_b[last_b] >= price >= eff_a[last_a]  # every matched order is individually rational
        return price, price, volume
    if last_b == 0 or last_a == 0:
        return 0, 0, 0
    assert eff_b[last_b - 1] >= eff_b[last_b] >= eff_a[last_a] >= eff_a[last_a - 1]  # rational, budget balanced
    return eff_b[last_b], eff_a[last_a], min(sum(energy_b[:last_b]), sum(energy_a[:last_a]))
