"""Seeded order books for the market gas benchmarks: the call market's and the on-chain-sorting baseline's.

A book of n orders has n // 2 bids and n - n // 2 asks in a shuffled submission order; prices uniform in
250,000 micro-coins per kWh +- 30 % (175,000 .. 325,000), energies uniform in 100 .. 5,000 Wh, zones 0 and 1.
The same (n, seed) always gives the same book, on every machine (numpy's PCG64 from the seed sequence
[seed, n]); the generator is the market's gas-report section's, `gridchain.market.gas.make_book`, so that both
markets are measured on the same books. `terms` encodes an order's low 96 bits as the call market's order word
has them (docs/market.md).
"""

from __future__ import annotations

from gridchain.market.gas import BOOK_SEED as SEED
from gridchain.market.gas import ENERGY_WH, PRICE_MID, PRICE_SPREAD, ZONES, make_book
from gridchain.market.gas import BookOrder as Order

__all__ = ["ENERGY_WH", "PRICE_MID", "PRICE_SPREAD", "SEED", "ZONES", "Order", "make_book"]
BID, ASK = 0, 1  # the order word's bit 0: 0 = buy, 1 = sell


def terms(order: Order) -> int:
    """The order's low 96 bits: price << 32 | energy_wh << 8 | zone << 1 | side."""
    return order.price_per_kwh << 32 | order.energy_wh << 8 | order.zone << 1 | order.side


def efficient_walk(book: list[Order]) -> tuple[int, int, int]:
    """The merit-order walk without fees: bids by price descending meet asks by price ascending while the bid's
    price >= the ask's (trades at equal prices included). Returns (volume [Wh], price of the last bid with a
    fill, price of the last ask with a fill); (0, 0, 0) without trade. The volume is the largest of a
    welfare-maximising allocation; uniform pay-as-clear prices are the mean of the two last prices."""
    bids = sorted((o.price_per_kwh, o.energy_wh) for o in book if o.side == BID)[::-1]
    asks = sorted((o.price_per_kwh, o.energy_wh) for o in book if o.side == ASK)
    i = j = volume = 0
    last = (0, 0)
    rem_b, rem_a = (bids[0][1] if bids else 0), (asks[0][1] if asks else 0)
    while i < len(bids) and j < len(asks) and bids[i][0] >= asks[j][0]:
        m = min(rem_b, rem_a)
        volume, rem_b, rem_a, last = volume + m, rem_b - m, rem_a - m, (bids[i][0], asks[j][0])
        if rem_b == 0:
            i += 1
            rem_b = bids[i][1] if i < len(bids) else 0
        if rem_a == 0:
            j += 1
            rem_a = asks[j][1] if j < len(asks) else 0
    return volume, *last
