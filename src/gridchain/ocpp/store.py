"""The central system's durable state (schema `ocpp`): transactions, every meter sample, the DataTransfers it
accepted, the anomalies, the id tags admitted and the next transaction id, on a deployment's `Store`.

`OcppStore.load()` reads it back whole (a restart resumes from it); the `put_*` / `add_*` functions are the
writes, each run by the backend inside the one `Store.atomic` transaction of the message it handles, before the
answer is sent. A sample is keyed by (transaction, timestamp, reading context) and a transaction's start by
(charge point, connector, id tag, meter start, time), so a frame a charge point resends is stored once.

Units: energy [Wh], power [W], time [s] (unix seconds).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)

from gridchain.ocpp.anomalies import Anomaly, AnomalyKind
from gridchain.ocpp.messages.meter_values import MeterSample
from gridchain.store.engine import Store
from gridchain.store.migrate import Schema

metadata = MetaData()
transactions = Table(
    "ocpp_transactions",
    metadata,
    Column("transaction_id", BigInteger, primary_key=True, autoincrement=False),
    Column("cp_id", String(48), nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("id_tag", String(20), nullable=False),
    Column("meter_start_wh", BigInteger, nullable=False),
    Column("start_timestamp", BigInteger, nullable=False),
    Column("state", String(8), nullable=False),  # open | stopped
    Column("meter_stop_wh", BigInteger),  # the meter stop kept (None when out of range: see the anomalies)
    Column("stop_received_wh", BigInteger),  # the meter stop as received (a resent stop must repeat it)
    Column("stop_timestamp", BigInteger),
    Column("stop_reason", String(32)),
    UniqueConstraint("cp_id", "connector_id", "id_tag", "meter_start_wh", "start_timestamp", name="ocpp_tx_start"),
)
samples = Table(
    "ocpp_samples",
    metadata,
    Column("transaction_id", BigInteger, ForeignKey("ocpp_transactions.transaction_id"), primary_key=True),
    Column("timestamp", BigInteger, primary_key=True, autoincrement=False),
    Column("context", String(32), primary_key=True),
    Column("register_wh", BigInteger),
    Column("power_w", BigInteger),
    Column("interval_wh", BigInteger),
    Column("signed_data", Text),  # the meter's SignedData, as received
    Column("soc_pm", Integer),
)
data_transfers = Table(
    "ocpp_data_transfers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cp_id", String(48), nullable=False),
    Column("vendor_id", String(255), nullable=False),
    Column("message_id", String(50)),
    Column("data", Text),
)
anomalies = Table(
    "ocpp_anomalies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("cp_id", String(48), nullable=False),
    Column("detail", Text, nullable=False),
    Column("transaction_id", BigInteger),
    Column("samples", Text, nullable=False),  # JSON list of the samples concerned
)
id_tags = Table("ocpp_id_tags", metadata, Column("id_tag", String(20), primary_key=True))
sequences = Table(
    "ocpp_sequences",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("next_value", BigInteger, nullable=False),
)
SCHEMA = Schema("ocpp", metadata, Path(__file__).parent / "migrations")
TRANSACTION_IDS = "transaction_id"


@dataclass(frozen=True)
class TransactionRow:
    """A transaction as stored (its samples apart)."""

    transaction_id: int
    cp_id: str
    connector_id: int
    id_tag: str
    meter_start_wh: int
    start_timestamp: int
    meter_stop_wh: int | None = None
    stop_received_wh: int | None = None
    stop_timestamp: int | None = None
    stop_reason: str | None = None


@dataclass(frozen=True)
class Loaded:
    """Everything the central system keeps, as read back at a restart."""

    transactions: list[TransactionRow]
    samples: dict[int, list[MeterSample]]  # transaction id -> its samples
    anomalies: list[Anomaly]
    data_transfers: list[tuple[str, str, str | None, str | None]]
    id_tags: set[str]
    next_transaction_id: int


def _sample_json(sample: MeterSample) -> dict:
    return dataclasses.asdict(sample)


def _sample_fields(sample: MeterSample) -> dict:
    fields = _sample_json(sample)
    return {k: fields[k] for k in ("register_wh", "power_w", "interval_wh", "signed_data", "soc_pm")}


# -- writes: each called with the connection of the message's one transaction


def put_transaction(connection: Connection, row: TransactionRow, next_transaction_id: int) -> None:
    """A new transaction, and the next id, so that a restart never gives its id out again."""
    values = {**dataclasses.asdict(row), "state": "open"}
    connection.execute(insert(transactions).values(**values))
    done = connection.execute(
        update(sequences).where(sequences.c.name == TRANSACTION_IDS).values(next_value=next_transaction_id)
    )
    if done.rowcount == 0:
        connection.execute(insert(sequences).values(name=TRANSACTION_IDS, next_value=next_transaction_id))


def put_stop(connection: Connection, row: TransactionRow) -> None:
    connection.execute(
        update(transactions)
        .where(transactions.c.transaction_id == row.transaction_id)
        .values(
            state="stopped",
            meter_stop_wh=row.meter_stop_wh,
            stop_received_wh=row.stop_received_wh,
            stop_timestamp=row.stop_timestamp,
            stop_reason=row.stop_reason,
        )
    )


def put_sample(connection: Connection, transaction_id: int, sample: MeterSample, new: bool) -> None:
    """A sample not known yet (`new`), or the merged readings of one known (readings it lacked were added)."""
    key = {"transaction_id": transaction_id, "timestamp": sample.timestamp, "context": sample.context}
    if new:
        connection.execute(insert(samples).values(**key, **_sample_fields(sample)))
        return
    where = [samples.c[k] == v for k, v in key.items()]
    connection.execute(update(samples).where(*where).values(**_sample_fields(sample)))


def add_anomaly(connection: Connection, anomaly: Anomaly) -> None:
    connection.execute(
        insert(anomalies).values(
            kind=anomaly.kind.value,
            cp_id=anomaly.cp_id,
            detail=anomaly.detail,
            transaction_id=anomaly.transaction_id,
            samples=json.dumps([_sample_json(s) for s in anomaly.samples]),
        )
    )


def add_data_transfer(
    connection: Connection, cp_id: str, vendor_id: str, message_id: str | None, data: str | None
) -> None:
    connection.execute(
        insert(data_transfers).values(cp_id=cp_id, vendor_id=vendor_id, message_id=message_id, data=data)
    )


def add_id_tag(connection: Connection, id_tag: str) -> None:
    if connection.execute(select(id_tags).where(id_tags.c.id_tag == id_tag)).first() is None:
        connection.execute(insert(id_tags).values(id_tag=id_tag))


# -- reading it back


def _load(connection: Connection) -> Loaded:
    rows = connection.execute(select(transactions).order_by(transactions.c.transaction_id)).mappings().all()
    txs = [TransactionRow(**{k: v for k, v in r.items() if k != "state"}) for r in rows]
    by_tx: dict[int, list[MeterSample]] = {}
    for r in connection.execute(select(samples)).mappings():
        r = dict(r)
        by_tx.setdefault(r.pop("transaction_id"), []).append(MeterSample(**r))
    found = []
    for r in connection.execute(select(anomalies).order_by(anomalies.c.id)).mappings():
        kept = tuple(MeterSample(**s) for s in json.loads(r["samples"]))
        found.append(Anomaly(AnomalyKind(r["kind"]), r["cp_id"], r["detail"], r["transaction_id"], kept))
    transfers = [
        (r.cp_id, r.vendor_id, r.message_id, r.data)
        for r in connection.execute(select(data_transfers).order_by(data_transfers.c.id))
    ]
    tags = set(connection.execute(select(id_tags.c.id_tag)).scalars())
    counter = connection.execute(select(sequences.c.next_value).where(sequences.c.name == TRANSACTION_IDS)).scalar()
    next_id = max([counter or 1] + [t.transaction_id + 1 for t in txs])
    return Loaded(txs, by_tx, found, transfers, tags, next_id)


class OcppStore:
    """The central system's tables on `store` (migrated by `open`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def open(cls, store: Store) -> OcppStore:
        store.migrate(SCHEMA)
        return cls(store)

    def load(self) -> Loaded:
        return self.store.read(_load)

    def atomic(self, writes: list) -> None:
        """Run `writes` (each `write(connection)`) in one transaction."""

        def work(connection: Connection) -> None:
            for write in writes:
                write(connection)

        self.store.atomic(work)

    def count_samples(self, transaction_id: int) -> int:
        """How many samples of the transaction are stored (for tests and operators)."""
        from sqlalchemy import func

        query = select(func.count()).select_from(samples).where(samples.c.transaction_id == transaction_id)
        return self.store.read(lambda c: c.execute(query).scalar_one())
