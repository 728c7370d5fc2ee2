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
"""

from __future__ import annotations

from dataclasses import dataclass

from gridchain.chain.gateway import ChainRevert
from gridchain.crypto import eip712
from gridchain.crypto.keys import normalize_signature
from gridchain.errors import InputError, Refused
from gridchain.metering import model as m
from gridchain.metering.client import (
    MeteringClient,
    SignedReading,
    SignedSession,
    signer_of,
)
from gridchain.metering.parties import (
    decode_signed_data,
    reading_from_signed_data,
    session_from_signed_data,
)
from gridchain.ocpp.backend import RecordingBackend


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
        self, client: MeteringClient, account: str, backend: RecordingBackend, cp_meter: str, min_escrow_wei: int
    ) -> None:
        """`account` must be the charge point meter's owner (the host): only it may reserve for the meter.
        `min_escrow_wei`: the least escrow this station wants reserved for a session (the EV's signed maximum)."""
        self.client = client
        self.account = account
        self.backend = backend
        self.cp_meter = cp_meter.lower()
        self.min_escrow_wei = min_escrow_wei
        self.pending: dict[bytes, PendingSession] = {}  # session id -> signed start, until settled or released

    def announce(self, start: m.SessionStart, ev_signature: bytes) -> str:
        """Check an EV's signed session start and reserve its maximum cost on chain; on success its id tag may
        charge. Returns the id tag."""
        if start.meter.lower() != self.cp_meter:
            raise RoamingRefused(f"meter: the start names {start.meter}, not this charge point's meter")
        try:  # kept normalised (65 bytes, v = 27/28): the settlement's compact() takes that form
            ev_signature = normalize_signature(ev_signature, "ev_signature")
        except InputError as e:
            raise RoamingRefused(str(e)) from None
        sid = eip712.digest(self.client.domain(), start)
        if signer_of(sid, ev_signature) != start.ev.lower():
            raise RoamingRefused("ev_signature: the session start is not signed by the EV")
        if sid in self.pending:
            raise RoamingRefused(f"start: session 0x{sid.hex()} was announced already")
        if self.client.ev_owner(start.ev) is None:
            raise RoamingRefused(f"ev: {start.ev} is not registered")
        if start.max_cost_wei < self.min_escrow_wei:
            raise RoamingRefused(
                f"max_cost_wei: the EV's signed maximum {start.max_cost_wei} wei is below this "
                f"station's minimum {self.min_escrow_wei}"
            )
        try:
            self.client.reserve(self.account, start, ev_signature)
        except ChainRevert as e:  # e.g. "metering: escrow too low": the owner's free escrow does not cover it
            raise RoamingRefused(f"reservation: {e.reason}") from None
        tag = id_tag_of(start.ev)
        self.pending[sid] = PendingSession(sid, start, ev_signature, tag)
        self.backend.add_id_tag(tag)
        return tag

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
        settled, _ = self.client.settle_session(self.account, session)
        del self.pending[settled.session]
        return settled

    def release(self, session: bytes) -> int:
        """Give back the reservation of an admitted EV that never charged (the host may at any time); the amount
        returned [wei]."""
        if session not in self.pending:
            raise ValueError(f"session: 0x{session.hex()} is not pending at this station")
        amount, _ = self.client.release(self.account, self.pending[session].start)
        del self.pending[session]
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
