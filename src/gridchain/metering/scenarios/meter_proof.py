"""Proving one anchored reading from a readings archive (`MeterGateway.archive()`, written by the metering demo)."""

from __future__ import annotations

import json
from pathlib import Path

from gridchain.crypto import eip712
from gridchain.crypto.keys import parse_signature
from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.client import SignedReading, signer_of


def load_archive(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError("--archive", f"cannot read {str(path)!r}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise InputError("--archive", f"{str(path)!r} is not JSON: {e}") from None
    if not isinstance(data, dict) or not {"contract", "chain_id", "anchors"} <= set(data):
        raise InputError("--archive", f"{str(path)!r} is not a readings archive (contract, chain_id, anchors)")
    return data


def prove_reading(data: dict, meter: str, interval_start: int) -> dict:
    """The reading's proof and the off-chain verdict (signature by the meter, proof to the archived root).
    Keys starting with `_` carry the SignedReading and proof for an on-chain check."""
    day = interval_start // m.PERIOD_S
    anchor = next((a for a in data["anchors"] if a["meter"].lower() == meter.lower() and a["day"] == day), None)
    if anchor is None:
        raise InputError("--meter", f"no anchored day {day} of meter {meter} in the archive")
    if "sealed" in anchor:
        raise InputError(
            "--meter", f"day {day} of meter {meter} is sealed to its household: its key holder proves it (vault)"
        )
    domain = m.domain(int(data["chain_id"]), data["contract"])
    signed = []
    for j, r in enumerate(anchor["readings"]):
        reading = m.Reading(r["meter"], int(r["intervalStart"]), int(r["activeWh"]), int(r["reactiveVarh"]))
        try:  # any standard form (v = 0/1 or 27/28, EIP-2098), normalised for the on-chain check
            signature = parse_signature(r["signature"], f"readings[{j}].signature")
        except InputError as e:
            raise InputError("--archive", f"day {day} of meter {meter}: {e}") from None
        signed.append(SignedReading(reading, signature))
    times = [s.reading.interval_start for s in signed]
    if interval_start not in times:
        raise InputError("--interval-start", f"meter {meter} has no reading at {interval_start} (day {day})")
    leaves = [eip712.digest(domain, s.reading) for s in signed]
    i = times.index(interval_start)
    proof = m.merkle_proof(leaves, i)
    root = bytes.fromhex(anchor["root"].removeprefix("0x"))
    mine = signed[i]
    verified = signer_of(leaves[i], mine.signature) == meter.lower() and m.verify_proof(proof, root, leaves[i])
    return {
        "meter": meter,
        "interval_start": interval_start,
        "day": day,
        "active_wh": mine.reading.active_wh,
        "reactive_varh": mine.reading.reactive_varh,
        "leaf": "0x" + leaves[i].hex(),
        "root": anchor["root"],
        "anchor_tx": anchor.get("tx"),
        "proof": ["0x" + p.hex() for p in proof],
        "root_matches_archive": m.merkle_root(leaves) == root,
        "verified_off_chain": verified,
        "_signed": mine,
        "_proof": proof,
    }
