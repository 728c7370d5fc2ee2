"""The smart meter and the meter gateway: the parties that sign readings and anchor them on chain.

- `SmartMeter`: holds the meter's key; signs interval readings (EIP-712 `Reading`), a roaming session's
  per-interval energy (`SessionReading`) and, to correct a wrong anchored root, its own day's root (`DayRoot`).
- `ChargePointMeter`: a charge point's meter as the OCPP simulator's `signer`: every clock-aligned sample
  becomes a signed interval reading, and the transaction's end a signed session reading for the session the
  EV signed (`expect`). What it signs travels as OCPP `SignedData` (compact JSON, `decode_signed_data`).
- `MeterGateway`: the AMI head-end: collects signed readings, anchors one Merkle root per meter per day (for
  the meters the utility assigned to it), and keeps the archive from which anyone can prove a reading
  (`proof`, `gridchain meter prove`); a day it anchored wrong is corrected with the meter's signed root
  (`correct`). Given a `sealer` (e.g. gridchain.monitoring.vault.HouseholdSealer), it seals each day it anchors to
  the meter's household and keeps only the sealed bytes: proofs of that day are then the key holder's.

Units: energy [Wh], reactive energy [varh], times [s].
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Iterable

from gridchain.crypto import eip712
from gridchain.crypto.keys import address_of, normalize_signature, parse_signature, sign_digest
from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.client import MeteringClient, ReadingProof, SignedReading, signer_of
from gridchain.metering.parties_store import MeteringStore


class SmartMeter:
    def __init__(self, key: bytes | str, domain: eip712.Domain) -> None:
        self.key = key
        self.address = address_of(key)
        self.domain = domain

    def sign_reading(self, interval_start: int, active_wh: int, reactive_varh: int = 0) -> SignedReading:
        if interval_start % m.INTERVAL_S:
            raise ValueError(f"interval_start: {interval_start} is not a multiple of {m.INTERVAL_S}")
        if active_wh < 0 or reactive_varh < 0:
            raise ValueError(f"active_wh/reactive_varh: negative reading ({active_wh}, {reactive_varh})")
        reading = m.Reading(self.address, interval_start, active_wh, reactive_varh)
        return SignedReading(reading, sign_digest(self.key, eip712.digest(self.domain, reading)))

    def sign_session(self, reading: m.SessionReading) -> bytes:
        return sign_digest(self.key, eip712.digest(self.domain, reading))

    def sign_day_root(self, readings: Iterable[SignedReading], version: int) -> tuple[m.DayRoot, bytes]:
        """The meter's own root over its readings of one day (in time order), with `version` above the root
        anchored for that day (a gateway's is 0), and its signature."""
        ordered = sorted(readings, key=lambda s: s.reading.interval_start)
        if not ordered:
            raise ValueError("readings: a day's root needs at least one reading")
        days = {s.reading.interval_start // m.PERIOD_S for s in ordered}
        if len(days) != 1 or any(s.reading.meter.lower() != self.address.lower() for s in ordered):
            raise ValueError(f"readings: not one day of this meter's readings (days {sorted(days)})")
        leaves = [eip712.digest(self.domain, s.reading) for s in ordered]
        day_root = m.DayRoot(self.address, days.pop(), m.merkle_root(leaves), len(leaves), version)
        return day_root, sign_digest(self.key, eip712.digest(self.domain, day_root))


def sign_session_start(
    ev_key: bytes | str, domain: eip712.Domain, meter: str, start: int, max_cost_wei: int
) -> tuple[m.SessionStart, bytes]:
    """What the EV signs when it plugs in at `meter`'s charge point at `start` [s], agreeing to pay at most
    `max_cost_wei` for the session (the host reserves it at admission): the start and its signature (whose
    digest is the session id)."""
    if max_cost_wei <= 0:
        raise ValueError(f"max_cost_wei: {max_cost_wei}, a session's maximum cost must be above 0")
    s = m.SessionStart(address_of(ev_key), meter, start, max_cost_wei)
    return s, sign_digest(ev_key, eip712.digest(domain, s))


def session_id(domain: eip712.Domain, start: m.SessionStart) -> bytes:
    """A roaming session's id: its signed start's EIP-712 digest."""
    return eip712.digest(domain, start)


# -- the charge point's meter, speaking OCPP SignedData -----------------------------------------------------
def encode_signed_data(kind: str, fields: dict) -> str:
    return json.dumps({"kind": kind, **fields}, separators=(",", ":"), sort_keys=True)


def decode_signed_data(text: str) -> dict:
    """The fields of a SignedData value (`kind`: "begin" (the register at the start, unsigned), "reading" or
    "session"); ValueError naming what is wrong."""
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"signed_data: not JSON ({e})") from None
    if not isinstance(data, dict) or data.get("kind") not in ("begin", "reading", "session"):
        raise ValueError(f"signed_data: kind must be 'begin', 'reading' or 'session', got {data!r:.80}")
    return data


def reading_from_signed_data(data: dict) -> SignedReading:
    r = m.Reading(data["meter"], int(data["intervalStart"]), int(data["activeWh"]), int(data["reactiveVarh"]))
    return SignedReading(r, bytes.fromhex(data["signature"][2:]))  # normalised by MeterGateway.collect


def session_from_signed_data(data: dict) -> tuple[m.SessionReading, bytes]:
    reading = m.SessionReading(
        bytes.fromhex(data["session"][2:]), int(data["firstInterval"]), tuple(int(e) for e in data["energyWh"])
    )
    return reading, parse_signature(data["signature"], "signed_data.signature")


class ChargePointMeter:
    """The OCPP simulator's signer: follows one transaction's readings (begin, clock samples, end)."""

    def __init__(self, meter: SmartMeter) -> None:
        self.meter = meter
        self.session: bytes | None = None
        self.session_start: int | None = None
        self._begin: tuple[int, int] | None = None
        self._samples: list[tuple[int, int]] = []
        self._last: tuple[int, int] | None = None
        self.signed_readings: list[SignedReading] = []
        self.signed_sessions: list[tuple[m.SessionReading, bytes]] = []

    def expect(self, session: bytes, start: int) -> None:
        """The EV's signed start (its digest `session`, its time `start` [s]) was checked by the charge point: it
        names the next transaction. The session reading begins in the start's interval (the contract's rule)."""
        self.session, self.session_start = session, start

    def __call__(self, reading) -> str:  # an actors.charge_point.Reading
        t, wh, context = reading.timestamp, reading.register_wh, reading.context
        if context == "Transaction.Begin":
            self._begin = self._last = (t, wh)
            self._samples = []
            return encode_signed_data("begin", {"meter": self.meter.address, "timestamp": t, "registerWh": wh})
        if self._begin is None:
            raise RuntimeError("the charge point's meter saw a reading outside a transaction")
        if context == "Transaction.End":
            return self._end(t, wh)
        # a clock-aligned sample: the interval that just ended, as a signed reading
        energy = wh - self._last[1]
        self._last = (t, wh)
        self._samples.append((t, wh))
        signed = self.meter.sign_reading(t - m.INTERVAL_S, energy)
        self.signed_readings.append(signed)
        return encode_signed_data("reading", {**signed.reading.message(), "signature": "0x" + signed.signature.hex()})

    def _end(self, t: int, wh: int) -> str:
        if self.session is None:
            raise RuntimeError("no signed session start for this transaction (expect() was not called)")
        first, energies = m.interval_energies(self._begin[0], self._begin[1], self._samples, t, wh)
        signed_first = self.session_start // m.INTERVAL_S
        if first < signed_first:
            raise RuntimeError(f"the transaction began in interval {first}, before the EV's signed start")
        energies = (0,) * (first - signed_first) + energies  # charging began intervals after the EV signed
        reading = m.SessionReading(self.session, signed_first, energies)
        signature = self.meter.sign_session(reading)
        self.signed_sessions.append((reading, signature))
        self.session, self._begin = None, None
        return encode_signed_data(
            "session",
            {
                "session": "0x" + reading.session.hex(),
                "firstInterval": reading.first_interval,
                "energyWh": list(reading.energy_wh),
                "signature": "0x" + signature.hex(),
            },
        )


# -- the gateway ------------------------------------------------------------------------------------------
Sealer = Callable[[str, int, bytes, list[SignedReading]], bytes]  # (meter, day, root, readings) -> sealed bytes


class MeterGateway:
    """Collects signed readings per meter and day, anchors each day's Merkle root once, proves readings.

    With `store`, the readings it keeps and the roots it anchors are written to it (an anchor's intent before its
    transaction is sent); `restore()` reads them back, checking each intent on chain, so that a restarted gateway
    proves what it anchored before and never anchors a day twice.

    With `sealer`, each day is sealed before its root is sent (a meter the sealer refuses anchors nothing), and
    once anchored only the sealed bytes are kept (`sealed`; in the store, where the day's readings are deleted in
    the same transaction): the gateway no longer proves that day (`gridchain.monitoring.vault.prove` does, for
    whoever holds its key). A restart seals the anchored days whose readings it still finds in the clear."""

    def __init__(
        self, client: MeteringClient, account: str, store: MeteringStore | None = None, sealer: Sealer | None = None
    ) -> None:
        self.client = client
        self.account = account
        self.store = store
        self.sealer = sealer
        self.readings: dict[tuple[str, int], dict[int, SignedReading]] = defaultdict(dict)  # (meter, day) -> t ->
        self.anchored: dict[tuple[str, int], tuple[bytes, str]] = {}  # (meter, day) -> (root, tx hash)
        self.sealed: dict[tuple[str, int], bytes] = {}  # (meter, day) -> the sealer's bytes (no readings kept)

    def restore(self) -> int:
        """Read the store's readings and anchors back; an anchor sent but not confirmed counts if the chain has
        its root, else it is forgotten (the day may be anchored again). How many anchored days it knows."""
        if self.store is None:
            return 0
        for meter, t, active, reactive, signature in self.store.readings():
            self.readings[(meter, t // m.PERIOD_S)][t] = SignedReading(m.Reading(meter, t, active, reactive), signature)
        for meter, day, root, leaves, state, tx_hash in self.store.anchors():
            if state == "anchoring":
                if self.client.root(meter, day) != root:
                    self.store.drop_anchor(meter, day)
                    continue
                self.store.put_anchor(meter, day, root, leaves, "anchored", tx_hash)
            self.anchored[(meter, day)] = (root, tx_hash or "")
        for meter, day, blob in self.store.sealed_days():
            self.sealed[(meter, day)] = blob
            self.readings.pop((meter, day), None)
        if self.sealer is not None:  # anchored, then killed before its day was sealed
            for key in [k for k in self.anchored if k not in self.sealed and self.readings.get(k)]:
                ordered, _ = self._leaves(key)
                self._keep_sealed(key, self.sealer(key[0], key[1], self.anchored[key][0], ordered))
        return len(self.anchored)

    def _keep_sealed(self, key: tuple[str, int], blob: bytes) -> None:
        """Keep only the sealed day: in the store (its readings deleted there at once) and here."""
        if self.store is not None:
            self.store.put_sealed_day(key[0], key[1], blob)
        self.sealed[key] = blob
        self.readings.pop(key, None)

    def collect(self, signed: Iterable[SignedReading]) -> int:
        """Keep readings whose signature recovers to their meter (others, and malformed ones, are dropped);
        returns how many kept. Kept signatures are normalised (65 bytes, v = 27/28: what the proof's on-chain
        check takes), whatever standard form they came in."""
        domain = self.client.domain()
        fresh: list[SignedReading] = []
        for s in signed:
            try:
                s = dataclasses.replace(s, signature=normalize_signature(s.signature))
            except InputError:  # one malformed reading is dropped like a forged one; the others are kept
                continue
            if signer_of(eip712.digest(domain, s.reading), s.signature) != s.reading.meter.lower():
                continue
            key = (s.reading.meter.lower(), s.reading.interval_start // m.PERIOD_S)
            if key in self.anchored:
                raise ValueError(f"interval_start: day {key[1]} of meter {key[0]} is already anchored")
            self.readings[key][s.reading.interval_start] = s
            fresh.append(s)
        if self.store is not None and fresh:
            self.store.add_readings(
                [
                    (r.meter, r.interval_start, r.active_wh, r.reactive_varh, s.signature)
                    for s in fresh
                    for r in [s.reading]
                ]
            )
        return len(fresh)

    def _leaves(self, key: tuple[str, int]) -> tuple[list[SignedReading], list[bytes]]:
        domain = self.client.domain()
        ordered = [self.readings[key][t] for t in sorted(self.readings[key])]
        return ordered, [eip712.digest(domain, s.reading) for s in ordered]

    def anchor(self, meter: str, day: int):
        """Anchor the day's root for `meter`; returns the chain receipt."""
        key = (meter.lower(), day)
        if not self.readings.get(key):
            raise ValueError(f"day: no readings of meter {meter} on day {day}")
        ordered, leaves = self._leaves(key)
        root = m.merkle_root(leaves)
        blob = None if self.sealer is None else self.sealer(key[0], day, root, ordered)  # before anything is sent
        if self.store is not None:  # the intent, before the transaction
            self.store.put_anchor(key[0], day, root, len(leaves), "anchoring", None)
        receipt = self.client.anchor_root(self.account, meter, day, root, len(leaves))
        if self.store is not None:
            self.store.put_anchor(key[0], day, root, len(leaves), "anchored", receipt.tx_hash)
        self.anchored[key] = (root, receipt.tx_hash)
        if blob is not None:
            self._keep_sealed(key, blob)
        return receipt

    def correct(self, meter: str, day: int, readings: Iterable[SignedReading], day_root: m.DayRoot, signature: bytes):
        """Replace a day this gateway anchored wrong (or not at all) with the meter's signed root over `readings`:
        every reading must be the meter's, of that day, and their root the signed one. Returns the receipt."""
        key = (meter.lower(), day)
        domain = self.client.domain()
        kept = {}
        for s in readings:
            if s.reading.meter.lower() != key[0] or s.reading.interval_start // m.PERIOD_S != day:
                raise ValueError(f"readings: {s.reading.interval_start} is not meter {meter}'s on day {day}")
            if signer_of(eip712.digest(domain, s.reading), s.signature) != key[0]:
                raise ValueError(f"readings: the reading at {s.reading.interval_start} is not signed by {meter}")
            kept[s.reading.interval_start] = s
        leaves = [eip712.digest(domain, kept[t].reading) for t in sorted(kept)]
        if not leaves or m.merkle_root(leaves) != day_root.root or (day_root.meter.lower(), day_root.period) != key:
            raise ValueError(f"day_root: not the root of these readings of meter {meter} on day {day}")
        ordered = [kept[t] for t in sorted(kept)]
        blob = None if self.sealer is None else self.sealer(key[0], day, day_root.root, ordered)
        receipt = self.client.anchor_signed_root(self.account, day_root, signature)
        self.readings[key] = kept
        self.anchored[key] = (day_root.root, receipt.tx_hash)
        if blob is not None:
            self._keep_sealed(key, blob)
        return receipt

    def proof(self, meter: str, interval_start: int) -> ReadingProof:
        key = (meter.lower(), interval_start // m.PERIOD_S)
        if key not in self.anchored:
            raise ValueError(f"interval_start: day {key[1]} of meter {meter} is not anchored")
        if key in self.sealed:
            raise InputError(
                "interval_start", f"day {key[1]} of meter {meter} is sealed to its household: its key holder proves it"
            )
        ordered, leaves = self._leaves(key)
        times = [s.reading.interval_start for s in ordered]
        if interval_start not in times:
            raise ValueError(f"interval_start: no reading of meter {meter} at {interval_start}")
        i = times.index(interval_start)
        return ReadingProof(ordered[i], tuple(m.merkle_proof(leaves, i)), key[1], self.anchored[key][0])

    def archive(self) -> dict:
        """Everything needed to prove any anchored reading later, as JSON-able data (a sealed day: its sealed bytes
        and no readings)."""
        out = []
        for key, (root, tx) in sorted(self.anchored.items()):
            if key in self.sealed:
                sealed = "0x" + self.sealed[key].hex()
                out.append({"meter": key[0], "day": key[1], "root": "0x" + root.hex(), "tx": tx, "sealed": sealed})
                continue
            ordered, _ = self._leaves(key)
            out.append(
                {
                    "meter": key[0],
                    "day": key[1],
                    "root": "0x" + root.hex(),
                    "tx": tx,
                    "readings": [{**s.reading.message(), "signature": "0x" + s.signature.hex()} for s in ordered],
                }
            )
        return {"contract": self.client.address, "chain_id": self.client.chain_id(), "anchors": out}


# -- the EV's signed start, carried to the central system by the charge point as an OCPP DataTransfer ---------
VENDOR_ID = "org.gridchain.metering"
SESSION_START = "SessionStart"


def encode_session_start(start: m.SessionStart, signature: bytes) -> str:
    """The DataTransfer data of an EV's signed session start (compact JSON)."""
    return json.dumps({**start.message(), "signature": "0x" + signature.hex()}, separators=(",", ":"), sort_keys=True)


def decode_session_start(text: str | None) -> tuple[m.SessionStart, bytes]:
    """A signed session start from DataTransfer data; ValueError naming what is wrong."""
    try:
        data = json.loads(text or "")
        start = m.SessionStart(data["ev"], data["meter"], int(data["start"]), int(data["maxCostWei"]))
        signature = parse_signature(data["signature"], "data.signature")
    except (TypeError, KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"data: not a signed session start ({type(e).__name__}: {e})") from None
    except InputError as e:
        raise ValueError(str(e)) from None
    return start, signature
