"""A test-side keeper for contracts/call_market.vy: the order word, the commitment, and the clear's arguments built
from the Committed and Revealed events, as the spec's `prepare_clear` does (replaced by
`gridchain.market.clearing.prepare_clear` at merge)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak, to_canonical_address

MASK15 = 2**15 - 1
MASK24 = 2**24 - 1
MASK32 = 2**32 - 1
MASK64 = 2**64 - 1
FLAG = 2**15
BID, ASK = 0, 1


def terms(price: int, energy_wh: int, zone: int = 0, side: int = BID) -> int:
    """The low 96 bits of an order word."""
    return (price << 32) | (energy_wh << 8) | (zone << 1) | side


def order_word(trader: str, order_terms: int) -> int:
    return (int.from_bytes(to_canonical_address(str(trader)), "big") << 96) | order_terms


def commitment(market: str, interval: int, order: int, salt: bytes) -> bytes:
    """keccak256(abi.encode(address market, uint256 interval, uint256 order, bytes32 salt))."""
    return keccak(encode(["address", "uint256", "uint256", "bytes32"], [str(market), interval, order, salt]))


def effective_price(order: int, zone_fees: int) -> int:
    price, zone = (order >> 32) & MASK64, (order >> 1) & 127
    fee = (zone_fees >> (32 * zone)) & MASK32
    if order & 1 == BID:
        return price - fee if price > fee else 0
    return price + fee


def pack16(values: list[int]) -> list[int]:
    """16-bit entries packed low to high, 16 to a word."""
    words = [0] * ((len(values) + 15) // 16)
    for i, v in enumerate(values):
        words[i // 16] |= v << (16 * (i % 16))
    return words


@dataclass
class ClearArgs:
    interval: int
    commitments: list[bytes]
    orders: list[int]
    refs: list[int]
    mismatched: list[bytes]
    bids: list[int]
    n_bids: int
    asks: list[int]
    n_asks: int
    valid: list[int]  # reveal positions of the valid orders (not an argument)

    def args(self) -> tuple:
        return (
            self.interval,
            self.commitments,
            self.orders,
            self.refs,
            self.mismatched,
            self.bids,
            self.n_bids,
            self.asks,
            self.n_asks,
        )


def prepare_clear(interval: int, committed: list[dict], revealed: list[dict], zone_fees: int) -> ClearArgs:
    """The clear's arguments from the interval's events (`index`, `commitment` / `index`, `commit_index`,
    `order`, `commitment`, each in event order): a reveal is flagged when it does not open the commitment it
    names, valid when it does and that commitment is not yet opened; the valid orders sorted by the rule."""
    commitments = [bytes(e["commitment"]) for e in committed]
    refs, mismatched, valid, used = [], [], [], set()
    for r, e in enumerate(revealed):
        i, c = e["commit_index"], bytes(e["commitment"])
        if i >= len(commitments) or commitments[i] != c:
            refs.append(FLAG | (i & MASK15))
            mismatched.append(c)
        else:
            refs.append(i)
            if i not in used:
                used.add(i)
                valid.append(r)
    orders = [e["order"] for e in revealed]
    bids = sorted((p for p in valid if orders[p] & 1 == BID), key=lambda p: (-effective_price(orders[p], zone_fees), p))
    asks = sorted((p for p in valid if orders[p] & 1 == ASK), key=lambda p: (effective_price(orders[p], zone_fees), p))
    return ClearArgs(
        interval, commitments, orders, pack16(refs), mismatched, pack16(bids), len(bids), pack16(asks), len(asks), valid
    )


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
        h = int.from_bytes(keccak(encode(["uint256", "bytes32"], [h, bytes(e["commitment"])])), "big") >> 64
    commit_word = (h << 64) | (len(committed) << 32) | (interval & MASK32)
    h = 0
    for e in revealed:
        values = [h, e["commit_index"], e["order"], bytes(e["commitment"])]
        h = int.from_bytes(keccak(encode(["uint256", "uint256", "uint256", "bytes32"], values)), "big") >> 64
    return commit_word, (h << 64) | (len(revealed) << 32) | (interval & MASK32)


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
