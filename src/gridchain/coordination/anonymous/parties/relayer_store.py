"""The relayer's durable state (schema `relayer`): its tickets and the batch transactions it signed.

A ticket is written before its request is acknowledged (POST /requests' 202); a batch transaction is written,
signed and with its nonce, and its tickets marked `sending`, in one transaction before it is broadcast; so a
relayer killed at any point finds on restart every request it acknowledged and every transaction it may have
sent, and reconciles them with the chain (`relayer_submit.Submitter`).

Ticket statuses: queued | sending (in a signed transaction not yet confirmed) | submitted | failed.
Submission states: sent (broadcast, or about to be) | mined | replaced (its nonce was used by another
transaction) | dropped (the node refuses it back).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import BigInteger, Column, Connection, LargeBinary, MetaData, String, Table, Text, func, select

from gridchain.coordination.anonymous.client import AnonymousRequest
from gridchain.store.engine import Store
from gridchain.store.migrate import Schema

metadata = MetaData()
tickets_table = Table(
    "relayer_tickets",
    metadata,
    Column("id", String(32), primary_key=True),  # 128 random bits, url-safe: the ESU's secret
    Column("request", Text, nullable=False),  # AnonymousRequest.to_json
    Column("slot", BigInteger, nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("pseudonym", String(42), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("reason", Text, nullable=True),
    Column("arrival", BigInteger, nullable=True),
    Column("tx_hash", String(66), nullable=True),
    Column("gas_used", BigInteger, nullable=True),
    Column("accepted_ms", BigInteger, nullable=False),  # unix time [ms]
)
submissions_table = Table(
    "relayer_submissions",
    metadata,
    Column("tx_hash", String(66), primary_key=True),
    Column("nonce", BigInteger, nullable=False),
    Column("raw", LargeBinary, nullable=False),  # the signed transaction: rebroadcast as it is, same hash
    Column("tickets", Text, nullable=False),  # JSON list of ticket ids, in calldata order
    Column("state", String(16), nullable=False, index=True),
    Column("from_block", BigInteger, nullable=False),  # the latest block when signed: it lands after it
    Column("sent_ms", BigInteger, nullable=False),
)
SCHEMA = Schema("relayer", metadata, Path(__file__).parent / "migrations" / "relayer")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Ticket:
    id: str  # unguessable (128 random bits): whoever holds it may read the ticket, nobody can walk them
    request: AnonymousRequest
    status: str = "queued"  # queued | sending | submitted | failed
    arrival: int | None = None
    tx_hash: str | None = None
    gas_used: int | None = None  # of the whole transaction that carried it
    reason: str | None = None
    accepted_ms: int = field(default_factory=now_ms)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "arrival": self.arrival,
            "tx_hash": self.tx_hash,
            "reason": self.reason,
            "slot": self.request.slot,
        }

    def fail(self, reason: str) -> None:
        self.status, self.reason = "failed", reason


@dataclass(frozen=True)
class SubmissionRecord:
    """A batch transaction the relayer signed: what it needs to rebroadcast it or to find what became of it."""

    tx_hash: str
    nonce: int
    raw: bytes
    tickets: tuple[str, ...]
    from_block: int
    state: str = "sent"
    sent_ms: int = field(default_factory=now_ms)


def _ticket_row(t: Ticket) -> dict:
    return {
        "id": t.id,
        "request": json.dumps(t.request.to_json()),
        "slot": t.request.slot,
        "epoch": t.request.epoch,
        "pseudonym": t.request.pseudonym,
        "accepted_ms": t.accepted_ms,
        **_mutable(t),
    }


def _mutable(t: Ticket) -> dict:
    return {"status": t.status, "reason": t.reason, "arrival": t.arrival, "tx_hash": t.tx_hash, "gas_used": t.gas_used}


def _request(text: str) -> AnonymousRequest:
    """A request as the relayer stored it (checked when it was accepted)."""
    j = json.loads(text)
    return AnonymousRequest(
        j["pseudonym"],
        j["epoch"],
        j["slot"],
        j["demand_w"],
        j["soc_pm"],
        j["tcc"],
        bytes.fromhex(j["token"].removeprefix("0x")),
        bytes.fromhex(j["signature"].removeprefix("0x")),
    )


def _ticket(row) -> Ticket:
    return Ticket(
        row.id, _request(row.request), row.status, row.arrival, row.tx_hash, row.gas_used, row.reason, row.accepted_ms
    )


def _submission(row) -> SubmissionRecord:
    return SubmissionRecord(
        row.tx_hash, row.nonce, bytes(row.raw), tuple(json.loads(row.tickets)), row.from_block, row.state, row.sent_ms
    )


def _update_tickets(connection: Connection, tickets: Iterable[Ticket]) -> None:
    for t in tickets:
        connection.execute(tickets_table.update().where(tickets_table.c.id == t.id).values(**_mutable(t)))


class RelayerStore:
    """The relayer's tables in a deployment's store; every method is one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def migrate(self) -> None:
        self.store.migrate(SCHEMA)

    def add(self, ticket: Ticket) -> None:
        """A ticket just accepted (before the relayer acknowledges it)."""
        self.store.atomic(lambda c: c.execute(tickets_table.insert().values(**_ticket_row(ticket))))

    def save(self, tickets: Iterable[Ticket]) -> None:
        """The new status (reason, arrival, transaction) of these tickets."""
        tickets = list(tickets)
        if tickets:
            self.store.atomic(lambda c: _update_tickets(c, tickets))

    def tickets(self) -> list[Ticket]:
        """Every ticket, oldest first."""
        query = select(tickets_table).order_by(tickets_table.c.accepted_ms, tickets_table.c.id)
        return self.store.read(lambda c: [_ticket(r) for r in c.execute(query)])

    def record(self, submission: SubmissionRecord, tickets: Iterable[Ticket]) -> None:
        """A signed batch transaction and its tickets (now `sending`, with its hash), before it is broadcast."""
        tickets = list(tickets)
        row = {
            "tx_hash": submission.tx_hash,
            "nonce": submission.nonce,
            "raw": submission.raw,
            "tickets": json.dumps(list(submission.tickets)),
            "state": submission.state,
            "from_block": submission.from_block,
            "sent_ms": submission.sent_ms,
        }

        def work(c: Connection) -> None:
            c.execute(submissions_table.insert().values(**row))
            _update_tickets(c, tickets)

        self.store.atomic(work)

    def settle(self, tx_hash: str, state: str, tickets: Iterable[Ticket]) -> None:
        """What became of a submission (`state`) and of its tickets, together."""
        tickets = list(tickets)

        def work(c: Connection) -> None:
            c.execute(submissions_table.update().where(submissions_table.c.tx_hash == tx_hash).values(state=state))
            _update_tickets(c, tickets)

        self.store.atomic(work)

    def submissions(self, state: str | None = None) -> list[SubmissionRecord]:
        """The submissions (in `state`, if given), by nonce."""
        query = select(submissions_table).order_by(submissions_table.c.nonce, submissions_table.c.sent_ms)
        if state is not None:
            query = query.where(submissions_table.c.state == state)
        return self.store.read(lambda c: [_submission(r) for r in c.execute(query)])

    def highest_open_nonce(self) -> int | None:
        """The highest nonce of a submission still `sent` (None: none is)."""
        query = select(func.max(submissions_table.c.nonce)).where(submissions_table.c.state == "sent")
        return self.store.read(lambda c: c.execute(query).scalar())
