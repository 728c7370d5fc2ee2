"""What a PETCON auction commits on chain: the settlement entries, the record behind them, and their digest.

The LAG committee attests one digest per auction (`lag_committee.attest(kind, round, digest, ...)` with
`kind = keccak256("petcon.result")` and `round` the auction's id); the escrow contract settles each entry
against what the charging pole's meter recorded; `gridchain market verify` recomputes the digest from the
record and checks the record itself (constraints, budget balance, the final round's KKT conditions).

An entry is what one PHEV owes or is owed, in integers (1 coin = $1, 6 decimals: micro-coins):
    pseudonym     the PHEV's one-auction wallet address (unlinkable: paid for with a blind token);
    pole          the address of the charging pole's meter it is plugged into (a meter in `metering.vy`);
    role          0 buyer (charging), 1 seller (discharging);
    energy_wh     buyer: what it takes at the pole, round(1000 sum_j c_ij); seller: what it discharges,
                  round(1000 sum_i c_ij / rho) [Wh];
    amount_micro  buyer: its payment, ceil(1e6 sum_j b_ij); seller: its reward,
                  floor(1e6 (sum_i s_ji^2 / (4 l1) + r_min_j)) [micro-coins]. Rounding the buyers up and the
                  sellers down keeps the integers weakly budget balanced whenever the dollars are.

digest = keccak256(abi.encode(lot, round, first_interval, intervals, record_hash, entries)) with entries as
`(address,address,uint256,uint256,uint256)[]` (Vyper: `abi_encode(lot, round, first, n, record, entries)` of a
`DynArray[Entry, MAX_ENTRIES]`); `first_interval` is the delivery window's first 15-minute interval (unix
seconds // 900) and `intervals` its length; `record_hash` is keccak256 of the record's canonical JSON
(`canonical_json`: sorted keys, no spaces, floats as Python's shortest round-trip repr).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from gridchain.market.petcon.model import AuctionRun, Market, payments

KIND = "petcon.result"  # the committee's kind: keccak256 of this name (`gridchain.committee.kind_of`)
BUYER, SELLER = 0, 1
MICRO = 10**6  # micro-coins per coin ($1)
WH_PER_KWH = 1000
INTERVAL_S = 900
ENTRY_TYPE = "(address,address,uint256,uint256,uint256)[]"


@dataclass(frozen=True)
class Entry:
    """One PHEV's obligation in an auction's result (module docstring: fields and units)."""

    pseudonym: str
    pole: str
    role: int
    energy_wh: int
    amount_micro: int

    def as_tuple(self) -> tuple[str, str, int, int, int]:
        return (self.pseudonym, self.pole, self.role, self.energy_wh, self.amount_micro)


@dataclass(frozen=True)
class Result:
    """An auction's committed outcome: where and when it is delivered, the record's hash and the entries."""

    lot: int
    round: int
    first_interval: int
    intervals: int
    record_hash: bytes
    entries: tuple[Entry, ...]

    def encoded(self) -> bytes:
        """abi.encode(lot, round, first_interval, intervals, record_hash, entries)."""
        return encode(
            ["uint256", "uint256", "uint256", "uint256", "bytes32", ENTRY_TYPE],
            [
                self.lot,
                self.round,
                self.first_interval,
                self.intervals,
                self.record_hash,
                [e.as_tuple() for e in self.entries],
            ],
        )

    def digest(self) -> bytes:
        """What the committee attests for `round`."""
        return keccak(self.encoded())


def canonical_json(record: dict[str, Any]) -> bytes:
    """The record's one byte form: sorted keys, no whitespace, floats as repr (round-trip exact)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def record_hash(record: dict[str, Any]) -> bytes:
    return keccak(canonical_json(record))


def record_of(m: Market, run: AuctionRun) -> dict[str, Any]:
    """Everything the auctioneer knew and decided in the final round, as JSON-ready lists: the bounds the PHEVs
    disclosed, the final bids, the allocation and its prices. `market verify` checks this."""
    final = run.final
    if final is None or run.b_usd is None or run.s_usd_per_kwh is None:
        raise ValueError("run: the auction has no final round")
    return {
        "c_min_kwh": m.c_min_kwh.tolist(),
        "c_max_kwh": m.c_max_kwh.tolist(),
        "d_max_kwh": m.d_max_kwh.tolist(),
        "r_min_usd": m.r_min_usd.tolist(),
        "l1": m.l1,
        "l2": m.l2,
        "eta": m.eta,
        "rho": m.rho,
        "b_usd": run.b_usd.tolist(),
        "s_usd_per_kwh": run.s_usd_per_kwh.tolist(),
        "c_kwh": final.c_kwh.tolist(),
        "lam": final.lam.tolist(),
        "mu": final.mu.tolist(),
        "rounds": run.rounds,
        "outcome": run.outcome,
    }


def entries_of(record: dict[str, Any], buyers: list[tuple[str, str]], sellers: list[tuple[str, str]]) -> tuple:
    """The settlement entries of a record; `buyers` and `sellers` are (pseudonym, pole) in the record's order."""
    c = np.asarray(record["c_kwh"], dtype=float)
    b = np.asarray(record["b_usd"], dtype=float)
    s = np.asarray(record["s_usd_per_kwh"], dtype=float)
    if c.shape != (len(buyers), len(sellers)):
        raise ValueError(f"c_kwh: shape {c.shape} is not {len(buyers)} buyers x {len(sellers)} sellers")
    r_min = np.asarray(record["r_min_usd"], dtype=float)
    pay = payments(b)
    reward = (s**2).sum(axis=0) / (4 * record["l1"]) + r_min
    out = [
        Entry(_address(p), _address(pole), BUYER, round(WH_PER_KWH * float(c[i].sum())), math.ceil(MICRO * pay[i]))
        for i, (p, pole) in enumerate(buyers)
    ]
    out += [
        Entry(
            _address(p),
            _address(pole),
            SELLER,
            round(WH_PER_KWH * float(c[:, j].sum()) / record["rho"]),
            math.floor(MICRO * reward[j]),
        )
        for j, (p, pole) in enumerate(sellers)
    ]
    return tuple(out)


def result_of(
    record: dict[str, Any],
    lot: int,
    round: int,
    first_interval: int,
    intervals: int,
    buyers: list[tuple[str, str]],
    sellers: list[tuple[str, str]],
) -> Result:
    """The committed result of a record: its hash and its entries."""
    return Result(lot, round, first_interval, intervals, record_hash(record), entries_of(record, buyers, sellers))


def _address(value: str) -> str:
    return to_checksum_address(value)


__all__ = [
    "BUYER",
    "ENTRY_TYPE",
    "INTERVAL_S",
    "KIND",
    "MICRO",
    "SELLER",
    "Entry",
    "Result",
    "canonical_json",
    "entries_of",
    "record_hash",
    "record_of",
    "result_of",
]
