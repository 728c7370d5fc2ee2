"""The meter gateway's archive, as the metering page reads it: the signed readings `gridchain metering anchor`
keeps in the deployment's store (schema `metering`), and the Merkle proof of one of them against its day's
anchored root, built exactly as the gateway and `gridchain meter prove` build it.

The proof path is all the server gives; the page's JavaScript recomputes the leaf from the reading it holds
and hashes it up to the root read on chain. Nothing here writes: the store is never migrated from here.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from gridchain.crypto import eip712
from gridchain.metering import model as m
from gridchain.metering.parties_store import SCHEMA, MeteringStore
from gridchain.store.engine import Store
from gridchain.store.migrate import revision

PICKER_LIMIT = 500  # readings the page offers to pick from (the newest); any other can be pasted


def archived(store: Store) -> dict[tuple[str, int], dict[int, dict[str, Any]]]:
    """(meter, day) -> interval start -> the reading as the archive and the CLI print it (EIP-712 names and its
    signature); empty if the store holds no metering tables."""
    if revision(store, SCHEMA) is None:
        return {}
    out: dict[tuple[str, int], dict[int, dict[str, Any]]] = defaultdict(dict)
    for meter, t, active, reactive, signature in MeteringStore(store).readings():
        reading = m.Reading(meter, t, active, reactive)
        out[(meter.lower(), t // m.PERIOD_S)][t] = {**reading.message(), "signature": "0x" + signature.hex()}
    return dict(out)


def picker(archive: dict, anchored: set[tuple[str, int]]) -> list[dict[str, Any]]:
    """The archived readings of anchored days, newest first: what the page's proof form offers."""
    rows = [r for key in anchored if key in archive for r in archive[key].values()]
    rows.sort(key=lambda r: (-r["intervalStart"], r["meter"]))
    return rows[:PICKER_LIMIT]


def proof_path(domain: eip712.Domain, archive: dict, meter: str, interval_start: int) -> dict[str, Any] | None:
    """The proof of the archived reading of `meter` at `interval_start` in its day's tree (the readings in time
    order, leaves their EIP-712 digests: `MeterGateway.proof`), with the tree's root; None if not archived."""
    day = archive.get((meter.lower(), interval_start // m.PERIOD_S))
    if not day or interval_start not in day:
        return None
    times = sorted(day)
    leaves = [eip712.digest(domain, _reading(day[t])) for t in times]
    index = times.index(interval_start)
    return {
        "index": index,
        "leaves": len(leaves),
        "proof": ["0x" + p.hex() for p in m.merkle_proof(leaves, index)],
        "archive_root": "0x" + m.merkle_root(leaves).hex(),
    }


def _reading(r: dict[str, Any]) -> m.Reading:
    return m.Reading(r["meter"], int(r["intervalStart"]), int(r["activeWh"]), int(r["reactiveVarh"]))
