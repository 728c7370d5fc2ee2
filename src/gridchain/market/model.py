"""Twin of contracts/call_market.vy: the prosumers' sealed-bid call market, specification v1.

Per delivery interval k a trader commits keccak256(abi.encode(market, k, order, salt)), reveals the order's terms
and the salt in the reveal window, and anyone (the keeper) clears the interval by handing in every commitment,
every revealed order and the sorted bid and ask lists; the market checks them in O(n) against two hash chains and
stores one Clearing. No per-order storage: a ring of 256 packed words per phase (chain192 | count | tag).
Every method raises MarketError with the contract's reason where the contract reverts, and then changes nothing.

Units: prices [micro-coin/kWh] (uint64), zone fees [micro-coin/kWh] (32 bits per zone), energy [Wh] (uint24),
times [s]; effective prices: bid `price - fee` (0 if the fee is not below the price), ask `price + fee`.

Choices the specification leaves open (to reconcile with the contract at merge):
- constructor checks, in this order: `interval_s > 0` ("zero interval"), `1 <= horizon <= 128` ("horizon out of
  range"), `1 <= zones <= 8` ("zones out of range"), `rule in (0, 1)` ("unknown rule"), `reveal_s > 0` ("zero
  reveal window"), `gate_s + reveal_s < horizon * interval_s` ("windows exceed interval": otherwise no commit can
  ever be made; it also keeps interval k's reveals from touching the ring word of k - 256 while that interval can
  still be cleared). Fees of zones >= `zones` are not checked (they are never read).
- times are whole integers: `reveal_open(k)` may be negative here (every commit to such a k is "commit closed",
  every reveal is open); the contract must compare without underflow (`now + gate_s + reveal_s < k * interval_s`).
- reveal: `commit_index < 2048` ("commit index too large"), after the terms' checks: a ref carries 15 bits of it,
  so a larger index could never be replayed and would block the interval's clear.
- clear: `len(refs) == ceil(len(orders) / 16)` is checked after the commit chain ("list length"); running out of
  `mismatched` inside the loop is "mismatched count"; `len(bids) == ceil(n_bids / 16)` is checked before the
  bids, `len(asks) == ceil(n_asks / 16)` before the asks ("list length"); each list entry is checked for validity
  and then for its order against the previous entry, bids before asks; "orders missing" last.
- `Clearing.orders` is `len(orders)` (every revealed order, void ones included); `cleared(k)` is the marker.
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


def commit_link(chain: int, c: bytes) -> int:
    """The commit chain after `c`: chain192(abi.encode(uint256 chain, bytes32 c))."""
    return chain192(encode(["uint256", "bytes32"], [chain, c]))


def reveal_link(chain: int, commit_index: int, word: int, c: bytes) -> int:
    """The reveal chain after a reveal: chain192(abi.encode(uint256 chain, uint256 commit_index, uint256 order, c))."""
    return chain192(encode(["uint256", "uint256", "uint256", "bytes32"], [chain, commit_index, word, c]))


def book_hash(orders: list[int], bids: list[int], n_bids: int, asks: list[int], n_asks: int) -> bytes:
    """keccak256(abi.encode(orders, bids, n_bids, asks, n_asks)): what settlement replays the fills from."""
    types = ["uint256[]", "uint256[]", "uint256", "uint256[]", "uint256"]
    return keccak(encode(types, [orders, bids, n_bids, asks, n_asks]))


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
        commitments: list[bytes],
        orders: list[int],
        refs: list[int],
        mismatched: list[bytes],
        bids: list[int],
        n_bids: int,
        asks: list[int],
        n_asks: int,
        now: int,
    ) -> Cleared:
        """Verify the keeper's book of interval k in O(n), compute the prices and volume, store them once."""
        _check_abi(commitments, orders, refs, mismatched, bids, asks)
        p = self.params
        _fail(now >= p.reveal_close(k), "reveal not closed")
        _fail(now < p.start(k) + p.interval_s, "clear window closed")
        _fail(k not in self._clearings, "already cleared")
        chain, count = self.commit_state(k)
        link = 0
        for c in commitments:
            link = commit_link(link, c)
        _fail(link == chain and len(commitments) == count, "commit chain")
        valid = self._check_reveals(k, commitments, orders, refs, mismatched)
        bid_list, ask_list = _check_lists(orders, valid, bids, n_bids, asks, n_asks, p.zone_fees)
        buy_price, sell_price, volume_wh = clearing_prices(orders, bid_list, ask_list, p.zone_fees, p.rule)
        _assert_invariants(orders, bid_list, ask_list, p.zone_fees, buy_price, sell_price, volume_wh)
        book = book_hash(orders, bids, n_bids, asks, n_asks)
        self._clearings[k] = Clearing(buy_price, sell_price, volume_wh, len(orders), book)
        return Cleared(k, buy_price, sell_price, volume_wh, len(orders), book)

    def _check_reveals(
        self, k: int, commitments: list[bytes], orders: list[int], refs: list[int], mismatched: list[bytes]
    ) -> list[bool]:
        """Step 5: replay the reveal chain; a reveal is valid if it opens an unused commitment at its index."""
        _fail(len(refs) == words_for(len(orders)), "list length")
        used: set[int] = set()
        valid: list[bool] = []
        link, m = 0, 0
        for r, word in enumerate(orders):
            ref = packed16(refs, r)
            i = ref & MASK15
            if ref & FLAG:
                _fail(m < len(mismatched), "mismatched count")
                c = mismatched[m]
                m += 1
                if i < len(commitments):
                    _fail(c != commitments[i], "not a mismatch")
                valid.append(False)
            else:
                _fail(i < len(commitments), "commit index out of range")
                c = commitments[i]
                valid.append(i not in used)
                used.add(i)
            link = reveal_link(link, i, word, c)
        _fail(m == len(mismatched), "mismatched count")
        chain, count = self.reveal_state(k)
        _fail(link == chain and len(orders) == count, "reveal chain")
        return valid


def _read(word: int, k: int) -> tuple[int, int]:
    """A ring word's (chain, count) for interval k; a word tagged with another interval reads empty."""
    if word & MASK32 != k & MASK32:
        return 0, 0
    return word >> 64, (word >> 32) & MASK32


def _check_abi(
    commitments: list[bytes],
    orders: list[int],
    refs: list[int],
    mismatched: list[bytes],
    bids: list[int],
    asks: list[int],
) -> None:
    """The DynArray bounds the contract's ABI decoder enforces (a revert without reason there)."""
    bounds = ((commitments, MAX_ORDERS), (orders, MAX_ORDERS), (mismatched, MAX_ORDERS))
    bounds += ((refs, MAX_ORDERS // 16), (bids, MAX_ORDERS // 16), (asks, MAX_ORDERS // 16))
    if any(len(values) > bound for values, bound in bounds):
        raise ValueError("abi: a DynArray longer than its bound (the contract reverts without a reason)")


def _check_lists(
    orders: list[int], valid: list[bool], bids: list[int], n_bids: int, asks: list[int], n_asks: int, zone_fees: int
) -> tuple[list[int], list[int]]:
    """Step 6: the sorted bid and ask lists name every valid order once, on its side; their positions."""
    listed: set[int] = set()
    _fail(len(bids) == words_for(n_bids), "list length")
    bid_list = _check_side(orders, valid, listed, bids, n_bids, BUY, zone_fees)
    _fail(len(asks) == words_for(n_asks), "list length")
    ask_list = _check_side(orders, valid, listed, asks, n_asks, SELL, zone_fees)
    _fail(n_bids + n_asks == sum(valid), "orders missing")
    return bid_list, ask_list


def _check_side(
    orders: list[int], valid: list[bool], listed: set[int], words: list[int], n: int, side: int, zone_fees: int
) -> list[int]:
    name = "bid" if side == BUY else "ask"
    positions: list[int] = []
    for t in range(n):
        p = packed16(words, t)
        _fail(p < len(orders) and valid[p] and orders[p] & 1 == side and p not in listed, f"not a valid {name}")
        listed.add(p)
        if positions:
            q = positions[-1]
            eff_q, eff_p = effective_price(orders[q], zone_fees), effective_price(orders[p], zone_fees)
            better = eff_q > eff_p if side == BUY else eff_q < eff_p
            _fail(better or (eff_q == eff_p and q < p), f"{name}s not sorted")
        positions.append(p)
    return positions


def clearing_prices(
    orders: list[int], bids: list[int], asks: list[int], zone_fees: int, rule: int
) -> tuple[int, int, int]:
    """Step 8 as the contract runs it: (buy_price, sell_price, volume_wh); (0, 0, 0) when nothing trades."""
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


def _assert_invariants(
    orders: list[int], bids: list[int], asks: list[int], zone_fees: int, buy: int, sell: int, volume_wh: int
) -> None:
    """The contract's asserted invariants: volume within both sides' energy, weak budget balance."""
    total_b = sum(unpack(orders[p]).energy_wh for p in bids)
    total_a = sum(unpack(orders[p]).energy_wh for p in asks)
    assert volume_wh <= min(total_b, total_a)
    assert buy >= sell
    assert buy <= MASK64 and volume_wh <= MASK64
