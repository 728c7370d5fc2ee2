"""The host's charge-point operator in the roaming case: lets an EV charge once its signed session start checks
out on chain, and settles the session on chain from what the charge point's meter signed (OCPP SignedData).

The OCPP central system (`services.ocpp_central`) runs in its own thread with a `RecordingBackend`; this class
works from the caller's thread: it admits an EV's id tag to that backend only after checking, on chain, that
the EV is registered and its owner's escrow (not under a withdrawal notice) covers `min_escrow_wei`, and reads
the finished transactions back from the backend to settle them.
"""

from __future__ import annotations

from gridchain.actors.meter import decode_signed_data, reading_from_signed_data, session_from_signed_data
from gridchain.chain.eip712 import normalize_signature
from gridchain.chain.metering import MeteringClient, SignedReading, SignedSession, signer_of
from gridchain.core import metering as m
from gridchain.core.request import InputError
from gridchain.services.ocpp_central import RecordingBackend


class RoamingRefused(Exception):
    """The station will not let this EV charge (the reason names what failed)."""


def id_tag_of(ev: str) -> str:
    """An EV's OCPP id tag: the first 20 hex digits of its address (idTag is at most 20 characters)."""
    return ev.lower()[2:22]


class RoamingStation:
    def __init__(self, client: MeteringClient, account: str, backend: RecordingBackend, cp_meter: str,
                 min_escrow_wei: int) -> None:  # fmt: skip
        self.client = client
        self.account = account
        self.backend = backend
        self.cp_meter = cp_meter.lower()
        self.min_escrow_wei = min_escrow_wei
        self.starts: dict[str, tuple[m.SessionStart, bytes]] = {}  # id tag -> the EV's signed start

    def announce(self, start: m.SessionStart, ev_signature: bytes) -> str:
        """Check an EV's signed session start; on success its id tag may charge. Returns the id tag."""
        if start.meter.lower() != self.cp_meter:
            raise RoamingRefused(f"meter: the start names {start.meter}, not this charge point's meter")
        try:  # kept normalised (65 bytes, v = 27/28): the settlement's compact() takes that form
            ev_signature = normalize_signature(ev_signature, "ev_signature")
        except InputError as e:
            raise RoamingRefused(str(e)) from None
        sid = m.typed_digest(self.client.domain(), start.struct_hash())
        if signer_of(sid, ev_signature) != start.ev.lower():
            raise RoamingRefused("ev_signature: the session start is not signed by the EV")
        owner = self.client.ev_owner(start.ev)
        if owner is None:
            raise RoamingRefused(f"ev: {start.ev} is not registered")
        available = self.client.available_escrow(owner)
        if available < self.min_escrow_wei:
            raise RoamingRefused(f"escrow: the owner's available escrow {available} wei is below {self.min_escrow_wei}")
        tag = id_tag_of(start.ev)
        self.starts[tag] = (start, ev_signature)
        self.backend.add_id_tag(tag)
        return tag

    def signed_session(self, transaction_id: int) -> SignedSession:
        """The finished transaction as a settlement: the EV's start and the meter's signed session reading."""
        record = self.backend.transaction(transaction_id)
        if record.open:
            raise ValueError(f"transaction_id: {transaction_id} is still open")
        if record.id_tag not in self.starts:
            raise ValueError(f"transaction_id: {transaction_id} has no signed session start")
        ends = [s for s in record.samples if s.context == "Transaction.End" and s.signed_data]
        if not ends:
            raise ValueError(f"transaction_id: {transaction_id} carries no signed session reading")
        reading, signature = session_from_signed_data(decode_signed_data(ends[-1].signed_data))
        start, ev_signature = self.starts[record.id_tag]
        return SignedSession(start, ev_signature, reading, signature)

    def settle(self, transaction_id: int) -> m.Settled:
        settled, _ = self.client.settle_session(self.account, self.signed_session(transaction_id))
        return settled

    def interval_readings(self) -> list[SignedReading]:
        """Every signed interval reading the charge point's meter sent (to anchor through the gateway)."""
        out = []
        for record in self.backend.transactions():
            for s in record.samples:
                if s.signed_data and decode_signed_data(s.signed_data)["kind"] == "reading":
                    out.append(reading_from_signed_data(decode_signed_data(s.signed_data)))
        return out
