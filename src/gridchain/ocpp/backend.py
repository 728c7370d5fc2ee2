"""The central system's business logic: `CentralBackend` (a Protocol) decides what the central system answers and
keeps what charge points send; `RecordingBackend` is the in-memory one: registered id tags, transactions and their
meter samples. A sample is one reading of a transaction at one time in one reading context; the same sample
received again is stored once, a sample that contradicts the one kept is an `Anomaly`, never dropped silently.
Energy = meter stop - meter start (or the last register - meter start while open), so a charge point that resends
after a reconnect never counts energy twice.

Units: power [W], energy [Wh], time [s] (unix seconds).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from ocpp.v16.enums import DataTransferStatus, ReadingContext

from gridchain.ocpp.anomalies import Anomaly, AnomalyKind
from gridchain.ocpp.frames import clip
from gridchain.ocpp.messages.meter_values import MAX_READING, READINGS, MeterSample
from gridchain.ocpp.store import (
    TransactionRow,
    add_anomaly,
    add_data_transfer,
    add_id_tag,
    put_sample,
    put_stop,
    put_transaction,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from gridchain.ocpp.store import OcppStore


class CentralBackend(Protocol):
    """The central system's business decisions; called on the server's event-loop thread, one message at a time
    per charge point. Raise InputError (naming the field) to answer a request with an OCPP CallError; OCPP 1.6
    (§4.7, §4.8, §4.10) wants MeterValues, StartTransaction and StopTransaction answered whatever their content's
    sanity checks say, so those record an `anomaly` instead (a MeterValues whose raw value is no decimal number
    at all is refused by the central system before the backend sees it)."""

    def boot_notification(self, cp_id: str, vendor: str, model: str) -> bool:
        """Accept the charge point's registration?"""
        ...

    def authorize(self, cp_id: str, id_tag: str) -> bool:
        """May `id_tag` charge?"""
        ...

    def start_transaction(
        self, cp_id: str, connector_id: int, id_tag: str, meter_start_wh: int, timestamp: int
    ) -> int | None:
        """A transaction id (> 0), or None to refuse. A resent StartTransaction (same charge point, connector,
        tag, time and meter start) should get the same id."""
        ...

    def meter_values(self, cp_id: str, transaction_id: int | None, samples: list[MeterSample]) -> None:
        """Readings of a transaction (None: outside one). May repeat readings already received."""
        ...

    def stop_transaction(
        self,
        cp_id: str,
        transaction_id: int,
        meter_stop_wh: int,
        timestamp: int,
        reason: str,
        samples: list[MeterSample],
    ) -> None:
        """The transaction's end, with its transactionData readings. May be a resend; never refused."""
        ...

    def status_notification(
        self, cp_id: str, connector_id: int, status: str, error_code: str, timestamp: int | None
    ) -> None:
        """A connector's status."""
        ...

    def data_transfer(
        self, cp_id: str, vendor_id: str, message_id: str | None, data: str | None
    ) -> tuple[str, str | None]:
        """A vendor-specific DataTransfer: (status, data). OCPP 1.6 §4.3: `UnknownVendorId` (and no data) for a
        vendor without an implementation, `UnknownMessageId` for a message id it does not know, else `Accepted`
        or `Rejected` as agreed with the vendor."""
        ...

    def anomaly(self, anomaly: Anomaly) -> None:
        """Keep something answered but not applied."""
        ...


@dataclass(frozen=True)
class TransactionRecord:
    """A transaction as the central system knows it: `samples` sorted by time, then reading context (Begin
    first, End last), one per (time, context); `anomalies` are what was kept apart for it."""

    transaction_id: int
    cp_id: str
    connector_id: int
    id_tag: str
    meter_start_wh: int
    start_timestamp: int
    samples: tuple[MeterSample, ...]
    meter_stop_wh: int | None = None
    stop_timestamp: int | None = None
    stop_reason: str | None = None
    anomalies: tuple[Anomaly, ...] = ()

    @property
    def open(self) -> bool:
        return self.stop_timestamp is None

    @property
    def energy_wh(self) -> int:
        """Energy delivered [Wh], never negative: meter stop - meter start once stopped with a valid meter stop;
        else the latest register - meter start; without any register, the sum of the interval readings of the
        clock-aligned samples (or, without those, of the periodic ones: the two would count the same energy)."""
        if self.meter_stop_wh is not None:
            return self.meter_stop_wh - self.meter_start_wh
        registers = [s.register_wh for s in self.samples if s.register_wh is not None]
        if registers:
            return max(0, registers[-1] - self.meter_start_wh)
        for context in (ReadingContext.sample_clock, ReadingContext.sample_periodic):
            intervals = [s.interval_wh for s in self.samples if s.context == context and s.interval_wh is not None]
            if intervals:
                return sum(intervals)
        return 0


_CONTEXT_RANK = {ReadingContext.transaction_begin.value: 0, ReadingContext.transaction_end.value: 2}


def _sample_order(key: tuple[int, str]) -> tuple[int, int, str]:
    timestamp, context = key
    return timestamp, _CONTEXT_RANK.get(context, 1), context


@dataclass
class _Transaction:
    transaction_id: int
    cp_id: str
    connector_id: int
    id_tag: str
    meter_start_wh: int
    start_timestamp: int
    samples: dict[tuple[int, str], MeterSample] = field(default_factory=dict)  # (timestamp, context) -> sample
    meter_stop_wh: int | None = None
    stop_timestamp: int | None = None
    stop_reason: str | None = None
    stop: tuple[int, int, str] | None = None  # (meterStop, timestamp, reason) as received, to tell a resend

    def row(self) -> TransactionRow:
        received = self.stop[0] if self.stop is not None else None
        return TransactionRow(
            self.transaction_id,
            self.cp_id,
            self.connector_id,
            self.id_tag,
            self.meter_start_wh,
            self.start_timestamp,
            self.meter_stop_wh,
            received,
            self.stop_timestamp,
            self.stop_reason,
        )

    @classmethod
    def from_row(cls, row: TransactionRow, samples: Iterable[MeterSample]) -> _Transaction:
        tx = cls(row.transaction_id, row.cp_id, row.connector_id, row.id_tag, row.meter_start_wh, row.start_timestamp)
        tx.samples = {(s.timestamp, s.context): s for s in samples}
        tx.meter_stop_wh, tx.stop_timestamp, tx.stop_reason = row.meter_stop_wh, row.stop_timestamp, row.stop_reason
        if row.stop_timestamp is not None:
            tx.stop = (row.stop_received_wh, row.stop_timestamp, row.stop_reason)
        return tx

    def snapshot(self, anomalies: tuple[Anomaly, ...]) -> TransactionRecord:
        samples = tuple(self.samples[k] for k in sorted(self.samples, key=_sample_order))
        return TransactionRecord(
            self.transaction_id,
            self.cp_id,
            self.connector_id,
            self.id_tag,
            self.meter_start_wh,
            self.start_timestamp,
            samples,
            self.meter_stop_wh,
            self.stop_timestamp,
            self.stop_reason,
            anomalies,
        )


class RecordingBackend:
    """The in-memory backend: accepts every boot and the registered id tags, numbers transactions 1, 2, ...,
    keeps their samples. Idempotent, so a charge point may resend anything after a reconnect:

    - a sample is keyed by (transaction, timestamp, reading context); the readings of a sample received again
      are merged field by field: one not known yet is added, an equal one is a duplicate, a different one is
      an Anomaly (CONFLICT, the first kept); a sample that added nothing counts in `duplicates`;
    - a resent StartTransaction gets the same id; a resent StopTransaction (same meter stop, time and reason)
      changes nothing; one with other values, or for a transaction not of this charge point, is an Anomaly.

    `data_transfer` answers vendors registered with `add_vendor`. Thread-safe: the server's thread writes, tests
    read. Without `store` everything stays in memory. With an `OcppStore`, what it had is read back at
    construction (a restart resumes: transactions, samples, anomalies, data transfers, id tags, the next
    transaction id) and each message's changes are written in ONE transaction before the method returns, so
    before the central system answers; if that write fails, the memory is read back from the store and the
    error goes up (the charge point gets a CallError and sends the message again)."""

    def __init__(self, id_tags: Iterable[str] = (), store: OcppStore | None = None) -> None:
        self._lock = threading.RLock()
        self._store = store
        self._writes: list[Callable[[Connection], None]] = []
        self._depth = 0  # nesting of `_changing`: the outermost one writes
        self._vendors: dict[str, frozenset[str]] = {}  # vendor id -> message ids (empty: any)
        self._restore()
        for tag in id_tags:
            self.add_id_tag(tag)

    def _restore(self) -> None:
        """The state in memory: empty, or (with a store) what the store holds."""
        self._id_tags: set[str] = set()
        self._transactions: dict[int, _Transaction] = {}
        self._starts: dict[tuple[str, int, str, int, int], int] = {}
        self._next_id = 1
        self.booted: dict[str, tuple[str, str]] = {}  # cp_id -> (vendor, model)
        self.statuses: dict[tuple[str, int], str] = {}  # (cp_id, connector_id) -> last status
        self.arrivals: list[tuple[int, int]] = []  # (transaction_id, timestamp) of every sample, as received
        self.duplicates = 0  # samples received again that added nothing
        self.anomalies: list[Anomaly] = []
        self.orphans: list[tuple[str, MeterSample]] = []  # (cp_id, sample) of readings outside a transaction
        self.data_transfers: list[tuple[str, str, str | None, str | None]] = []  # (cp_id, vendor, message, data)
        if self._store is None:
            return
        loaded = self._store.load()
        for row in loaded.transactions:
            tx = _Transaction.from_row(row, loaded.samples.get(row.transaction_id, ()))
            self._transactions[tx.transaction_id] = tx
            key = (tx.cp_id, tx.connector_id, tx.id_tag, tx.meter_start_wh, tx.start_timestamp)
            self._starts[key] = tx.transaction_id
        self._id_tags = set(loaded.id_tags)
        self._next_id = loaded.next_transaction_id
        self.anomalies = list(loaded.anomalies)
        self.data_transfers = list(loaded.data_transfers)

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the lock over one message's changes; with a store, write them in one transaction at the end (a
        failed write reads the memory back from the store, then goes up)."""
        with self._lock:
            self._depth += 1
            try:
                yield
            except BaseException:
                self._writes = [] if self._depth == 1 else self._writes
                raise
            finally:
                self._depth -= 1
            if self._depth or not self._writes:
                return
            writes, self._writes = self._writes, []
            if self._store is None:
                return
            try:
                self._store.atomic(writes)
            except BaseException:
                self._restore()
                raise

    def _write(self, write: Callable[[Connection], None]) -> None:
        if self._store is not None:
            self._writes.append(write)

    @property
    def conflicts(self) -> list[Anomaly]:
        """The anomalies of readings that contradicted the ones kept."""
        with self._lock:
            return [a for a in self.anomalies if a.kind == AnomalyKind.CONFLICT]

    def add_id_tag(self, id_tag: str) -> None:
        with self._changing():
            if id_tag not in self._id_tags:
                self._id_tags.add(id_tag)
                self._write(lambda c: add_id_tag(c, id_tag))

    def add_vendor(self, vendor_id: str, message_ids: Iterable[str] = ()) -> None:
        """Accept DataTransfer from `vendor_id`, for `message_ids` (none given: any message id)."""
        with self._lock:
            self._vendors[vendor_id] = frozenset(message_ids)

    def boot_notification(self, cp_id: str, vendor: str, model: str) -> bool:
        with self._lock:
            self.booted[cp_id] = (vendor, model)
        return True

    def authorize(self, cp_id: str, id_tag: str) -> bool:
        with self._lock:
            return id_tag in self._id_tags

    def start_transaction(
        self, cp_id: str, connector_id: int, id_tag: str, meter_start_wh: int, timestamp: int
    ) -> int | None:
        key = (cp_id, connector_id, id_tag, meter_start_wh, timestamp)
        with self._changing():
            if id_tag not in self._id_tags:
                return None
            if key in self._starts:
                return self._starts[key]
            transaction_id = self._next_id
            self._next_id += 1
            self._starts[key] = transaction_id
            tx = _Transaction(transaction_id, cp_id, connector_id, id_tag, meter_start_wh, timestamp)
            self._transactions[transaction_id] = tx
            row, next_id = tx.row(), self._next_id
            self._write(lambda c: put_transaction(c, row, next_id))
            return transaction_id

    def _note(
        self,
        kind: AnomalyKind,
        cp_id: str,
        detail: str,
        transaction_id: int | None = None,
        samples: Iterable[MeterSample] = (),
    ) -> None:
        self._keep(Anomaly(kind, cp_id, detail, transaction_id, tuple(samples)))

    def _keep(self, anomaly: Anomaly) -> None:
        self.anomalies.append(anomaly)
        self._write(lambda c: add_anomaly(c, anomaly))

    def _own(self, cp_id: str, transaction_id: int | None) -> _Transaction | None:
        tx = self._transactions.get(transaction_id) if transaction_id is not None else None
        return tx if tx is not None and tx.cp_id == cp_id else None

    def _add_samples(self, tx: _Transaction, samples: list[MeterSample]) -> None:
        for sample in samples:
            self.arrivals.append((tx.transaction_id, sample.timestamp))
            if tx.stop_timestamp is not None and sample.timestamp > tx.stop_timestamp:
                self._note(
                    AnomalyKind.AFTER_STOP,
                    tx.cp_id,
                    f"timestamp: {sample.timestamp} is after the stop at {tx.stop_timestamp}",
                    tx.transaction_id,
                    [sample],
                )
                continue
            key = (sample.timestamp, sample.context)
            kept = tx.samples.get(key)
            if kept is None:
                tx.samples[key] = sample
                self._write(lambda c, t=tx.transaction_id, s=sample: put_sample(c, t, s, new=True))
                continue
            pairs = [(f, getattr(kept, f), getattr(sample, f)) for f in READINGS]
            added = {f: new for f, old, new in pairs if old is None and new is not None}
            clashes = [f for f, old, new in pairs if None not in (old, new) and old != new]
            if added:
                tx.samples[key] = merged = replace(kept, **added)
                self._write(lambda c, t=tx.transaction_id, s=merged: put_sample(c, t, s, new=False))
            if clashes:
                said = ", ".join(f"{f} {clip(getattr(sample, f))} (kept {clip(getattr(kept, f))})" for f in clashes)
                self._note(
                    AnomalyKind.CONFLICT,
                    tx.cp_id,
                    f"sample at {sample.timestamp} {sample.context}: {said}",
                    tx.transaction_id,
                    [sample],
                )
            elif not added:
                self.duplicates += 1

    def meter_values(self, cp_id: str, transaction_id: int | None, samples: list[MeterSample]) -> None:
        with self._changing():
            if transaction_id is None:
                self.orphans.extend((cp_id, s) for s in samples)
                return
            tx = self._own(cp_id, transaction_id)
            if tx is None:
                if samples:
                    self._note(
                        AnomalyKind.UNKNOWN_TRANSACTION,
                        cp_id,
                        f"transactionId: {transaction_id} is not a transaction of {cp_id!r}",
                        transaction_id,
                        samples,
                    )
                return
            self._add_samples(tx, samples)

    def stop_transaction(
        self,
        cp_id: str,
        transaction_id: int,
        meter_stop_wh: int,
        timestamp: int,
        reason: str,
        samples: list[MeterSample],
    ) -> None:
        stop = (meter_stop_wh, timestamp, reason)
        with self._changing():
            tx = self._own(cp_id, transaction_id)
            if tx is None:
                self._note(
                    AnomalyKind.UNKNOWN_TRANSACTION,
                    cp_id,
                    f"transactionId: {transaction_id} is not a transaction of {cp_id!r} (StopTransaction)",
                    transaction_id,
                    samples,
                )
                return
            if tx.stop is not None:
                if tx.stop == stop:
                    self._add_samples(tx, samples)
                else:
                    said = f"(meterStop, timestamp, reason) {tx.stop}, now {stop}"
                    self._note(
                        AnomalyKind.STOPPED_AGAIN,
                        cp_id,
                        f"transactionId: {transaction_id} was stopped with {said}",
                        transaction_id,
                        samples,
                    )
                return
            tx.stop, tx.stop_timestamp, tx.stop_reason = stop, timestamp, reason
            if tx.meter_start_wh <= meter_stop_wh <= MAX_READING:
                tx.meter_stop_wh = meter_stop_wh
            else:
                bound = (
                    f"below the meter start {tx.meter_start_wh}"
                    if meter_stop_wh < tx.meter_start_wh
                    else (f"above {MAX_READING}")
                )
                self._note(AnomalyKind.BAD_METER_STOP, cp_id, f"meterStop: {meter_stop_wh} is {bound}", transaction_id)
            row = tx.row()
            self._write(lambda c: put_stop(c, row))
            self._add_samples(tx, samples)

    def status_notification(
        self, cp_id: str, connector_id: int, status: str, error_code: str, timestamp: int | None
    ) -> None:
        with self._lock:
            self.statuses[(cp_id, connector_id)] = status

    def data_transfer(
        self, cp_id: str, vendor_id: str, message_id: str | None, data: str | None
    ) -> tuple[str, str | None]:
        with self._changing():
            if vendor_id not in self._vendors:
                return DataTransferStatus.unknown_vendor_id.value, None
            known = self._vendors[vendor_id]
            if known and message_id not in known:
                return DataTransferStatus.unknown_message_id.value, None
            self.record_data_transfer(cp_id, vendor_id, message_id, data)
            return DataTransferStatus.accepted.value, None

    def record_data_transfer(self, cp_id: str, vendor_id: str, message_id: str | None, data: str | None) -> None:
        """Keep an accepted DataTransfer (a subclass answering a vendor itself calls this)."""
        with self._changing():
            self.data_transfers.append((cp_id, vendor_id, message_id, data))
            self._write(lambda c: add_data_transfer(c, cp_id, vendor_id, message_id, data))

    def anomaly(self, anomaly: Anomaly) -> None:
        with self._changing():
            self._keep(anomaly)

    # -- reading, from any thread

    def _record(self, tx: _Transaction) -> TransactionRecord:
        mine = tuple(a for a in self.anomalies if a.transaction_id == tx.transaction_id and a.cp_id == tx.cp_id)
        return tx.snapshot(mine)

    def transaction(self, transaction_id: int) -> TransactionRecord:
        with self._lock:
            if transaction_id not in self._transactions:
                raise LookupError(f"transaction_id: {transaction_id} is not known")
            return self._record(self._transactions[transaction_id])

    def transactions(self) -> list[TransactionRecord]:
        with self._lock:
            return [self._record(self._transactions[t]) for t in sorted(self._transactions)]

    def energy_wh(self, transaction_id: int) -> int:
        """Energy of a transaction so far [Wh]."""
        return self.transaction(transaction_id).energy_wh
