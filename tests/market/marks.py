"""Hostile marks for the clear's tests: any field set on its own (`marks`, `with_fields`, no zeroing of a word
without TRADED), and every change of the keeper's honest marks a dishonest keeper might try (`perturbations`):
each field +-1, each position field moved to every reveal position and one past the last, TRADED flipped, the
reserved bits set, the word zeroed; and the moves along the ranking (`rank_moves`): K, L, B or A, or the pair
(K, L), one rank earlier or later on its side. Pure; used by the twin's, the contract's and the differential
tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from gridchain.market.model import TRADED, Marks, decode_marks

POSITIONS = ("k", "l", "b", "a")
ENERGIES = ("before_b", "before_a")
RESERVED = (65, 80, 95, 192, 224, 255)  # bits no field owns


def marks(k=0, l=0, b=0, a=0, before_b=0, before_a=0, traded=True, extra=0) -> int:  # noqa: E741
    """A marks word from its fields as given (`encode_marks` would zero a word without TRADED); `extra` is OR-ed
    in (reserved bits)."""
    word = k | (l << 16) | (b << 32) | (a << 48) | (before_b << 96) | (before_a << 144) | extra
    return word | TRADED if traded else word


def encode(m: Marks) -> int:
    return marks(m.k, m.l, m.b, m.a, m.before_b, m.before_a, m.traded)


def with_fields(word: int, **change) -> int:
    """`word` with some fields replaced (k, l, b, a, before_b, before_a, traded)."""
    return encode(dataclasses.replace(decode_marks(word), **change))


def perturbations(honest: int, n_orders: int) -> Iterator[tuple[str, int]]:
    """(label, marks) for every change of `honest` listed in the module docstring, each different from it
    (duplicates dropped): the clear must refuse every one, since the marks it accepts are unique."""
    seen = {honest}
    m = decode_marks(honest)

    def once(label: str, word: int) -> Iterator[tuple[str, int]]:
        if word not in seen and 0 <= word < 2**256:
            seen.add(word)
            yield label, word

    for name in POSITIONS + ENERGIES:
        value = getattr(m, name)
        for d in (-1, 1):
            if value + d >= 0:
                yield from once(f"{name}{d:+d}", with_fields(honest, **{name: value + d}))
    for name in POSITIONS:
        for r in range(n_orders + 1):
            yield from once(f"{name}={r}", with_fields(honest, **{name: r}))
    yield from once("traded flipped", honest ^ TRADED)
    yield from once("zero", 0)
    for bit in RESERVED:
        yield from once(f"bit {bit}", honest | (1 << bit))
    if not m.traded:  # a claimed walk on a book that does not trade: every pair
        for k in range(n_orders):
            for ell in range(n_orders):
                yield from once(f"pair {k},{ell}", marks(k, ell))


def rank_moves(honest: int, bid_positions: list[int], ask_positions: list[int]) -> Iterator[tuple[str, int]]:
    """(label, marks): each of K, L, B, A one rank earlier or later among its side's valid orders (`bid_positions`,
    `ask_positions` in rank order), and K with L together; nothing when the honest marks claim no trade."""
    m = decode_marks(honest)
    if not m.traded:
        return
    sides = {"k": bid_positions, "l": ask_positions, "b": bid_positions, "a": ask_positions}
    for name, ranked in sides.items():
        t = ranked.index(getattr(m, name)) if getattr(m, name) in ranked else None
        for d in (-1, 1):
            if t is not None and 0 <= t + d < len(ranked):
                yield f"{name} rank{d:+d}", with_fields(honest, **{name: ranked[t + d]})
    tk, tl = bid_positions.index(m.k), ask_positions.index(m.l)
    for d in (-1, 1):
        if 0 <= tk + d < len(bid_positions) and 0 <= tl + d < len(ask_positions):
            yield f"pair rank{d:+d}", with_fields(honest, k=bid_positions[tk + d], l=ask_positions[tl + d])
