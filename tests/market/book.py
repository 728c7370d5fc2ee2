"""The contract tests' keeper: the clear's arguments from the Committed and Revealed events as boa returns them
(dicts), built by `gridchain.market.clearing.prepare_clear`, in a mutable form that a test can tamper with; plus
random books and the ring words they leave (to seed storage in the gas tests)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_canonical_address

from gridchain.market import clearing
from gridchain.market.model import (
    FLAG,
    MASK15,
    MASK24,
    MASK32,
    MASK64,
    Committed,
    Revealed,
    commit_link,
    effective_price,
    reveal_link,
    ring_word,
)
from gridchain.market.model import commitment as _commitment

__all__ = ["FLAG", "MASK15", "MASK24", "MASK32", "MASK64", "effective_price"]
BID, ASK = 0, 1
pack16 = clearing.pack16


def terms(price: int, energy_wh: int, zone: int = 0, side: int = BID) -> int:
    """The low 96 bits of an order word."""
    return (price << 32) | (energy_wh << 8) | (zone << 1) | side


def order_word(trader: str, order_terms: int) -> int:
    return (int.from_bytes(to_canonical_address(str(trader)), "big") << 96) | order_terms


def commitment(market: str, interval: int, order: int, salt: bytes) -> bytes:
    """keccak256(abi.encode(address market, uint256 interval, uint256 order, bytes32 salt))."""
    return _commitment(str(market), interval, order, salt)


@dataclass
class ClearArgs:
    """`clear`'s arguments (digests as ints) and what the keeper knows beside them, mutable for tampering."""

    interval: int
    commitments: list[int]
    orders: list[int]
    refs: list[int]
    mismatched: list[int]
    marks: int
    valid: list[int]  # reveal positions of the valid orders (not an argument)
    bid_positions: list[int]  # the valid bids' reveal positions in rank order (not an argument)
    ask_positions: list[int]

    def args(self) -> tuple:
        return (self.interval, self.commitments, self.orders, self.refs, self.mismatched, self.marks)


def prepare_clear(
    interval: int, committed: list[dict], revealed: list[dict], zone_fees: int, rule: int = 0, market: str = ""
) -> ClearArgs:
    """`gridchain.market.clearing.prepare_clear` on boa's event dicts."""
    events_c = [Committed(interval, e["index"], bytes(e["commitment"])) for e in committed]
    events_r = [Revealed(interval, e["index"], e["commit_index"], e["order"], bytes(e["commitment"])) for e in revealed]
    a = clearing.prepare_clear(market, interval, events_c, events_r, zone_fees, rule)
    valid = [r for r, ok in enumerate(a.valid) if ok]
    return ClearArgs(interval, *a.as_args(), valid, a.bid_positions, a.ask_positions)


def random_orders(traders: list[str], n: int, seed: int, zones: int = 2) -> list[tuple[str, int, bytes]]:
    """n (trader, terms, salt): prices 100,000..400,000 micro-coins per kWh, 500..10,000 Wh, random zone and
    side, traders in turn; fixed by `seed`."""
    import random

    rng = random.Random(seed)
    return [
        (
            traders[i % len(traders)],
            terms(rng.randrange(100_000, 400_000), rng.randrange(500, 10_000), rng.randrange(zones), rng.randrange(2)),
            rng.randbytes(32),
        )
        for i in range(n)
    ]


def chain_words(interval: int, committed: list[dict], revealed: list[dict]) -> tuple[int, int]:
    """The commit and reveal ring words that these events leave (to seed a contract's storage in gas tests)."""
    h = 0
    for e in committed:
        h = commit_link(h, bytes(e["commitment"]))
    commit_word = ring_word(h, len(committed), interval)
    h = 0
    for e in revealed:
        h = reveal_link(h, e["commit_index"], e["order"], bytes(e["commitment"]))
    return commit_word, ring_word(h, len(revealed), interval)


def synthetic_events(market: str, interval: int, orders: list[tuple[str, int, bytes]]) -> tuple[list, list]:
    """The Committed and Revealed events of `orders` committed in turn and revealed in the same order, each
    opening its own commitment (every order valid)."""
    committed, revealed = [], []
    for i, (trader, t, salt) in enumerate(orders):
        order = order_word(trader, t)
        c = commitment(market, interval, order, salt)
        committed.append({"index": i, "commitment": c})
        revealed.append({"index": i, "commit_index": i, "order": order, "commitment": c})
    return committed, revealed
