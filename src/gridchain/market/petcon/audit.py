"""Anyone's check of a committed PETCON result, off chain: the document a LAG publishes, read back and audited.

A document (JSON, `document_of`) holds the auction's id and delivery window, the record (`result.record_of`'s
shape), the PHEVs' (pseudonym, pole) in the record's order, the settlement entries and the digest. `audit`
finds every violation of:

- constraints: bids b > 0 and s > 0, finite; the allocation finite, >= 0, within each buyer's [c_min, c_max] / eta
  and each seller's rho D_max (relative tolerance model.KKT_TOL);
- weak budget balance: in dollars (sum of payments >= sum of rewards) and in the entries' integers;
- optimality of the final round: its KKT conditions for the final bids (`model.check_round`);
- the entries: those the record gives (`result.entries_of`) and the ones stated, field by field; no pseudonym
  and no pole in two entries (the escrow lets a pseudonym withdraw once its first entry is settled, so a second
  entry of it would go unpaid; a pole's readings pay one entry per interval, so a second would be refused);
- the digest: the stated digest against the one computed from the stated fields and entries.

What does not parse (a missing field, a value of the wrong type or shape) raises InputError naming the field.
The auctioneer never learns the buyers' tau and STO, so the check uses no welfare: a Market is rebuilt with
them as NaN, which `check_round` never reads.

Pure (numpy, eth-abi, the model and the result format).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gridchain.checks import check_min_int, parse_address, parse_hex_bytes, show
from gridchain.errors import InputError
from gridchain.market.petcon import model
from gridchain.market.petcon.result import BUYER, KIND, SELLER, Entry, Result, entries_of, record_hash

ARRAYS_1D = ("c_min_kwh", "c_max_kwh", "d_max_kwh", "r_min_usd", "lam", "mu")
ARRAYS_2D = ("b_usd", "s_usd_per_kwh", "c_kwh")
SCALARS = ("l1", "l2", "eta", "rho")
ENTRY_FIELDS = ("pseudonym", "pole", "role", "energy_wh", "amount_micro")


def document_of(result: Result, record: dict[str, Any], buyers: list, sellers: list) -> dict[str, Any]:
    """The published document of a result: what `audit` and `gridchain market verify` read."""
    return {
        "kind": KIND,
        "lot": result.lot,
        "round": result.round,
        "first_interval": result.first_interval,
        "intervals": result.intervals,
        "record": record,
        "buyers": [list(p) for p in buyers],
        "sellers": [list(p) for p in sellers],
        "entries": [dict(zip(ENTRY_FIELDS, e.as_tuple(), strict=True)) for e in result.entries],
        "digest": "0x" + result.digest().hex(),
    }


def _array(record: dict, name: str, ndim: int) -> np.ndarray:
    if name not in record:
        raise InputError(f"record.{name}", "missing")
    try:
        value = np.asarray(record[name], dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"record.{name}", f"{show(record[name])[:60]} is not a list of numbers") from None
    if value.ndim != ndim:
        raise InputError(f"record.{name}", f"expected {ndim} dimension(s), got {value.ndim}")
    return value


def _scalar(record: dict, name: str) -> float:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise InputError(f"record.{name}", f"{show(value)} is not a positive number")
    return float(value)


def parse_record(record: object) -> tuple[model.Market, dict[str, np.ndarray]]:
    """The record's market (tau and STO unknown: NaN) and its arrays, shapes checked; InputError naming the field."""
    if not isinstance(record, dict):
        raise InputError("record", "expected a JSON object")
    arrays = {name: _array(record, name, 1) for name in ARRAYS_1D} | {n: _array(record, n, 2) for n in ARRAYS_2D}
    i, j = len(arrays["c_min_kwh"]), len(arrays["d_max_kwh"])
    expected = {"c_max_kwh": (i,), "r_min_usd": (j,), "lam": (i,), "mu": (j,)} | {n: (i, j) for n in ARRAYS_2D}
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise InputError(f"record.{name}", f"shape {arrays[name].shape} is not {shape} ({i} buyers, {j} sellers)")
    l1, l2, eta, rho = (_scalar(record, name) for name in SCALARS)
    m = model.Market(
        c_min_kwh=arrays["c_min_kwh"],
        c_max_kwh=arrays["c_max_kwh"],
        sto=np.full(i, np.nan),
        d_max_kwh=arrays["d_max_kwh"],
        r_min_usd=arrays["r_min_usd"],
        tau=math.nan,
        l1=l1,
        l2=l2,
        eta=eta,
        rho=rho,
    )
    return m, arrays


def _parties(doc: dict, name: str, count: int) -> list[tuple[str, str]]:
    value = doc.get(name)
    if not isinstance(value, list) or len(value) != count:
        raise InputError(name, f"expected a list of {count} [pseudonym, pole] pairs, got {show(value)[:60]}")
    out = []
    for k, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2:
            raise InputError(f"{name}[{k}]", f"{show(pair)[:60]} is not a [pseudonym, pole] pair")
        out.append((parse_address(f"{name}[{k}][0]", pair[0]), parse_address(f"{name}[{k}][1]", pair[1])))
    return out


def _entry(k: int, value: object) -> Entry:
    if not isinstance(value, dict):
        raise InputError(f"entries[{k}]", "expected a JSON object")
    missing = [f for f in ENTRY_FIELDS if f not in value]
    if missing:
        raise InputError(f"entries[{k}].{missing[0]}", "missing")
    return Entry(
        parse_address(f"entries[{k}].pseudonym", value["pseudonym"]),
        parse_address(f"entries[{k}].pole", value["pole"]),
        check_min_int(f"entries[{k}].role", value["role"], 0),
        check_min_int(f"entries[{k}].energy_wh", value["energy_wh"], 0),
        check_min_int(f"entries[{k}].amount_micro", value["amount_micro"], 0),
    )


def parse_document(doc: object) -> tuple[model.Market, dict[str, np.ndarray], Result, bytes, list, list]:
    """(market, arrays, the stated result, the stated digest, buyers, sellers) of a document."""
    if not isinstance(doc, dict):
        raise InputError("document", "expected a JSON object")
    if doc.get("kind") != KIND:
        raise InputError("kind", f"{show(doc.get('kind'))} is not {KIND!r}")
    m, arrays = parse_record(doc.get("record"))
    i, j = m.shape
    buyers, sellers = _parties(doc, "buyers", i), _parties(doc, "sellers", j)
    ids = [check_min_int(name, doc.get(name), 0) for name in ("lot", "round", "first_interval", "intervals")]
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise InputError("entries", f"{show(entries)[:60]} is not a list")
    try:
        hashed = record_hash(doc["record"])
    except ValueError:
        raise InputError("record", "holds a number JSON cannot state (NaN or infinity)") from None
    stated = Result(*ids, hashed, tuple(_entry(k, e) for k, e in enumerate(entries)))
    return m, arrays, stated, parse_hex_bytes("digest", doc.get("digest"), 32), buyers, sellers


def _constraints(a: dict[str, np.ndarray]) -> list[str]:
    out = [f"{name}: every bid must be finite and > 0" for name in ("b_usd", "s_usd_per_kwh") if not _positive(a[name])]
    if not np.all(np.isfinite(a["lam"])) or not np.all(np.isfinite(a["mu"])):
        out.append("prices: lam and mu must be finite")
    return out


def _positive(x: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(x)) and np.all(x > 0))


def _budget(m: model.Market, a: dict[str, np.ndarray], stated: Result) -> list[str]:
    out = []
    surplus = model.budget_surplus(m, a["b_usd"], a["s_usd_per_kwh"])
    if not surplus >= 0:
        out.append(f"budget: the buyers pay {surplus:.9g} $ less than the sellers receive")
    paid = sum(e.amount_micro for e in stated.entries if e.role == BUYER)
    received = sum(e.amount_micro for e in stated.entries if e.role == SELLER)
    if paid < received:
        out.append(f"budget: entries pay {paid} micro-coins < {received} received")
    return out


def _entries(stated: Result, given: tuple[Entry, ...]) -> list[str]:
    if len(stated.entries) != len(given):
        return [f"entries: {len(stated.entries)} stated, the record gives {len(given)}"]
    out = []
    for k, (s, g) in enumerate(zip(stated.entries, given, strict=True)):
        for name, x, y in zip(ENTRY_FIELDS, s.as_tuple(), g.as_tuple(), strict=True):
            if x != y:
                out.append(f"entries[{k}].{name}: states {x}, the record gives {y}")
    return out


def _unique(stated: Result) -> list[str]:
    """A pseudonym or a pole named by two entries (addresses compared case-insensitively)."""
    out = []
    for name in ("pseudonym", "pole"):
        first: dict[str, int] = {}
        for k, e in enumerate(stated.entries):
            key = getattr(e, name).lower()
            if key in first:
                out.append(f"entries[{k}].{name}: {getattr(e, name)} is also entries[{first[key]}]'s")
            else:
                first[key] = k
    return out


def audit(doc: object) -> list[str]:
    """Every violation in a published document (module docstring); empty: it holds. InputError if it does not
    parse."""
    m, a, stated, digest, buyers, sellers = parse_document(doc)
    out = _constraints(a)
    if not out:
        out += model.check_round(m, a["b_usd"], a["s_usd_per_kwh"], a["c_kwh"], a["lam"], a["mu"])
        out += _budget(m, a, stated)
        out += _entries(stated, entries_of(doc["record"], buyers, sellers))
        out += _unique(stated)
    if stated.digest() != digest:
        out.append(f"digest: states 0x{digest.hex()}, the document's fields give 0x{stated.digest().hex()}")
    return out


__all__ = ["audit", "document_of", "parse_document", "parse_record"]
