"""Metering's durable state (schema `metering`): the roaming sessions a host's stations admitted, from intent to
settlement, and the meter gateway's signed readings and anchored day roots (from which any proof is rebuilt), or,
for a gateway that seals, each anchored day's sealed bytes in place of its readings (`put_sealed_day`).

A session row moves `reserving` (written before the reservation is sent) -> `pending` (reserved: its id tag may
charge) -> `settling` (written before the settlement is sent) -> `settled` (with the transaction's hash); or to
`released`, `refused` (the chain refused the reservation) or `abandoned` (killed while reserving, and the chain
holds no reservation). An anchor row is `anchoring` before its transaction is sent and `anchored` after. A
restart checks every intent on chain (`RoamingStation.restore`, `MeterGateway.restore`), so nothing is sent twice.

Plain values in and out (no chain here); times [s], energy [Wh], amounts [wei] as decimal text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from gridchain.metering import model as m
from gridchain.store.engine import Store
from gridchain.store.migrate import Schema

metadata = MetaData()
sessions = Table(
    "metering_sessions",
    metadata,
    Column("session", String(66), primary_key=True),  # 0x + the start's EIP-712 digest
    Column("meter", String(42), nullable=False),
    Column("ev", String(42), nullable=False),
    Column("start", BigInteger, nullable=False),
    Column("max_cost_wei", String(40), nullable=False),
    Column("ev_signature", String(132), nullable=False),
    Column("id_tag", String(20), nullable=False),
    Column("state", String(12), nullable=False),
    Column("transaction_id", BigInteger),  # the central system's transaction settled
    Column("tx_hash", String(66)),  # of the settlement (or release)
    Column("detail", Text),  # why refused, or the settlement's numbers (JSON)
)
readings = Table(
    "metering_readings",
    metadata,
    Column("meter", String(42), primary_key=True),
    Column("interval_start", BigInteger, primary_key=True, autoincrement=False),
    Column("active_wh", BigInteger, nullable=False),
    Column("reactive_varh", BigInteger, nullable=False),
    Column("signature", String(132), nullable=False),
)
anchors = Table(
    "metering_anchors",
    metadata,
    Column("meter", String(42), primary_key=True),
    Column("day", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(66), nullable=False),
    Column("leaves", Integer, nullable=False),
    Column("state", String(12), nullable=False),  # anchoring | anchored
    Column("tx_hash", String(66)),
)
sealed_days = Table(  # revision 0002
    "metering_sealed_days",
    metadata,
    Column("meter", String(42), primary_key=True),
    Column("day", BigInteger, primary_key=True, autoincrement=False),
    Column("sealed", LargeBinary, nullable=False),  # the sealer's bytes (a gridchain.monitoring.vault.SealedDay)
)
SCHEMA = Schema("metering", metadata, Path(__file__).parent / "migrations")
OPEN_STATES = ("reserving", "pending", "settling")
FINAL_STATES = ("settled", "released")


@dataclass(frozen=True)
class SessionRow:
    session: bytes
    start: m.SessionStart
    ev_signature: bytes
    id_tag: str
    state: str
    transaction_id: int | None = None
    tx_hash: str | None = None
    detail: str | None = None


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _session_row(r) -> SessionRow:
    start = m.SessionStart(r.ev, r.meter, int(r.start), int(r.max_cost_wei))
    return SessionRow(
        bytes.fromhex(r.session[2:]),
        start,
        bytes.fromhex(r.ev_signature[2:]),
        r.id_tag,
        r.state,
        r.transaction_id,
        r.tx_hash,
        r.detail,
    )


class MeteringStore:
    """Metering's tables on `store` (migrated by `open`); every method is one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def open(cls, store: Store) -> MeteringStore:
        store.migrate(SCHEMA)
        return cls(store)

    # -- sessions

    def put_session(self, row: SessionRow) -> None:
        """Write a session's row (inserted, or replacing the one of the same session)."""
        values = {
            "meter": row.start.meter.lower(),
            "ev": row.start.ev.lower(),
            "start": row.start.start,
            "max_cost_wei": str(row.start.max_cost_wei),
            "ev_signature": _hex(row.ev_signature),
            "id_tag": row.id_tag,
            "state": row.state,
            "transaction_id": row.transaction_id,
            "tx_hash": row.tx_hash,
            "detail": row.detail,
        }
        key = _hex(row.session)

        def work(c: Connection) -> None:
            if c.execute(update(sessions).where(sessions.c.session == key).values(**values)).rowcount == 0:
                c.execute(insert(sessions).values(session=key, **values))

        self.store.atomic(work)

    def session(self, session: bytes) -> SessionRow | None:
        query = select(sessions).where(sessions.c.session == _hex(session))
        found = self.store.read(lambda c: c.execute(query).first())
        return None if found is None else _session_row(found)

    def sessions(self, meter: str | None = None, states: tuple[str, ...] = ()) -> list[SessionRow]:
        query = select(sessions).order_by(sessions.c.start, sessions.c.session)
        if meter is not None:
            query = query.where(sessions.c.meter == meter.lower())
        if states:
            query = query.where(sessions.c.state.in_(states))
        return [_session_row(r) for r in self.store.read(lambda c: c.execute(query).all())]

    def settled_by_transaction(self, meter: str, transaction_id: int) -> SessionRow | None:
        query = select(sessions).where(
            sessions.c.meter == meter.lower(),
            sessions.c.transaction_id == transaction_id,
            sessions.c.state == "settled",
        )
        found = self.store.read(lambda c: c.execute(query).first())
        return None if found is None else _session_row(found)

    # -- the gateway's readings and anchors

    def add_readings(self, kept: list[tuple[str, int, int, int, bytes]]) -> None:
        """(meter, interval start, active [Wh], reactive [varh], signature) of readings not stored yet."""

        def work(c: Connection) -> None:
            for meter, t, active, reactive, signature in kept:
                where = (readings.c.meter == meter.lower(), readings.c.interval_start == t)
                if c.execute(select(readings.c.meter).where(*where)).first() is None:
                    values = {"active_wh": active, "reactive_varh": reactive, "signature": _hex(signature)}
                    c.execute(insert(readings).values(meter=meter.lower(), interval_start=t, **values))

        self.store.atomic(work)

    def readings(self) -> list[tuple[str, int, int, int, bytes]]:
        rows = self.store.read(lambda c: c.execute(select(readings)).all())
        return [(r.meter, r.interval_start, r.active_wh, r.reactive_varh, bytes.fromhex(r.signature[2:])) for r in rows]

    def put_anchor(self, meter: str, day: int, root: bytes, leaves: int, state: str, tx_hash: str | None) -> None:
        values = {"root": _hex(root), "leaves": leaves, "state": state, "tx_hash": tx_hash}
        where = (anchors.c.meter == meter.lower(), anchors.c.day == day)

        def work(c: Connection) -> None:
            if c.execute(update(anchors).where(*where).values(**values)).rowcount == 0:
                c.execute(insert(anchors).values(meter=meter.lower(), day=day, **values))

        self.store.atomic(work)

    def drop_anchor(self, meter: str, day: int) -> None:
        where = (anchors.c.meter == meter.lower(), anchors.c.day == day)
        self.store.atomic(lambda c: c.execute(anchors.delete().where(*where)))

    def anchors(self) -> list[tuple[str, int, bytes, int, str, str | None]]:
        rows = self.store.read(lambda c: c.execute(select(anchors)).all())
        return [(r.meter, r.day, bytes.fromhex(r.root[2:]), r.leaves, r.state, r.tx_hash) for r in rows]

    def put_sealed_day(self, meter: str, day: int, sealed: bytes) -> None:
        """Keep a day's sealed bytes (replacing any) and delete its readings, in one transaction."""
        meter = meter.lower()
        where = (sealed_days.c.meter == meter, sealed_days.c.day == day)
        of_day = (
            readings.c.meter == meter,
            readings.c.interval_start >= day * m.PERIOD_S,
            readings.c.interval_start < (day + 1) * m.PERIOD_S,
        )

        def work(c: Connection) -> None:
            if c.execute(update(sealed_days).where(*where).values(sealed=sealed)).rowcount == 0:
                c.execute(insert(sealed_days).values(meter=meter, day=day, sealed=sealed))
            c.execute(readings.delete().where(*of_day))

        self.store.atomic(work)

    def sealed_days(self) -> list[tuple[str, int, bytes]]:
        rows = self.store.read(
            lambda c: c.execute(select(sealed_days).order_by(sealed_days.c.meter, sealed_days.c.day)).all()
        )
        return [(r.meter, r.day, bytes(r.sealed)) for r in rows]
