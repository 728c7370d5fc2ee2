"""The OCPP 1.6-J central system: websockets on 127.0.0.1, the `ocpp` library's protocol, injected business logic.

- `CentralChargePoint` (an `ocpp.v16.ChargePoint`, one per connected charge point) holds the protocol. It reads
  every frame itself (`route_message`): JSON with bounded numbers, the OCPP-J frame, the 1.6 schema, each refusal
  a CallError with the code OCPP-J 1.6 Table 7 gives it and the field named; then its `@on` handlers parse and
  check each request and hand the decision to a `CentralBackend`. It runs over whatever connection it is given,
  so the protocol is testable without a network.
- `CentralBackend` is that business logic (a Protocol). `RecordingBackend` is the in-memory one: registered id
  tags, transactions and their meter samples. A sample is one reading of a transaction at one time in one
  reading context; the same sample received again is stored once, a sample that contradicts the one kept is an
  `Anomaly`, never dropped silently. Energy = meter stop - meter start (or the last register - meter start while
  open), so a charge point that resends after a reconnect never counts energy twice.
- `CentralSystem` serves websockets (subprotocol ocpp1.6, the charge point's id is the URL path) on 127.0.0.1 in
  a thread with its own asyncio loop, and pushes a coordinator's allocation to a charge point as a
  SetChargingProfile (TxProfile, limit in W) from plain Python: `set_charging_profile`.

One event loop serves every charge point, so no frame may cost more than a bounded, linear amount of work: a
websocket message is at most `max_message_bytes`, arrays and objects nest at most MAX_JSON_DEPTH levels (checked
before parsing), a JSON number literal is converted only if it has at most MAX_NUMBER_CHARS characters, a
decimal meter reading only if it has at most MAX_DECIMAL_CHARS characters and an exponent that keeps it at most
MAX_READING, and schemas are checked in the loop's executor.

Units: power [W], energy [Wh], time [s] (unix seconds). See docs/ocpp.md for the message flow and the rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Context, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import unquote

import websockets
from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import (
    FormationViolationError,
    InternalError,
    NotSupportedError,
    OccurenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
    TypeConstraintViolationError,
)
from ocpp.exceptions import NotImplementedError as NotImplementedCallError
from ocpp.messages import Call, CallError, CallResult, get_validator
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call, call_result, datatypes
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    ChargingProfileKindType,
    ChargingRateUnitType,
    DataTransferStatus,
    Measurand,
    ReadingContext,
    RegistrationStatus,
    ValueFormat,
)

from gridchain.checks import check_min_int, check_seconds
from gridchain.errors import InputError
from gridchain.ocpp.charge_point import (
    SUBPROTOCOL,
    TX_DEFAULT_PROFILE,
    TX_PROFILE,
    LoopThread,
    iso_utc,
    unix_s,
)

LOG = logging.getLogger("gridchain.ocpp_central")

MAX_MESSAGE_BYTES = 131_072  # [bytes] a larger websocket message closes the connection (1009, message too big)
MAX_NUMBER_CHARS = 20  # a longer JSON number literal is not converted: TypeConstraintViolation naming the field
MAX_DECIMAL_CHARS = 40  # a longer SampledValue.value is not a reading
MAX_READING = 10**15  # [Wh or W] the largest register, interval or power reading kept (a petawatt-hour)
MAX_JSON_DEPTH = 16  # nesting of arrays and objects (an OCPP 1.6 frame needs 6); deeper is refused before parsing
MAX_MESSAGE_ID_CHARS = 36  # OCPP-J 1.6 §4.1.4
MAX_DESCRIPTION_CHARS = 200  # an errorDescription or anomaly quotes at most this much of the offending value

# ------------------------------------------------------------------------------------------ data and backends


@dataclass(frozen=True)
class MeterSample:
    """One sample of a transaction: what the meter read at `timestamp` [s] in one OCPP reading `context`
    (`Sample.Clock`, `Transaction.End`, ...; OCPP's default `Sample.Periodic`). Each reading is None if not sent:
    the Energy.Active.Import.Register [Wh] (the total, or the sum of phases L1..L3 when no total is sent), the
    Power.Active.Import [W] (likewise), the Energy.Active.Import.Interval [Wh] (energy of the interval ending at
    `timestamp`, not a register), and the register's SignedData (the meter's signed reading)."""

    timestamp: int
    register_wh: int | None
    power_w: int | None = None
    signed_data: str | None = None
    context: str = ReadingContext.sample_periodic.value
    interval_wh: int | None = None


READINGS = ("register_wh", "power_w", "interval_wh", "signed_data")  # the fields of a MeterSample that are readings


class AnomalyKind(StrEnum):
    """Why the central system kept something a charge point sent apart instead of applying it."""

    CALL_ERROR = "call error"  # a CALL answered with a CallError (its code and description in `detail`)
    IGNORED_FRAME = "ignored frame"  # a frame with no CALL to answer (not JSON, no message id, unknown type...)
    BAD_VALUE = "bad value"  # a sampled value that is not a reading in range, or has a wrong unit: not stored
    CONFLICT = "conflict"  # a reading that contradicts the one kept for the same sample: not stored
    UNKNOWN_TRANSACTION = "unknown transaction"  # readings or a stop for a transaction not of this charge point
    STOPPED_AGAIN = "stopped again"  # a StopTransaction for a stopped transaction, with other values
    AFTER_STOP = "after stop"  # readings of a stopped transaction dated after its stop: not stored
    BAD_METER_STOP = "bad meter stop"  # meterStop below meterStart or above MAX_READING: the stop kept without it
    BAD_METER_START = "bad meter start"  # meterStart outside 0..MAX_READING: the transaction refused


@dataclass(frozen=True)
class Anomaly:
    """Something a charge point sent that the central system answered but did not apply, kept for the operator:
    `detail` names the field and the value; `samples` are the readings concerned, as received."""

    kind: AnomalyKind
    cp_id: str
    detail: str
    transaction_id: int | None = None
    samples: tuple[MeterSample, ...] = ()


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


def _clip(value: object, limit: int = 40) -> str:
    """`value`'s repr, cut to `limit` characters: a refusal quotes the offending value, never megabytes of it."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


class RecordingBackend:
    """The in-memory backend: accepts every boot and the registered id tags, numbers transactions 1, 2, ...,
    keeps their samples. Idempotent, so a charge point may resend anything after a reconnect:

    - a sample is keyed by (transaction, timestamp, reading context); the readings of a sample received again
      are merged field by field: one not known yet is added, an equal one is a duplicate, a different one is
      an Anomaly (CONFLICT, the first kept); a sample that added nothing counts in `duplicates`;
    - a resent StartTransaction gets the same id; a resent StopTransaction (same meter stop, time and reason)
      changes nothing; one with other values, or for a transaction not of this charge point, is an Anomaly.

    `data_transfer` answers vendors registered with `add_vendor`. Thread-safe: the server's thread writes, tests
    read. Everything stays in memory: a long-running service needs a store with quotas (see docs/security.md)."""

    def __init__(self, id_tags: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._id_tags = set(id_tags)
        self._vendors: dict[str, frozenset[str]] = {}  # vendor id -> message ids (empty: any)
        self._transactions: dict[int, _Transaction] = {}
        self._starts: dict[tuple[str, int, str, int, int], int] = {}
        self._next_id = itertools.count(1)
        self.booted: dict[str, tuple[str, str]] = {}  # cp_id -> (vendor, model)
        self.statuses: dict[tuple[str, int], str] = {}  # (cp_id, connector_id) -> last status
        self.arrivals: list[tuple[int, int]] = []  # (transaction_id, timestamp) of every sample, as received
        self.duplicates = 0  # samples received again that added nothing
        self.anomalies: list[Anomaly] = []
        self.orphans: list[tuple[str, MeterSample]] = []  # (cp_id, sample) of readings outside a transaction
        self.data_transfers: list[tuple[str, str, str | None, str | None]] = []  # (cp_id, vendor, message, data)

    @property
    def conflicts(self) -> list[Anomaly]:
        """The anomalies of readings that contradicted the ones kept."""
        with self._lock:
            return [a for a in self.anomalies if a.kind == AnomalyKind.CONFLICT]

    def add_id_tag(self, id_tag: str) -> None:
        with self._lock:
            self._id_tags.add(id_tag)

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
        with self._lock:
            if id_tag not in self._id_tags:
                return None
            if key in self._starts:
                return self._starts[key]
            transaction_id = next(self._next_id)
            self._starts[key] = transaction_id
            self._transactions[transaction_id] = _Transaction(
                transaction_id, cp_id, connector_id, id_tag, meter_start_wh, timestamp
            )
            return transaction_id

    def _note(
        self,
        kind: AnomalyKind,
        cp_id: str,
        detail: str,
        transaction_id: int | None = None,
        samples: Iterable[MeterSample] = (),
    ) -> None:
        self.anomalies.append(Anomaly(kind, cp_id, detail, transaction_id, tuple(samples)))

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
                continue
            pairs = [(f, getattr(kept, f), getattr(sample, f)) for f in READINGS]
            added = {f: new for f, old, new in pairs if old is None and new is not None}
            clashes = [f for f, old, new in pairs if None not in (old, new) and old != new]
            if added:
                tx.samples[key] = replace(kept, **added)
            if clashes:
                said = ", ".join(f"{f} {_clip(getattr(sample, f))} (kept {_clip(getattr(kept, f))})" for f in clashes)
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
        with self._lock:
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
        with self._lock:
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
            self._add_samples(tx, samples)

    def status_notification(
        self, cp_id: str, connector_id: int, status: str, error_code: str, timestamp: int | None
    ) -> None:
        with self._lock:
            self.statuses[(cp_id, connector_id)] = status

    def data_transfer(
        self, cp_id: str, vendor_id: str, message_id: str | None, data: str | None
    ) -> tuple[str, str | None]:
        with self._lock:
            if vendor_id not in self._vendors:
                return DataTransferStatus.unknown_vendor_id.value, None
            known = self._vendors[vendor_id]
            if known and message_id not in known:
                return DataTransferStatus.unknown_message_id.value, None
            self.data_transfers.append((cp_id, vendor_id, message_id, data))
            return DataTransferStatus.accepted.value, None

    def anomaly(self, anomaly: Anomaly) -> None:
        with self._lock:
            self.anomalies.append(anomaly)

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


# ---------------------------------------------------------------------------------------------- meter values

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_REGISTER = Measurand.energy_active_import_register.value
_INTERVAL = Measurand.energy_active_import_interval.value
_POWER = Measurand.power_active_import.value
_KEPT = {_REGISTER: ("register_wh", "Wh"), _INTERVAL: ("interval_wh", "Wh"), _POWER: ("power_w", "W")}
_SCALE = {"Wh": 1, "kWh": 1000, "W": 1, "kW": 1000}
_EXACT = Context(prec=MAX_DECIMAL_CHARS + 8)  # every bounded value times 1000, without rounding
_PHASES = ("L1", "L2", "L3")


def reading(value: str, unit: str) -> int:
    """A SampledValue's decimal `value` in `unit` (Wh, kWh, W or kW) as an integer number of Wh or W (a fraction
    of a Wh or W dropped). The text is bounded before it is converted: at most MAX_DECIMAL_CHARS ASCII characters
    of a plain decimal (optional sign, digits, point, exponent; no spaces, underscores, NaN or Infinity), and an
    exponent that keeps it within 0..MAX_READING, so no value costs more than a few microseconds to read.
    InputError (field `value`) otherwise."""
    if len(value) > MAX_DECIMAL_CHARS:
        raise InputError("value", f"{_clip(value)} is longer than {MAX_DECIMAL_CHARS} characters")
    if not _DECIMAL.fullmatch(value):
        raise InputError("value", f"{_clip(value)} is not a decimal number")
    try:
        number = Decimal(value)
    except InvalidOperation:  # an exponent beyond what Decimal holds (more than 18 digits)
        raise InputError("value", f"{_clip(value)} is above {MAX_READING} {unit}") from None
    if number.is_signed() and not number.is_zero():
        raise InputError("value", f"{_clip(value)} is negative")
    scale = _SCALE[unit]
    if number.is_zero() or number.adjusted() < -3:  # below 0.001: floors to 0 in every unit
        return 0
    if number.adjusted() > 18:  # above MAX_READING in every unit; the multiplication below stays small
        raise InputError("value", f"{_clip(value)} is above {MAX_READING} {unit}")
    amount = int(_EXACT.multiply(number, scale))  # exact (no rounding to 28 digits); truncation = floor for >= 0
    if amount > MAX_READING:
        raise InputError("value", f"{_clip(value)} is above {MAX_READING} {unit}")
    return amount


@dataclass(frozen=True)
class ParsedMeterValues:
    """What a MeterValues (or StopTransaction's transactionData) carries: its samples, and the problems of the
    sampled values not kept, as (kind, "<field>: <reason>")."""

    samples: tuple[MeterSample, ...]
    problems: tuple[tuple[AnomalyKind, str], ...] = ()


def parse_meter_values(meter_value: object, where: str = "meterValue") -> ParsedMeterValues:  # noqa: C901 (to split: issue 15)
    """MeterSamples of OCPP MeterValue objects (snake_case, as the `ocpp` library passes them), one per
    (timestamp, reading context): the Energy.Active.Import.Register (Wh or kWh), Energy.Active.Import.Interval
    (Wh or kWh) and Power.Active.Import (W or kW) measured at the Outlet, each the phase-less total or, without
    one, the sum of phases L1..L3; and the register's SignedData. OCPP's defaults apply to absent fields (context
    Sample.Periodic, measurand Energy.Active.Import.Register, format Raw, location Outlet, unit Wh, for power W).
    Other measurands, locations and phases are not read.

    A sampled value that is not a reading in range, has another unit, or contradicts an earlier one of the same
    sample in the message is a problem naming its field (`meterValue[0].sampledValue[1].value`), not an error: the
    caller decides (MeterValues refuses a value that is no reading, StopTransaction is never refused). InputError
    only for what the schema already demands: a list of objects with an ISO 8601 timestamp with a time zone."""
    if not isinstance(meter_value, list):
        raise InputError(where, f"expected a list, got {type(meter_value).__name__}")
    samples: list[MeterSample] = []
    problems: list[tuple[AnomalyKind, str]] = []
    for i, mv in enumerate(meter_value):
        at = f"{where}[{i}]"
        if not isinstance(mv, dict):
            raise InputError(at, f"expected an object, got {type(mv).__name__}")
        timestamp = unix_s(mv.get("timestamp"), f"{at}.timestamp")
        values = mv.get("sampled_value")
        if not isinstance(values, list):
            raise InputError(f"{at}.sampledValue", f"expected a list, got {type(values).__name__}")
        groups: dict[str, dict[tuple[str, str | None], tuple[int | str, int]]] = {}  # context -> slot -> (value, j)
        for j, sv in enumerate(values):
            sat = f"{at}.sampledValue[{j}]"
            if not isinstance(sv, dict) or not isinstance(sv.get("value"), str):
                raise InputError(sat, "expected an object with a string value")
            measurand = sv.get("measurand", _REGISTER)
            phase = sv.get("phase")
            if measurand not in _KEPT or sv.get("location", "Outlet") != "Outlet" or phase not in (None, *_PHASES):
                continue
            name, default_unit = _KEPT[measurand]
            if sv.get("format", ValueFormat.raw) == ValueFormat.signed_data:
                if measurand != _REGISTER or phase is not None:
                    continue
                slot, value = ("signed_data", None), sv["value"]
            else:
                unit = sv.get("unit", default_unit)
                if unit not in (default_unit, f"k{default_unit}"):
                    problems.append(
                        (
                            AnomalyKind.BAD_VALUE,
                            f"{sat}.unit: {_clip(unit)} is not {default_unit} or k{default_unit} ({measurand})",
                        )
                    )
                    continue
                try:
                    value = reading(sv["value"], unit)
                except InputError as e:
                    problems.append((AnomalyKind.BAD_VALUE, str(e.within(sat))))
                    continue
                slot = (name, phase)
            bucket = groups.setdefault(sv.get("context", ReadingContext.sample_periodic.value), {})
            if slot in bucket and bucket[slot][0] != value:
                problems.append(
                    (
                        AnomalyKind.CONFLICT,
                        f"{sat}.value: {_clip(sv['value'])} contradicts "
                        f"{at}.sampledValue[{bucket[slot][1]}] of the same reading",
                    )
                )
                continue
            bucket.setdefault(slot, (value, j))
        for context, bucket in groups.items():
            readings: dict[str, Any] = {}
            for name in ("register_wh", "power_w", "interval_wh"):
                if (name, None) in bucket:
                    readings[name] = bucket[(name, None)][0]
                elif phases := [bucket[(name, p)][0] for p in _PHASES if (name, p) in bucket]:
                    readings[name] = sum(phases)
            if ("signed_data", None) in bucket:
                readings["signed_data"] = bucket[("signed_data", None)][0]
            samples.append(MeterSample(timestamp, readings.pop("register_wh", None), context=context, **readings))
    return ParsedMeterValues(tuple(samples), tuple(problems))


# ------------------------------------------------------------------------------------------------- the frames


class _Unconverted:
    """A JSON number literal left as text: longer than MAX_NUMBER_CHARS, or beyond a float. It is no integer,
    number or string to the schema, so the field it sits in is refused by name (TypeConstraintViolation)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:  # as written in the frame, cut short
        return self.text if len(self.text) <= 40 else f"{self.text[:40]}... ({len(self.text)} characters)"


class _NotJson(_Unconverted):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON (RFC 8259) has no such literal."""


def _parse_int(text: str) -> int | _Unconverted:
    return _Unconverted(text) if len(text) > MAX_NUMBER_CHARS else int(text)


def _parse_float(text: str) -> float | _Unconverted:
    if len(text) > MAX_NUMBER_CHARS:
        return _Unconverted(text)
    number = float(text)
    return number if math.isfinite(number) else _Unconverted(text)


_JSON_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"?')  # the closing quote optional: every match succeeds, no retries
_INNERMOST = re.compile(r"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")  # an array or object with no array or object inside


def _too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does `text` nest arrays and objects deeper than `limit` outside its strings (or leave brackets unbalanced)?
    Strings are blanked in one pass, then the innermost arrays and objects are removed, one level a pass, at
    most `limit` passes: regular expressions that never backtrack, each linear in the text."""
    if text.count("[") + text.count("{") <= limit:
        return False
    skeleton = _JSON_STRING.sub('""', text)
    for _ in range(limit):
        skeleton, removed = _INNERMOST.subn("", skeleton)
        if not removed:
            break
    return any(bracket in skeleton for bracket in "[]{}")


def _loads(text: str) -> Any:
    """JSON with its nesting and every number literal bounded before anything is converted: CPython's parser
    recurses once per level (with the recursion limit that py_ecc raises to 100,000 on import, a 128 KiB frame of
    brackets overflows the C stack: a segmentation fault of the whole central system), turns a long integer
    literal into an int in quadratic time and refuses one of more than 4,300 digits with a ValueError."""
    if _too_deep(text):
        raise ValueError(f"arrays and objects nested deeper than {MAX_JSON_DEPTH} levels, or unbalanced")
    return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_NotJson)


_MESSAGE_ID = re.compile(r'\s*\[\s*2\s*,\s*"([^"\\]{1,36})"')  # the id of a CALL whose JSON is broken later on


def _path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _find(value: Any, kind: type) -> tuple[tuple[str | int, ...], Any] | None:
    """(path, node) of the first `kind` in a parsed JSON value (at most MAX_JSON_DEPTH deep: paths stay short)."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, kind):
            return path, node
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(node))))
    return None


class _Unanswerable(Exception):
    """A frame that is no CALL we can answer: OCPP-J 1.6 has nothing to send back (§4.1.3: ignore it)."""


_SCHEMA_ERRORS: dict[str, type[OCPPError]] = {
    "type": TypeConstraintViolationError,
    "maxLength": TypeConstraintViolationError,  # CiString20Type...: the length is part of the 1.6 type
    "required": ProtocolError,  # "Payload for Action is incomplete"
    "minItems": OccurenceConstraintViolationError,
    "maxItems": OccurenceConstraintViolationError,
    "additionalProperties": FormationViolationError,  # "not conform the PDU structure for Action"
    "enum": PropertyConstraintViolationError,
    "minimum": PropertyConstraintViolationError,
    "maximum": PropertyConstraintViolationError,
    "multipleOf": PropertyConstraintViolationError,
    "format": PropertyConstraintViolationError,
}


def _description(where: str, reason: str) -> str:
    text = f"{where}: {reason}"
    return text if len(text) <= MAX_DESCRIPTION_CHARS else text[: MAX_DESCRIPTION_CHARS - 3] + "..."


def check_payload(action: str, payload: Any) -> None:
    """Raise the OCPP-J 1.6 CallError (Table 7; FormationViolation and OccurenceConstraintViolation spelt as the
    1.6 errata 5.1 and 5.2 keep them) for the first thing in a CALL's payload that its 1.6 schema refuses,
    naming the field: NaN/Infinity are FormationViolation, a number left unconverted TypeConstraintViolation."""
    if (found := _find(payload, _NotJson)) is not None:
        raise FormationViolationError(_description(_path(found[0]) or "payload", "NaN and Infinity are not JSON"))
    if (found := _find(payload, _Unconverted)) is not None:
        raise TypeConstraintViolationError(
            _description(
                _path(found[0]) or "payload",
                f"{found[1]!r} is not a number this central system converts (at most "
                f"{MAX_NUMBER_CHARS} characters, finite)",
            )
        )
    try:
        validator = get_validator(2, action, "1.6")
    except (OSError, ValueError):
        raise NotSupportedError(f"{action}: no 1.6 schema for this action") from None
    error = next(validator.iter_errors(payload), None)
    if error is None:
        return
    path = _path(error.absolute_path)
    if error.validator == "type" and not path:
        raise FormationViolationError(_description("payload", "expected a JSON object"))
    raise _SCHEMA_ERRORS.get(error.validator, FormationViolationError)(_description(path or "payload", error.message))


def _parse_frame(raw: str | bytes) -> Call | CallResult | CallError:  # noqa: C901 (to split: issue 15)
    """An OCPP-J message of a websocket message. A CALL with a readable message id whose frame is broken raises
    the CallError to answer, carrying that id (`unique_id` attribute); anything else unusable, _Unanswerable."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Unanswerable("the message is not UTF-8 (OCPP-J 1.6 §4.1.2)") from None
    try:
        frame = _loads(raw)
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError; RecursionError: belt and braces
        found = _MESSAGE_ID.match(raw)
        reason = f"not valid JSON ({_clip(str(e), 80)})"
        if found is None:
            raise _Unanswerable(f"the message is {reason} and names no CALL") from None
        raise _with_id(FormationViolationError(_description("message", reason)), found.group(1)) from None
    if not isinstance(frame, list) or not frame or type(frame[0]) is not int:
        raise _Unanswerable("the message is not an OCPP-J array [MessageTypeId, MessageId, ...] (§4.2)")
    kind = frame[0]
    if kind not in (Call.message_type_id, CallResult.message_type_id, CallError.message_type_id):
        raise _Unanswerable(f"MessageTypeId {kind} is not 2, 3 or 4 (§4.1.3: ignored)")
    if len(frame) < 2 or not isinstance(frame[1], str):
        raise _Unanswerable(f"MessageTypeId {kind} without a string MessageId")
    unique_id = frame[1]
    if kind != Call.message_type_id:
        if kind == CallResult.message_type_id and len(frame) == 3 and isinstance(frame[2], dict | None):
            return CallResult(unique_id, frame[2] or {})
        if kind == CallError.message_type_id and len(frame) == 5 and all(isinstance(f, str) for f in frame[2:4]):
            return CallError(unique_id, frame[2], frame[3], frame[4])
        raise _Unanswerable(f"a CALLRESULT/CALLERROR that is not [{kind}, id, ...] as OCPP-J 1.6 §4.2 says")
    if len(unique_id) > MAX_MESSAGE_ID_CHARS:
        raise _with_id(
            FormationViolationError(
                _description("messageId", f"{_clip(unique_id)} is longer than {MAX_MESSAGE_ID_CHARS} characters")
            ),
            unique_id,
        )
    if len(frame) != 4:
        raise _with_id(
            FormationViolationError(
                _description("message", f"a CALL has 4 elements [2, id, action, payload], this one {len(frame)}")
            ),
            unique_id,
        )
    if not isinstance(frame[2], str):
        raise _with_id(FormationViolationError(_description("action", f"{_clip(frame[2])} is not a string")), unique_id)
    payload = {} if frame[3] is None else frame[3]  # §4.2.1: no payload may be null or {}
    return Call(unique_id, frame[2], payload)


def _with_id(error: OCPPError, unique_id: str) -> OCPPError:
    error.unique_id = unique_id
    return error


class _Refusal(PropertyConstraintViolationError):
    """A request with a bad value: answered with a CallError whose description names the field."""


@contextlib.contextmanager
def _as_call_error():
    try:
        yield
    except InputError as e:
        raise _Refusal(description=_description(e.field, e.reason), details={"field": e.field}) from e


_ACTIONS_1_6 = {a.value for a in Action}


class CentralChargePoint(OcppChargePoint):
    """The central system's side of one charge point's OCPP 1.6-J connection (any object with async `send(str)`
    and `recv() -> str`). `route_message` reads each frame (bounded numbers, OCPP-J frame, 1.6 schema) and answers
    what it refuses with the OCPP-J 1.6 CallError naming the field; handlers check the rest and delegate to
    `backend`. `on_message` is called after every message handled (the server uses it to wake `wait_for`)."""

    def __init__(
        self,
        cp_id: str,
        connection: Any,
        backend: CentralBackend,
        *,
        heartbeat_interval_s: int = 300,
        clock: Callable[[], float] = time.time,
        on_message: Callable[[], None] | None = None,
        response_timeout_s: float = 30.0,
    ) -> None:
        super().__init__(cp_id, connection, response_timeout=response_timeout_s)
        self.backend = backend
        self.heartbeat_interval_s = heartbeat_interval_s
        self._clock = clock
        self._on_message = on_message

    def _now(self) -> str:
        return iso_utc(int(self._clock()))

    def _anomaly(self, kind: AnomalyKind, detail: str, transaction_id: int | None = None) -> None:
        self.backend.anomaly(Anomaly(kind, self.id, detail, transaction_id))

    async def route_message(self, raw_msg: str | bytes) -> None:
        try:
            await self._route(raw_msg)
        finally:
            if self._on_message is not None:
                self._on_message()

    async def _route(self, raw_msg: str | bytes) -> None:
        """One frame, answered at most once, at a cost linear in its size (the `ocpp` library's own unpack would
        convert numbers unbounded, let a ValueError or RecursionError end the connection, and answer nothing)."""
        try:
            msg = _parse_frame(raw_msg)
        except _Unanswerable as e:
            LOG.warning("%s: ignored a frame: %s", self.id, e)
            self._anomaly(AnomalyKind.IGNORED_FRAME, str(e))
            return
        except OCPPError as error:
            await self._refuse(error.unique_id, error)
            return
        if not isinstance(msg, Call):
            if self._call_lock.locked():  # a CALL of ours is waiting for its answer (call() takes it from the queue)
                self._response_queue.put_nowait(msg)
            else:
                self._anomaly(AnomalyKind.IGNORED_FRAME, f"messageId: {_clip(msg.unique_id)} answers no CALL of ours")
            return
        try:
            if msg.action not in _ACTIONS_1_6:
                raise NotImplementedCallError(_description("action", f"{_clip(msg.action)} is not an OCPP 1.6 action"))
            if "_on_action" not in self.route_map.get(msg.action, {}):
                raise NotSupportedError(_description("action", f"{msg.action} is not supported by this central system"))
            await asyncio.get_running_loop().run_in_executor(None, check_payload, msg.action, msg.payload)
        except OCPPError as error:
            await self._refuse(msg.unique_id, error)
            return
        handler = self.route_map[msg.action]["_on_action"]
        try:
            response = handler(**camel_to_snake_case(msg.payload))
            if inspect.isawaitable(response):
                response = await response
            answer = snake_to_camel_case(remove_nones(serialize_as_dict(response)))
        except OCPPError as error:
            await self._refuse(msg.unique_id, error)
            return
        except Exception:  # a bug of ours: the charge point still gets its answer
            LOG.exception("%s: handling %s", self.id, msg.action)
            await self._refuse(msg.unique_id, InternalError())
            return
        await self._send(msg.create_call_result(answer).to_json())

    async def _refuse(self, unique_id: str, error: OCPPError) -> None:
        self._anomaly(AnomalyKind.CALL_ERROR, f"{error.code}: {error.description}")
        await self._send(CallError(unique_id, error.code, error.description, error.details).to_json())

    @on(Action.boot_notification, skip_schema_validation=True)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kwargs: Any):
        accepted = self.backend.boot_notification(self.id, charge_point_vendor, charge_point_model)
        status = RegistrationStatus.accepted if accepted else RegistrationStatus.rejected
        return call_result.BootNotification(current_time=self._now(), interval=self.heartbeat_interval_s, status=status)

    @on(Action.heartbeat, skip_schema_validation=True)
    def on_heartbeat(self, **kwargs: Any):
        return call_result.Heartbeat(current_time=self._now())

    @on(Action.authorize, skip_schema_validation=True)
    def on_authorize(self, id_tag: str, **kwargs: Any):
        accepted = self.backend.authorize(self.id, id_tag)
        status = AuthorizationStatus.accepted if accepted else AuthorizationStatus.invalid
        return call_result.Authorize(id_tag_info=datatypes.IdTagInfo(status=status))

    @on(Action.start_transaction, skip_schema_validation=True)
    def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs: Any):
        with _as_call_error():
            start = unix_s(timestamp, "timestamp")
        transaction_id = None
        if 0 <= meter_start <= MAX_READING:
            transaction_id = self.backend.start_transaction(self.id, connector_id, id_tag, meter_start, start)
        else:  # §4.8: answered all the same; 0 with Invalid opens nothing
            self._anomaly(AnomalyKind.BAD_METER_START, f"meterStart: {meter_start} is not in 0..{MAX_READING}")
        if transaction_id is None:  # OCPP 1.6 always carries an id; 0 with Invalid means none was opened
            return call_result.StartTransaction(
                transaction_id=0, id_tag_info=datatypes.IdTagInfo(status=AuthorizationStatus.invalid)
            )
        return call_result.StartTransaction(
            transaction_id=transaction_id, id_tag_info=datatypes.IdTagInfo(status=AuthorizationStatus.accepted)
        )

    def _problems(self, parsed: ParsedMeterValues, transaction_id: int | None) -> None:
        for kind, detail in parsed.problems:
            self._anomaly(kind, detail, transaction_id)

    @on(Action.meter_values, skip_schema_validation=True)
    def on_meter_values(self, connector_id: int, meter_value: list, transaction_id: int | None = None, **kwargs: Any):
        """A sampled value that is no reading (not a decimal number in range, or in another unit) refuses the whole
        message with PropertyConstraintViolation naming its field, and nothing of it is stored (each such value is
        a `bad value` anomaly of the transaction, the refusal a `call error`); a plausibility finding about readings
        that are numbers (a contradiction) is answered and kept as an anomaly, as OCPP 1.6 §4.7 asks."""
        with _as_call_error():
            parsed = parse_meter_values(meter_value)
        bad = [detail for kind, detail in parsed.problems if kind is AnomalyKind.BAD_VALUE]
        if bad:
            for detail in bad:  # the transaction's record shows what was refused
                self._anomaly(AnomalyKind.BAD_VALUE, detail, transaction_id)
            field, _, reason = bad[0].partition(": ")
            raise _Refusal(description=_description(field, reason), details={"field": field})
        self._problems(parsed, transaction_id)
        self.backend.meter_values(self.id, transaction_id, list(parsed.samples))
        return call_result.MeterValues()

    @on(Action.stop_transaction, skip_schema_validation=True)
    def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        reason: str | None = None,
        id_tag: str | None = None,
        transaction_data: list | None = None,
        **kwargs: Any,
    ):
        """Always answered (OCPP 1.6 §4.10: the central system cannot prevent a transaction from stopping): an
        unknown or repeated stop, or a meter stop out of range, is an anomaly of the backend's, not a CallError.
        Only what the schema refuses (a timestamp that is no date-time) is a CallError."""
        with _as_call_error():
            stop = unix_s(timestamp, "timestamp")
            parsed = parse_meter_values(transaction_data or [], "transactionData")
        self._problems(parsed, transaction_id)
        self.backend.stop_transaction(
            self.id, transaction_id, meter_stop, stop, reason or "Local", list(parsed.samples)
        )  # §4.10: no reason means Local
        if id_tag is None:
            return call_result.StopTransaction()
        known = self.backend.authorize(self.id, id_tag)
        status = AuthorizationStatus.accepted if known else AuthorizationStatus.invalid
        return call_result.StopTransaction(id_tag_info=datatypes.IdTagInfo(status=status))

    @on(Action.status_notification, skip_schema_validation=True)
    def on_status_notification(
        self, connector_id: int, error_code: str, status: str, timestamp: str | None = None, **kwargs: Any
    ):
        with _as_call_error():
            at = unix_s(timestamp, "timestamp") if timestamp is not None else None
            self.backend.status_notification(self.id, connector_id, status, error_code, at)
        return call_result.StatusNotification()

    @on(Action.data_transfer, skip_schema_validation=True)
    def on_data_transfer(self, vendor_id: str, message_id: str | None = None, data: str | None = None, **kwargs: Any):
        status, reply = self.backend.data_transfer(self.id, vendor_id, message_id, data)
        return call_result.DataTransfer(status=status, data=reply)


def charging_profile(
    limit_w: int, *, profile_id: int, transaction_id: int | None = None, stack_level: int = 0
) -> datatypes.ChargingProfile:
    """A coordinator's allocation [W] as an OCPP 1.6 charging profile: TxProfile for `transaction_id` (or
    TxDefaultProfile without one), kind Relative, unit W, one period from 0 with `limit_w`, no duration (it holds
    until replaced or the transaction ends)."""
    check_min_int("limit_w", limit_w, 0)
    check_min_int("profile_id", profile_id, 1)
    if transaction_id is not None:
        check_min_int("transaction_id", transaction_id, 1)
    return datatypes.ChargingProfile(
        charging_profile_id=profile_id,
        stack_level=check_min_int("stack_level", stack_level, 0),
        charging_profile_purpose=TX_PROFILE if transaction_id is not None else TX_DEFAULT_PROFILE,
        charging_profile_kind=ChargingProfileKindType.relative,
        charging_schedule=datatypes.ChargingSchedule(
            charging_rate_unit=ChargingRateUnitType.watts,
            charging_schedule_period=[datatypes.ChargingSchedulePeriod(start_period=0, limit=limit_w)],
        ),
        transaction_id=transaction_id,
    )


# -------------------------------------------------------------------------------------------------- the server


class CentralSystem:
    """The central system's websocket server on `host` (127.0.0.1) and `port` (0: chosen by the OS; see `url`),
    subprotocol ocpp1.6, in a thread with its own asyncio loop. A charge point connects to `url/<cp_id>`.

    `start()`/`stop()` or `with CentralSystem(...) as central:`; stop closes every connection and joins the
    thread. `set_charging_profile` and `wait_for` may be called from any thread. A websocket message longer than
    `max_message_bytes` closes its connection (1009, message too big) before any of it is parsed."""

    def __init__(
        self,
        backend: CentralBackend | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        heartbeat_interval_s: int = 300,
        response_timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.backend: CentralBackend = backend if backend is not None else RecordingBackend()
        self.max_message_bytes = check_min_int("max_message_bytes", max_message_bytes, 1_024)
        self.host = host
        self._port = check_min_int("port", port, 0)
        self.heartbeat_interval_s = check_min_int("heartbeat_interval_s", heartbeat_interval_s, 1)
        check_seconds("response_timeout_s", response_timeout_s)
        self.response_timeout_s = float(response_timeout_s)
        self._clock = clock
        self._changed = threading.Condition()
        self._charge_points: dict[str, CentralChargePoint] = {}
        self._profile_ids = itertools.count(1)
        self._server: Any = None
        self._loop: LoopThread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the central system is not started")
        return self._port

    @property
    def url(self) -> str:
        """The websocket base URL, e.g. `ws://127.0.0.1:54321` (a charge point appends `/<cp_id>`)."""
        return f"ws://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> CentralSystem:
        if self._loop is not None:
            raise RuntimeError("the central system is already started")
        self._loop = LoopThread("ocpp-central").start()

        async def open_server() -> None:
            self._server = await websockets.serve(
                self._handle,
                self.host,
                self._port,
                subprotocols=[SUBPROTOCOL],
                close_timeout=2,
                max_size=self.max_message_bytes,
            )
            self._port = self._server.sockets[0].getsockname()[1]

        try:
            self._loop.run(open_server(), timeout_s)
        except BaseException:
            self._loop.stop()
            self._loop = None
            raise
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Close the server and every connection, wait for the handlers, end the loop and join its thread."""
        if self._loop is None:
            return

        async def close_server() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        try:
            self._loop.run(close_server(), timeout_s)
        finally:
            self._loop.stop(timeout_s)
            self._loop = None
            self._server = None

    def __enter__(self) -> CentralSystem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    async def _handle(self, ws: Any) -> None:
        if ws.subprotocol != SUBPROTOCOL:
            await ws.close(1002, f"subprotocol {SUBPROTOCOL} required")
            return
        cp_id = unquote(ws.request.path).strip("/")
        if not cp_id or "/" in cp_id:
            await ws.close(1008, "the URL path must be /<charge point id>")
            return
        cp = CentralChargePoint(
            cp_id,
            ws,
            self.backend,
            heartbeat_interval_s=self.heartbeat_interval_s,
            clock=self._clock,
            on_message=self._notify,
            response_timeout_s=self.response_timeout_s,
        )
        cp.closed = asyncio.ensure_future(ws.wait_closed())
        with self._changed:
            self._charge_points[cp_id] = cp  # a reconnect replaces the old connection
            self._changed.notify_all()
        try:
            await cp.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            with self._changed:
                if self._charge_points.get(cp_id) is cp:
                    del self._charge_points[cp_id]
                self._changed.notify_all()

    def connected(self) -> frozenset[str]:
        """Ids of the charge points connected now."""
        with self._changed:
            return frozenset(self._charge_points)

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0, what: str = "the condition") -> None:
        """Block until `predicate()` holds; it is checked now and after every message and (dis)connection.
        TimeoutError after `timeout_s` [s]."""
        with self._changed:
            if not self._changed.wait_for(predicate, timeout_s):
                raise TimeoutError(f"{what} did not hold within {timeout_s} s")

    def set_charging_profile(
        self, cp_id: str, connector_id: int, limit_w: int, transaction_id: int | None = None, timeout_s: float = 10.0
    ) -> str:
        """Push an allocation of `limit_w` [W] to a charge point's connector: SetChargingProfile with a TxProfile
        for `transaction_id` (TxDefaultProfile without one), unit W, one period. The charge point's status:
        `Accepted`, `Rejected` or `NotSupported`."""
        check_min_int("connector_id", connector_id, 0 if transaction_id is None else 1)
        profile = charging_profile(limit_w, profile_id=next(self._profile_ids), transaction_id=transaction_id)
        return self.send_charging_profile(cp_id, connector_id, profile, timeout_s)

    def send_charging_profile(
        self,
        cp_id: str,
        connector_id: int,
        profile: datatypes.ChargingProfile | dict,
        timeout_s: float = 10.0,
        *,
        validate_schema: bool = True,
    ) -> str:
        """Send any SetChargingProfile (a ChargingProfile, or a camelCase dict as on the wire); the status. A charge
        point's CallError is raised as the `ocpp` library's OCPPError; LookupError if `cp_id` is not connected,
        ConnectionError if its connection drops before the answer. `validate_schema=False` sends what the schema
        would refuse (to test the charge point)."""
        if self._loop is None:
            raise RuntimeError("the central system is not started")

        async def send() -> str:
            cp = self._charge_points.get(cp_id)
            if cp is None:
                raise LookupError(f"cp_id: {cp_id!r} is not connected")
            request = call.SetChargingProfile(connector_id=connector_id, cs_charging_profiles=profile)
            sending = asyncio.ensure_future(
                cp.call(request, suppress=False, skip_schema_validation=not validate_schema)
            )
            try:
                await asyncio.wait({sending, cp.closed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not sending.done():
                    sending.cancel()
            if sending.cancelled():
                raise ConnectionError(f"cp_id: {cp_id!r} disconnected before answering SetChargingProfile")
            return str(sending.result().status)

        return self._loop.run(send(), timeout_s)
