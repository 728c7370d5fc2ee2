"""The host's charge-point operator in the roaming case: lets an EV charge once its signed session start checks
out and its maximum cost is reserved on chain, and settles each session on chain from what the charge point's
meter signed (OCPP SignedData).

The OCPP central system (`gridchain.ocpp.central`) runs in its own thread with a `RecordingBackend`; this class
works from the caller's thread. `announce` checks the EV's signed start (this charge point's meter, the EV's
signature, a registered EV, a maximum cost of at least `min_escrow_wei`), reserves that maximum of the owner's
escrow on chain (`reserve`: the contract refuses escrow under a withdrawal notice), and only then admits the
EV's id tag to the backend. Every signed start is kept, by session id, until its session settles: an EV that
plugs in again before the last session settled gets a second start, never one in place of the first. A finished
transaction is bound to its start by the session id in the meter's signed session reading (found in any of the
transaction's samples, whatever their context), and the transaction's id tag must be that start's EV's.

As a service (`gridchain ocpp serve`), `RoamingBackend` takes the EV's signed start as an OCPP DataTransfer from
the charge point it plugged into and hands it to that charge point's station; `RoamingCentral` is the one object
holding the service's state (in memory) and hands finished sessions and signed readings to anchoring and
settlement as JSON, written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ocpp.v16.enums import DataTransferStatus

from gridchain.chain.gateway import ChainRevert
from gridchain.crypto import eip712
from gridchain.crypto.keys import normalize_signature
from gridchain.crypto.keystore import write_private
from gridchain.errors import InputError, Refused
from gridchain.metering import model as m
from gridchain.metering.client import (
    MeteringClient,
    SignedReading,
    SignedSession,
    signer_of,
)
from gridchain.metering.parties import (
    SESSION_START,
    VENDOR_ID,
    decode_session_start,
    decode_signed_data,
    reading_from_signed_data,
    session_from_signed_data,
)
from gridchain.metering.parties_store import FINAL_STATES, OPEN_STATES, MeteringStore, SessionRow
from gridchain.ocpp.backend import RecordingBackend
from gridchain.ocpp.central import CentralSystem
from gridchain.ocpp.store import OcppStore


class RoamingRefused(Refused):
    """The station will not let this EV charge (the reason names what failed)."""


def id_tag_of(ev: str) -> str:
    """An EV's OCPP id tag: the first 20 hex digits of its address (idTag is at most 20 characters)."""
    return ev.lower()[2:22]


@dataclass(frozen=True)
class PendingSession:
    """An admitted EV's signed start, kept until its session settles; its maximum cost is reserved on chain."""

    session: bytes  # the start's EIP-712 digest, the session id
    start: m.SessionStart
    ev_signature: bytes
    id_tag: str


class RoamingStation:
    def __init__(
        self,
        client: MeteringClient,
        account: str,
        backend: RecordingBackend,
        cp_meter: str,
        min_escrow_wei: int,
        store: MeteringStore | None = None,
        from_block: int = 0,
    ) -> None:
        """`account` must be the charge point meter's owner (the host): only it may reserve for the meter.
        `min_escrow_wei`: the least escrow this station wants reserved for a session (the EV's signed maximum).
        With `store`, every session is written before each transaction the station sends (the intent) and after
        it; `restore()` then resumes the station from the store, checking each intent on chain (events read from
        `from_block`)."""
        self.client = client
        self.account = account
        self.backend = backend
        self.cp_meter = cp_meter.lower()
        self.min_escrow_wei = min_escrow_wei
        self.store = store
        self.from_block = from_block
        self.pending: dict[bytes, PendingSession] = {}  # session id -> signed start, until settled or released

    def _save(self, p: PendingSession, state: str, **fields) -> None:
        if self.store is not None:
            self.store.put_session(SessionRow(p.session, p.start, p.ev_signature, p.id_tag, state, **fields))

    def restore(self) -> dict[str, int]:
        """Resume from the store: every session of this meter not settled or released is checked on chain (a
        reservation held: pending again, its id tag admitted; settled: recorded with its transaction's hash; no
        reservation: released, or abandoned if killed while reserving). How many sessions went to each state."""
        counts: dict[str, int] = {}
        if self.store is None:
            return counts
        for row in self.store.sessions(self.cp_meter, OPEN_STATES):
            p = PendingSession(row.session, row.start, row.ev_signature, row.id_tag)
            state, fields = self._reconcile(row)
            if state != row.state or fields:
                self._save(p, state, **fields)
            if state == "pending":
                self.pending[row.session] = p
                self.backend.add_id_tag(row.id_tag)
            counts[state] = counts.get(state, 0) + 1
        return counts

    def _reconcile(self, row: SessionRow) -> tuple[str, dict]:
        if self.client.reserved(row.session) > 0:
            return "pending", {}
        settled = self.client.settlement_of(row.session, self.from_block)
        if settled is not None:
            fields = {"transaction_id": row.transaction_id, "tx_hash": settled[1], "detail": _settled_json(settled[0])}
            return "settled", fields
        return ("abandoned" if row.state == "reserving" else "released"), {}

    def announce(self, start: m.SessionStart, ev_signature: bytes) -> str:
        """Check an EV's signed session start and reserve its maximum cost on chain; on success its id tag may
        charge. Returns the id tag. Idempotent: the same start announced again (a charge point resending after
        the central system restarted) gets the same id tag and is reserved once; a settled or released one is
        refused."""
        if start.meter.lower() != self.cp_meter:
            raise RoamingRefused(f"meter: the start names {start.meter}, not this charge point's meter")
        try:  # kept normalised (65 bytes, v = 27/28): the settlement's compact() takes that form
            ev_signature = normalize_signature(ev_signature, "ev_signature")
        except InputError as e:
            raise RoamingRefused(str(e)) from None
        sid = eip712.digest(self.client.domain(), start)
        if signer_of(sid, ev_signature) != start.ev.lower():
            raise RoamingRefused("ev_signature: the session start is not signed by the EV")
        if sid in self.pending:  # the same start again: a charge point resending what a restart left unanswered
            self.backend.add_id_tag(self.pending[sid].id_tag)
            return self.pending[sid].id_tag
        known = self.store.session(sid) if self.store is not None else None
        if known is not None and known.state in FINAL_STATES:
            raise RoamingRefused(f"start: session 0x{sid.hex()} was {known.state} already")
        if known is not None and self.client.reserved(sid) > 0:  # its reservation landed after a restart checked
            return self._admit(PendingSession(sid, start, ev_signature, id_tag_of(start.ev)))
        if self.client.ev_owner(start.ev) is None:
            raise RoamingRefused(f"ev: {start.ev} is not registered")
        if start.max_cost_wei < self.min_escrow_wei:
            raise RoamingRefused(
                f"max_cost_wei: the EV's signed maximum {start.max_cost_wei} wei is below this "
                f"station's minimum {self.min_escrow_wei}"
            )
        pending = PendingSession(sid, start, ev_signature, id_tag_of(start.ev))
        self._save(pending, "reserving")  # the intent, before the transaction
        try:
            self.client.reserve(self.account, start, ev_signature)
        except ChainRevert as e:  # e.g. "metering: escrow too low": the owner's free escrow does not cover it
            self._save(pending, "refused", detail=e.reason)
            raise RoamingRefused(f"reservation: {e.reason}") from None
        return self._admit(pending)

    def _admit(self, pending: PendingSession) -> str:
        """A reserved session: pending until it settles, its id tag admitted; the id tag."""
        self._save(pending, "pending")
        self.pending[pending.session] = pending
        self.backend.add_id_tag(pending.id_tag)
        return pending.id_tag

    def signed_session(self, transaction_id: int) -> SignedSession:
        """The finished transaction as a settlement: the EV's start and the meter's signed session reading."""
        record = self.backend.transaction(transaction_id)
        if record.open:
            raise ValueError(f"transaction_id: {transaction_id} is still open")
        found: dict[m.SessionReading, bytes] = {}
        for sample in record.samples:
            reading = self._session_reading(sample.signed_data)
            if reading is not None:
                found.setdefault(reading[0], reading[1])
        if not found:
            raise ValueError(f"transaction_id: {transaction_id} carries no signed session reading of a pending session")
        if len(found) > 1:
            raise ValueError(f"transaction_id: {transaction_id} carries {len(found)} different signed session readings")
        ((reading, signature),) = found.items()
        pending = self.pending[reading.session]
        if pending.id_tag != record.id_tag:
            raise ValueError(
                f"transaction_id: {transaction_id} is id tag {record.id_tag!r}, but its session "
                f"reading names the start of id tag {pending.id_tag!r}"
            )
        return SignedSession(pending.start, pending.ev_signature, reading, signature)

    def _session_reading(self, signed_data: str | None) -> tuple[m.SessionReading, bytes] | None:
        """A sample's signed session reading of one of our pending sessions, signed by our meter; else None."""
        if not signed_data:
            return None
        try:
            data = decode_signed_data(signed_data)
            if data["kind"] != "session":
                return None
            reading, signature = session_from_signed_data(data)
        except (ValueError, KeyError, TypeError):  # not ours to settle: another kind, or malformed
            return None
        if reading.session not in self.pending:
            return None
        digest = eip712.digest(self.client.domain(), reading)
        return (reading, signature) if signer_of(digest, signature) == self.cp_meter else None

    def settle(self, transaction_id: int) -> m.Settled:
        """Settle the transaction's session on chain; its start is forgotten only once it settled."""
        session = self.signed_session(transaction_id)
        pending = self.pending[session.reading.session]
        self._save(pending, "settling", transaction_id=transaction_id)  # the intent, before the transaction
        try:
            settled, receipt = self.client.settle_session(self.account, session)
        except ChainRevert:
            self._save(pending, "pending")
            raise
        self._save(
            pending, "settled", transaction_id=transaction_id, tx_hash=receipt.tx_hash, detail=_settled_json(settled)
        )
        del self.pending[settled.session]
        return settled

    def release(self, session: bytes) -> int:
        """Give back the reservation of an admitted EV that never charged (the host may at any time); the amount
        returned [wei]."""
        if session not in self.pending:
            raise ValueError(f"session: 0x{session.hex()} is not pending at this station")
        amount, receipt = self.client.release(self.account, self.pending[session].start)
        self._save(self.pending.pop(session), "released", tx_hash=receipt.tx_hash)
        return amount

    def interval_readings(self) -> list[SignedReading]:
        """Every signed interval reading the charge points sent (to anchor through the gateway, which keeps only
        those signed by their meter); malformed SignedData is skipped, not fatal."""
        out = []
        for record in self.backend.transactions():
            for s in record.samples:
                try:
                    data = decode_signed_data(s.signed_data) if s.signed_data else None
                    if data is not None and data["kind"] == "reading":
                        out.append(reading_from_signed_data(data))
                except (ValueError, KeyError, TypeError):
                    continue
        return out


# -- the central system as a service: roaming stations behind one OCPP backend ---------------------------------
class RoamingBackend(RecordingBackend):
    """The central system's backend for roaming: an EV's signed start arrives as a DataTransfer (vendor
    `VENDOR_ID`, message `SessionStart`) from the charge point it plugged into, and goes to that charge point's
    station (`announce`: checked, reserved on chain, its id tag admitted); the answer carries the id tag, or the
    reason it was refused. Everything else is the in-memory `RecordingBackend`'s. `log(action, fields)` is told
    each decision; every `TransactionListener` in `listeners` is told each transaction's start, the EV's state of
    charge when a MeterValues carries it, and its stop (on the server's thread: a listener must not block)."""

    def __init__(self, log: Callable[[str, dict], None] | None = None, store: OcppStore | None = None) -> None:
        super().__init__(store=store)
        self.stations: dict[str, RoamingStation] = {}  # charge-point id -> its station
        self.log = log or (lambda _action, _fields: None)
        self.listeners: list[TransactionListener] = []

    def data_transfer(self, cp_id: str, vendor_id: str, message_id: str | None, data: str | None):
        if vendor_id != VENDOR_ID:
            return super().data_transfer(cp_id, vendor_id, message_id, data)
        if message_id != SESSION_START:
            return DataTransferStatus.unknown_message_id.value, None
        station = self.stations.get(cp_id)
        try:
            if station is None:
                raise RoamingRefused(f"cp_id: {cp_id!r} is no charge point of this operator")
            start, signature = decode_session_start(data)
            tag = station.announce(start, signature)
        except (ValueError, RoamingRefused) as e:
            self.log("session refused", {"cp_id": cp_id, "reason": str(e)})
            return DataTransferStatus.rejected.value, str(e)[:200]
        self.record_data_transfer(cp_id, vendor_id, message_id, data)
        self.log(
            "session admitted", {"cp_id": cp_id, "ev": start.ev, "id_tag": tag, "max_cost_wei": start.max_cost_wei}
        )
        return DataTransferStatus.accepted.value, tag

    def start_transaction(self, cp_id, connector_id, id_tag, meter_start_wh, timestamp):
        transaction_id = super().start_transaction(cp_id, connector_id, id_tag, meter_start_wh, timestamp)
        self.log("transaction started", {"cp_id": cp_id, "transaction_id": transaction_id, "id_tag": id_tag})
        if transaction_id is not None:
            for listener in self.listeners:
                listener.transaction_started(cp_id, transaction_id)
        return transaction_id

    def meter_values(self, cp_id, transaction_id, samples):
        super().meter_values(cp_id, transaction_id, samples)
        socs = [s.soc_pm for s in samples if s.soc_pm is not None]
        if transaction_id is not None and socs:
            for listener in self.listeners:
                listener.soc(cp_id, transaction_id, socs[0])

    def stop_transaction(self, cp_id, transaction_id, meter_stop_wh, timestamp, reason, samples):
        super().stop_transaction(cp_id, transaction_id, meter_stop_wh, timestamp, reason, samples)
        self.log(
            "transaction stopped", {"cp_id": cp_id, "transaction_id": transaction_id, "meter_stop_wh": meter_stop_wh}
        )
        for listener in self.listeners:
            listener.transaction_stopped(cp_id, transaction_id)


class TransactionListener(Protocol):
    """What follows the charge points' transactions from outside the central system (the coordination bridge):
    told on the server's thread, so it only takes note and does its work on a thread of its own. A resent start
    or stop may be told again."""

    def transaction_started(self, cp_id: str, transaction_id: int) -> None: ...

    def soc(self, cp_id: str, transaction_id: int, soc_pm: int) -> None:
        """The EV's state of charge [per-mille] from a MeterValues of the transaction."""
        ...

    def transaction_stopped(self, cp_id: str, transaction_id: int) -> None: ...


class RoamingCentral:
    """The host's central system: OCPP 1.6-J for its charge points, a roaming station per charge point, and the
    finished sessions and signed readings handed to settlement and anchoring (`sessions()`, `save`).

    The one object holding the service's state (its backend and stations write it to the store when given one).
    `push_allocation` is the seam for the coordination bridge: it sends a charge point's open transaction a
    charging profile."""

    def __init__(self, central: CentralSystem, backend: RoamingBackend) -> None:
        self.central = central
        self.backend = backend
        self._saved: tuple = (0, 0, 0)  # nothing to write before the first reading: an earlier run's file stays

    def add_station(self, cp_id: str, station: RoamingStation) -> None:
        self.backend.stations[cp_id] = station

    def push_allocation(self, cp_id: str, limit_w: int) -> str:
        """Send `limit_w` [W] to the charge point's open transaction (TxProfile; TxDefaultProfile if none is
        open); the charge point's status (`Accepted`, `Rejected`, `NotSupported`)."""
        open_tx = [t for t in self.backend.transactions() if t.cp_id == cp_id and t.open]
        if open_tx:
            return self.central.set_charging_profile(
                cp_id, open_tx[-1].connector_id, limit_w, open_tx[-1].transaction_id
            )
        return self.central.set_charging_profile(cp_id, 0, limit_w)

    def sessions(self) -> dict:
        """Finished transactions with their signed sessions, and every signed interval reading, as JSON data."""
        out, readings = [], {}
        for record in self.backend.transactions():
            station = self.backend.stations.get(record.cp_id)
            if record.open or station is None:
                continue
            entry = {
                "transaction_id": record.transaction_id,
                "cp_id": record.cp_id,
                "id_tag": record.id_tag,
                "energy_wh": record.energy_wh,
            }
            try:
                entry.update(signed_session_json(station.signed_session(record.transaction_id)))
            except ValueError as e:
                entry["error"] = str(e)
            out.append(entry)
            for s in station.interval_readings():
                readings[(s.reading.meter.lower(), s.reading.interval_start)] = s
        return {"sessions": out, "readings": [reading_json(readings[k]) for k in sorted(readings)]}

    def save(self, path: Path) -> bool:
        """Write `sessions()` to `path` atomically if anything changed since the last write; whether it wrote."""
        b = self.backend
        version = (len(b.arrivals), len(b.transactions()), sum(not t.open for t in b.transactions()))
        if version == self._saved:
            return False
        write_private(path, json.dumps(self.sessions(), indent=1, sort_keys=True) + "\n")
        self._saved = version
        return True


def _settled_json(s: m.Settled) -> str:
    fields = ("first_interval", "intervals", "energy_wh", "cost_wei", "paid_wei", "unpaid_wei")
    return json.dumps({f: getattr(s, f) for f in fields}, separators=(",", ":"))


def reading_json(s: SignedReading) -> dict:
    return {**s.reading.message(), "signature": "0x" + s.signature.hex()}


def reading_from_json(data: dict) -> SignedReading:
    r = m.Reading(data["meter"], int(data["intervalStart"]), int(data["activeWh"]), int(data["reactiveVarh"]))
    return SignedReading(r, bytes.fromhex(data["signature"][2:]))


def signed_session_json(s: SignedSession) -> dict:
    return {
        "session": "0x" + s.reading.session.hex(),
        "start": s.start.message(),
        "ev_signature": "0x" + s.ev_signature.hex(),
        "reading": {**s.reading.message(), "session": "0x" + s.reading.session.hex()},
        "meter_signature": "0x" + s.meter_signature.hex(),
    }


def signed_session_from_json(data: dict) -> SignedSession:
    st, r = data["start"], data["reading"]
    start = m.SessionStart(st["ev"], st["meter"], int(st["start"]), int(st["maxCostWei"]))
    reading = m.SessionReading(
        bytes.fromhex(r["session"][2:]), int(r["firstInterval"]), tuple(int(e) for e in r["energyWh"])
    )
    return SignedSession(
        start, bytes.fromhex(data["ev_signature"][2:]), reading, bytes.fromhex(data["meter_signature"][2:])
    )
