"""The keeper's side of the call market, off chain: the clear's arguments from the events, each order's fill under
both rules, payments and the market's budget, and the welfare optimum as a linear programme.

Units as in the model: prices [micro-coin/kWh], energy [Wh], money [micro-coin] (= price x energy / 1000; buyers
round up, sellers down, per order), welfare [micro-coin/kWh x Wh] (integers, 1,000 x micro-coins).
Pure: the model, the kernel, numpy and scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from gridchain.errors import InputError
from gridchain.market.model import (
    FLAG,
    MASK15,
    RULE_UNIFORM,
    Committed,
    Marks,
    Order,
    Revealed,
    digest,
    effective_price,
    encode_marks,
    fee,
    pack,
    packed16,
    unpack,
    valid_words,
)


def pack16(values: list[int]) -> list[int]:
    """16-bit entries packed low to high, 16 per uint256 word."""
    words = [0] * ((len(values) + 15) // 16)
    for t, v in enumerate(values):
        words[t // 16] |= v << (16 * (t % 16))
    return words


def unpack16(words: list[int], n: int) -> list[int]:
    """The first n 16-bit entries of a packed list (padding beyond them ignored)."""
    return [packed16(words, t) for t in range(n)]


@dataclass(frozen=True)
class ClearArgs:
    """The arguments of `clear(interval, commitments, orders, refs, mismatched, marks)` after the interval, and what
    the keeper knows beside them."""

    commitments: list[int]  # 192-bit digests, commit order
    orders: list[int]
    refs: list[int]
    mismatched: list[int]  # digests
    marks: int
    valid: list[bool]  # per reveal: does it take part (not an argument; what the contract will find)
    bid_positions: list[int]  # the valid bids' reveal positions in rank order (not arguments)
    ask_positions: list[int]

    def as_args(self) -> tuple:
        return (self.commitments, self.orders, self.refs, self.mismatched, self.marks)

    @property
    def valid_words(self) -> list[int]:
        return valid_words(self.valid)

    @property
    def book(self) -> tuple[list[int], list[int], int]:
        """(orders, valid bitmap, marks): what the clear hashes into `book` and settlement hands back."""
        return (self.orders, self.valid_words, self.marks)


def _in_order(events: list, name: str) -> list:
    ordered = sorted(events, key=lambda e: e.index)
    for n, event in enumerate(ordered):
        if event.index != n:
            raise InputError(f"{name}[{n}].index", f"events missing or repeated: expected {n}, got {event.index}")
    return ordered


def prepare_clear(
    market: str, interval: int, committed: list[Committed], revealed: list[Revealed], zone_fees: int, rule: int
) -> ClearArgs:
    """The clear's arguments from interval `interval`'s Committed and Revealed events of market `market`.

    A reveal is flagged (void) when its index names no commitment or its commitment differs from the one there;
    of the unflagged reveals of one commitment the first counts. Bids are sorted by effective price descending,
    asks ascending, ties by reveal position. A reveal whose commit index does not fit the refs' 15 bits (the
    contract refuses an index of 2,048 or more at the reveal) cannot be handed in: InputError naming it. The marks
    name the walk's last pair and, under `rule`, each side's last filled order (`marks_of`).
    """
    for name, events in (("committed", committed), ("revealed", revealed)):
        for n, e in enumerate(events):
            if e.interval != interval:
                raise InputError(f"{name}[{n}].interval", f"is {e.interval}, not {interval}")
    full = [e.commitment for e in _in_order(committed, "committed")]
    orders, refs16, mismatched, valid = [], [], [], []
    used: set[int] = set()
    for r, e in enumerate(_in_order(revealed, "revealed")):
        i = e.commit_index
        if i > MASK15:
            raise InputError(f"revealed[{r}].commit_index", f"{i} does not fit 15 bits: the clear cannot name it")
        flagged = i >= len(full) or digest(full[i]) != digest(e.commitment)
        orders.append(e.order)
        refs16.append(i | (FLAG if flagged else 0))
        if flagged:
            mismatched.append(digest(e.commitment))
        valid.append(not flagged and i not in used)
        used.update(() if flagged else (i,))
    bids = [r for r, w in enumerate(orders) if valid[r] and w & 1 == 0]
    asks = [r for r, w in enumerate(orders) if valid[r] and w & 1 == 1]
    bids.sort(key=lambda r: (-effective_price(orders[r], zone_fees), r))
    asks.sort(key=lambda r: (effective_price(orders[r], zone_fees), r))
    marks = marks_of(orders, bids, asks, zone_fees, rule)
    return ClearArgs([digest(c) for c in full], orders, pack16(refs16), mismatched, marks, valid, bids, asks)


def marks_of(orders: list[int], bids: list[int], asks: list[int], zone_fees: int, rule: int) -> int:
    """The clear's marks from the sorted positions: the walk's last pair (K, L), each side's last order with a
    positive fill under `rule` (B, A) and the energy ranked before those; 0 when the walk does not trade."""
    eff_b = [effective_price(orders[p], zone_fees) for p in bids]
    eff_a = [effective_price(orders[p], zone_fees) for p in asks]
    energy_b = [unpack(orders[p]).energy_wh for p in bids]
    energy_a = [unpack(orders[p]).energy_wh for p in asks]
    w = walk(eff_b, energy_b, eff_a, energy_a)
    if w.last_bid < 0:
        return 0
    result = fills(orders, bids, asks, zone_fees, rule)
    b = a = before_b = before_a = 0
    if result.volume_wh > 0:
        tb = max(t for t, p in enumerate(bids) if result.filled_wh[p] > 0)
        ta = max(t for t, p in enumerate(asks) if result.filled_wh[p] > 0)
        b, a, before_b, before_a = bids[tb], asks[ta], sum(energy_b[:tb]), sum(energy_a[:ta])
    return encode_marks(Marks(True, bids[w.last_bid], asks[w.last_ask], b, a, before_b, before_a))


# -- the walk and the fills ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Walk:
    """The efficient allocation of sorted books: fills per bid and per ask (in list order), the last filled
    bid K and ask L (-1: no trade)."""

    bid_fills: list[int]
    ask_fills: list[int]
    last_bid: int
    last_ask: int

    @property
    def volume_wh(self) -> int:
        return sum(self.bid_fills)


def walk(eff_bids: list[int], bid_energies_wh: list[int], eff_asks: list[int], ask_energies_wh: list[int]) -> Walk:
    """The clearing walk (what the clear's marks claim the end of) over bids sorted by effective price descending and
    asks ascending."""
    bid_fills, ask_fills = [0] * len(eff_bids), [0] * len(eff_asks)
    i = j = 0
    last_b = last_a = -1
    while i < len(eff_bids) and j < len(eff_asks) and eff_bids[i] >= eff_asks[j]:
        m = min(bid_energies_wh[i] - bid_fills[i], ask_energies_wh[j] - ask_fills[j])
        bid_fills[i] += m
        ask_fills[j] += m
        last_b, last_a = i, j
        done_b, done_a = bid_fills[i] == bid_energies_wh[i], ask_fills[j] == ask_energies_wh[j]
        i, j = i + done_b, j + done_a
    return Walk(bid_fills, ask_fills, last_b, last_a)


def _fill_up_to(energies_wh: list[int], total_wh: int) -> list[int]:
    """Fill the orders in list order until `total_wh` is reached."""
    out = []
    for e in energies_wh:
        out.append(min(e, total_wh))
        total_wh -= out[-1]
    return out


@dataclass(frozen=True)
class Fills:
    """A clearing's result: prices [micro-coin/kWh], volume [Wh], each reveal position's filled energy [Wh]."""

    buy_price: int
    sell_price: int
    volume_wh: int
    filled_wh: list[int]
    excluded: tuple[int, ...] = ()  # rule 1: the reveal positions of the excluded bid K and ask L


def fills(orders: list[int], bids: list[int], asks: list[int], zone_fees: int, rule: int) -> Fills:
    """Each order's fill under `rule` (0 uniform pay-as-clear, 1 trade reduction) from the sorted positions."""
    eff_b = [effective_price(orders[p], zone_fees) for p in bids]
    eff_a = [effective_price(orders[p], zone_fees) for p in asks]
    energy_b = [unpack(orders[p]).energy_wh for p in bids]
    energy_a = [unpack(orders[p]).energy_wh for p in asks]
    w = walk(eff_b, energy_b, eff_a, energy_a)
    filled = [0] * len(orders)
    none = Fills(0, 0, 0, filled)
    if w.volume_wh == 0:
        return none
    k, ell = w.last_bid, w.last_ask
    if rule == RULE_UNIFORM:
        price = (eff_b[k] + eff_a[ell]) // 2
        for p, q in zip(bids + asks, w.bid_fills + w.ask_fills):
            filled[p] = q
        return Fills(price, price, w.volume_wh, filled)
    if k == 0 or ell == 0:
        return none
    volume = min(sum(energy_b[:k]), sum(energy_a[:ell]))
    for p, q in zip(bids[:k] + asks[:ell], _fill_up_to(energy_b[:k], volume) + _fill_up_to(energy_a[:ell], volume)):
        filled[p] = q
    return Fills(eff_b[k], eff_a[ell], volume, filled, (bids[k], asks[ell]))


# -- money ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settlement:
    """Money per reveal position [micro-coin]: what a buyer pays (ceil) or a seller receives (floor); the totals.
    `fees` is the grid's share (each order's fee x fill / 1000, rounded down), `surplus` what the market keeps."""

    amounts: list[int]
    collected: int
    paid_out: int
    fees: int

    @property
    def surplus(self) -> int:
        return self.collected - self.paid_out - self.fees


def payments(orders: list[int], result: Fills, zone_fees: int) -> Settlement:
    """A buyer pays (buy_price + fee) per kWh, rounded up; a seller receives (sell_price - fee), rounded down."""
    amounts = [0] * len(orders)
    collected = paid_out = fee_milli = 0
    for p, q in enumerate(result.filled_wh):
        if q == 0:
            continue
        order = unpack(orders[p])
        f = fee(zone_fees, order.zone)
        fee_milli += f * q
        if order.is_bid:
            amounts[p] = -(-(result.buy_price + f) * q // 1000)
            collected += amounts[p]
        else:
            amounts[p] = (result.sell_price - f) * q // 1000
            paid_out += amounts[p]
    return Settlement(amounts, collected, paid_out, fee_milli // 1000)


# -- welfare -------------------------------------------------------------------------------------------------
def welfare(orders: list[Order], filled_wh: list[int], zone_fees: int) -> int:
    """Sum over bids of effective price x fill minus the same over asks [micro-coin/kWh x Wh]."""
    total = 0
    for order, q in zip(orders, filled_wh):
        eff = effective_price(pack(order), zone_fees)
        total += eff * q if order.is_bid else -eff * q
    return total


def lp_optimum(orders: list[Order], zone_fees: int) -> tuple[float, list[float]]:
    """The welfare optimum [micro-coin/kWh x Wh] and its allocation [Wh]: max welfare subject to equal bought and
    sold energy, 0 <= q <= energy (scipy's HiGHS)."""
    if not orders:
        return 0.0, []
    eff = np.array([effective_price(pack(o), zone_fees) for o in orders], dtype=float)
    sign = np.array([1.0 if o.is_bid else -1.0 for o in orders])
    result = linprog(
        -sign * eff,
        A_eq=sign.reshape(1, -1),
        b_eq=[0.0],
        bounds=[(0.0, float(o.energy_wh)) for o in orders],
        method="highs",
    )
    if not result.success:
        raise RuntimeError(f"linprog failed: {result.message}")
    return float(-result.fun), [float(x) for x in result.x]
