"""Monitoring's durable state (schema `monitoring`): what the processing nodes wrote, what the consensus nodes
attested, what the monitor found.

- `monitoring_records`: each household's thread as the processing nodes show it (one row per household and seq;
  a node that rewrites a record replaces the row: the monitor compares it with what was attested);
- `monitoring_batches` and `monitoring_batch_records`: the batches the attestor published (their records in
  order, and the root the consensus nodes signed); a batch is written whole in one transaction;
- `monitoring_roots`: the attested roots as the log's `Attested` events hold them (the monitor's cursor over the
  chain is `monitoring_state.roots_block`);
- `monitoring_alerts`: every alert once (`key`), `notified` to the household, or on chain: `reporting` (written
  before the report is sent) -> `reported` (with the transaction and the `Breach` event's reason) or
  `unreportable` (the contract cannot judge it: notified instead);
- `monitoring_intents`: the batch the attestor is about to attest (index, root, its records), written before
  it is sent and removed in the transaction that publishes it (or when the chain shows it will never be);
- `monitoring_state`: named values (cursors).

Plain values in and out (no chain here): records as `Access`, hashes as bytes, times [s].
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from gridchain.monitoring.model.records import Access, RecordBatch
from gridchain.store.engine import Store
from gridchain.store.migrate import Schema

metadata = MetaData()
records = Table(
    "monitoring_records",
    metadata,
    Column("household", String(42), primary_key=True),  # lower-case
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("leaf", String(66), nullable=False),
    Column("record", Text, nullable=False),  # access_json
)
batches = Table(
    "monitoring_batches",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(66), nullable=False),
    Column("size", Integer, nullable=False),
)
batch_records = Table(
    "monitoring_batch_records",
    metadata,
    Column("batch", BigInteger, primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("household", String(42), nullable=False, index=True),
    Column("seq", BigInteger, nullable=False),
    Column("record", Text, nullable=False),
)
roots = Table(
    "monitoring_roots",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(66), nullable=False),
    Column("block", BigInteger, nullable=False),
)
alerts = Table(
    "monitoring_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("household", String(42), nullable=False, index=True),
    Column("seq", BigInteger),
    Column("detail", Text, nullable=False),
    Column("batch", BigInteger),
    Column("position", Integer),
    Column("record", Text),  # access_json of the record judged, if any
    Column("state", String(14), nullable=False),  # notified | reporting | reported | unreportable
    Column("reason", Integer),  # the Breach event's reason (reported)
    Column("tx_hash", String(66)),
    Column("gas", BigInteger),
    Column("at", BigInteger, nullable=False),  # the round's time [s]
)
state = Table(
    "monitoring_state",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)
intents = Table(
    "monitoring_intents",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(66), nullable=False),
    Column("records", Text, nullable=False),  # a JSON list of access_json
    Column("at", BigInteger, nullable=False),  # when it was written [s]
)
SCHEMA = Schema("monitoring", metadata, Path(__file__).parent / "migrations")
ALERT_STATES = ("notified", "reporting", "reported", "unreportable")


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _bytes(s: str) -> bytes:
    return bytes.fromhex(s[2:])


def access_json(a: Access) -> dict:
    """A record as JSON-able values (hashes 0x-hex)."""
    return {
        "household": a.household,
        "seq": a.seq,
        "node": a.node,
        "grantee": a.grantee,
        "grant": _hex(a.grant),
        "first_day": a.first_day,
        "last_day": a.last_day,
        "purpose": _hex(a.purpose),
        "time": a.time,
        "data_hash": _hex(a.data_hash),
        "prev": _hex(a.prev),
    }


def access_from(d: dict) -> Access:
    """The record of `access_json`."""
    return Access(
        d["household"],
        int(d["seq"]),
        d["node"],
        d["grantee"],
        _bytes(d["grant"]),
        int(d["first_day"]),
        int(d["last_day"]),
        _bytes(d["purpose"]),
        int(d["time"]),
        _bytes(d["data_hash"]),
        _bytes(d["prev"]),
    )


def _dump(a: Access) -> str:
    return json.dumps(access_json(a), sort_keys=True)


@dataclass(frozen=True)
class AlertRow:
    id: int
    key: str
    kind: str
    household: str
    seq: int | None
    detail: str
    batch: int | None
    position: int | None
    record: Access | None
    state: str
    reason: int | None
    tx_hash: str | None
    gas: int | None
    at: int

    def as_json(self) -> dict:
        out = {k: getattr(self, k) for k in ("id", "kind", "household", "seq", "detail", "batch", "state")}
        out |= {"reason": self.reason, "tx_hash": self.tx_hash, "gas": self.gas, "at": self.at}
        out["record"] = None if self.record is None else access_json(self.record)
        out["leaf"] = None if self.record is None else _hex(self.record.leaf())
        return out


def _alert(r) -> AlertRow:
    record = None if r.record is None else access_from(json.loads(r.record))
    return AlertRow(
        r.id, r.key, r.kind, r.household, r.seq, r.detail, r.batch, r.position, record, r.state, r.reason,
        r.tx_hash, r.gas, int(r.at),
    )  # fmt: skip


class AccessStore:
    """Monitoring's tables on `store` (migrated by `open`); every method is one transaction unless it takes a
    connection (then it is a step of the caller's)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def open(cls, store: Store) -> AccessStore:
        store.migrate(SCHEMA)
        return cls(store)

    # -- the processing nodes' threads

    def put_records(self, rs: Iterable[Access]) -> None:
        """Write records (each replaces the row of its household and seq, if any)."""
        rows = [
            {"household": r.household.lower(), "seq": r.seq, "leaf": _hex(r.leaf()), "record": _dump(r)} for r in rs
        ]

        def work(c: Connection) -> None:
            for row in rows:
                c.execute(delete(records).where(records.c.household == row["household"], records.c.seq == row["seq"]))
                c.execute(insert(records).values(**row))

        self.store.atomic(work)

    def threads(self, household: str | None = None) -> dict[str, list[Access]]:
        """Every household's records (or one's) in seq order, as the processing nodes show them."""

        def work(c: Connection) -> dict[str, list[Access]]:
            q = select(records.c.household, records.c.record).order_by(records.c.household, records.c.seq)
            if household is not None:
                q = q.where(records.c.household == household.lower())
            out: dict[str, list[Access]] = {}
            for h, text in c.execute(q):
                out.setdefault(h, []).append(access_from(json.loads(text)))
            return out

        return self.store.read(work)

    # -- the attestor's batches

    def publish(self, batch: RecordBatch) -> None:
        """Write an attested batch whole (again: nothing changes if it is the same; another one is refused)."""
        self.store.atomic(lambda c: self._publish(c, batch))

    @staticmethod
    def _publish(c: Connection, batch: RecordBatch) -> None:
        root = _hex(batch.root())
        old = c.execute(select(batches.c.root).where(batches.c.idx == batch.index)).scalar()
        if old is not None:
            if old != root:
                raise ValueError(f"batch {batch.index}: published with root {old}, not {root}")
            return
        c.execute(insert(batches).values(idx=batch.index, root=root, size=len(batch.records)))
        c.execute(
            insert(batch_records),
            [
                {
                    "batch": batch.index,
                    "position": i,
                    "household": r.household.lower(),
                    "seq": r.seq,
                    "record": _dump(r),
                }
                for i, r in enumerate(batch.records)
            ],
        )

    # -- the attestor's intent (one at a time)

    def put_intent(self, batch: RecordBatch, at: int) -> None:
        """Write the batch about to be attested (ValueError if another intent is left: settle it first)."""
        text = json.dumps([access_json(r) for r in batch.records], sort_keys=True)

        def work(c: Connection) -> None:
            left = c.execute(select(intents.c.idx)).scalar()
            if left is not None:
                raise ValueError(f"intent: batch {left} is not settled")
            c.execute(insert(intents).values(idx=batch.index, root=_hex(batch.root()), records=text, at=at))

        self.store.atomic(work)

    def intent(self) -> RecordBatch | None:
        """The batch the attestor meant to attest and has not settled, if any."""

        def work(c: Connection) -> RecordBatch | None:
            row = c.execute(select(intents.c.idx, intents.c.root, intents.c.records)).first()
            if row is None:
                return None
            batch = RecordBatch(int(row.idx), tuple(access_from(d) for d in json.loads(row.records)))
            if _hex(batch.root()) != row.root:
                raise ValueError(f"intent: batch {row.idx}'s records do not make its root {row.root}")
            return batch

        return self.store.read(work)

    def settle_intent(self, batch: RecordBatch, attested: bool) -> None:
        """Remove the intent of `batch`, publishing it in the same transaction if the chain `attested` it."""

        def work(c: Connection) -> None:
            if attested:
                self._publish(c, batch)
            c.execute(delete(intents).where(intents.c.idx == batch.index))

        self.store.atomic(work)

    def batches(self, from_index: int = 0) -> list[RecordBatch]:
        """The published batches from `from_index` on, in index order."""

        def work(c: Connection) -> list[RecordBatch]:
            q = (
                select(batch_records.c.batch, batch_records.c.record)
                .where(batch_records.c.batch >= from_index)
                .order_by(batch_records.c.batch, batch_records.c.position)
            )
            grouped: dict[int, list[Access]] = {}
            for b, text in c.execute(q):
                grouped.setdefault(int(b), []).append(access_from(json.loads(text)))
            return [RecordBatch(i, tuple(rs)) for i, rs in grouped.items()]

        return self.store.read(work)

    def attested(self, household: str) -> list[tuple[int, int, Access]]:
        """(batch, position, record) of every attested record of `household`, in seq order."""

        def work(c: Connection) -> list[tuple[int, int, Access]]:
            q = (
                select(batch_records.c.batch, batch_records.c.position, batch_records.c.record)
                .where(batch_records.c.household == household.lower())
                .order_by(batch_records.c.seq, batch_records.c.batch)
            )
            return [(int(b), int(p), access_from(json.loads(t))) for b, p, t in c.execute(q)]

        return self.store.read(work)

    # -- the log's roots (the monitor's copy of the chain)

    def put_roots(self, rows: Sequence[tuple[int, bytes, int]], cursor: int) -> None:
        """Store (index, root, block) rows and the block read up to, in one transaction."""

        def work(c: Connection) -> None:
            for idx, root, block in rows:
                c.execute(delete(roots).where(roots.c.idx == idx))
                c.execute(insert(roots).values(idx=idx, root=_hex(root), block=block))
            set_value(c, "roots_block", str(cursor))

        self.store.atomic(work)

    def roots(self) -> list[bytes]:
        """The stored roots in index order."""
        return self.store.read(lambda c: [_bytes(r) for (r,) in c.execute(select(roots.c.root).order_by(roots.c.idx))])

    def value(self, name: str, default: str | None = None) -> str | None:
        return self.store.read(lambda c: get_value(c, name, default))

    # -- alerts

    def alert_keys(self) -> set[str]:
        return self.store.read(lambda c: {k for (k,) in c.execute(select(alerts.c.key))})

    def add_alert(self, c: Connection, key: str, kind: str, household: str, state_: str, at: int, **more) -> int:
        """Insert an alert in the caller's transaction; its id."""
        if state_ not in ALERT_STATES:
            raise ValueError(f"state: {state_!r} is not one of {ALERT_STATES}")
        record = more.pop("record", None)
        values = {"key": key, "kind": kind, "household": household.lower(), "state": state_, "at": at} | more
        values["record"] = None if record is None else _dump(record)
        return int(c.execute(insert(alerts).values(**values)).inserted_primary_key[0])

    def set_alert(self, alert_id: int, **values) -> None:
        """Move an alert on (state, reason, tx_hash, gas, detail)."""
        if "state" in values and values["state"] not in ALERT_STATES:
            raise ValueError(f"state: {values['state']!r} is not one of {ALERT_STATES}")
        self.store.atomic(lambda c: c.execute(update(alerts).where(alerts.c.id == alert_id).values(**values)))

    def alerts(self, household: str | None = None, states: Sequence[str] = ALERT_STATES) -> list[AlertRow]:
        """Alerts in the order they were raised (one household's, or all)."""

        def work(c: Connection) -> list[AlertRow]:
            q = select(alerts).where(alerts.c.state.in_(list(states))).order_by(alerts.c.id)
            if household is not None:
                q = q.where(alerts.c.household == household.lower())
            return [_alert(r) for r in c.execute(q)]

        return self.store.read(work)


def get_value(c: Connection, name: str, default: str | None = None) -> str | None:
    v = c.execute(select(state.c.value).where(state.c.name == name)).scalar()
    return default if v is None else v


def set_value(c: Connection, name: str, value: str) -> None:
    c.execute(delete(state).where(state.c.name == name))
    c.execute(insert(state).values(name=name, value=value))
