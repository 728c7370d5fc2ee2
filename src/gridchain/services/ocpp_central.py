"""The OCPP 1.6-J central system: websockets on 127.0.0.1, the `ocpp` library's protocol, injected business logic.

- `CentralChargePoint` (an `ocpp.v16.ChargePoint`, one per connected charge point) holds the protocol: its `@on`
  handlers parse and check each request and hand the decision to a `CentralBackend`. It runs over whatever
  connection it is given, so the protocol is testable without a network.
- `CentralBackend` is that business logic (a Protocol). `RecordingBackend` is the in-memory one: registered id
  tags, transactions and their meter samples, deduplicated by (transaction_id, timestamp), energy = the last
  register - meter start, so a charge point that resends after a reconnect never counts energy twice.
- `CentralSystem` serves websockets (subprotocol ocpp1.6, the charge point's id is the URL path) on 127.0.0.1 in
  a thread with its own asyncio loop, and pushes a coordinator's allocation to a charge point as a
  SetChargingProfile (TxProfile, limit in W) from plain Python: `set_charging_profile`.

Units: power [W], energy [Wh], time [s] (unix seconds). See docs/ocpp.md for the message flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import unquote

import websockets
from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call, call_result, datatypes
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    ChargingProfileKindType,
    ChargingRateUnitType,
    Measurand,
    RegistrationStatus,
    UnitOfMeasure,
    ValueFormat,
)

from gridchain.actors.charge_point import (
    SUBPROTOCOL,
    TX_DEFAULT_PROFILE,
    TX_PROFILE,
    LoopThread,
    iso_utc,
    unix_s,
)
from gridchain.core.request import InputError, check_min_int

# ------------------------------------------------------------------------------------------ data and backends


@dataclass(frozen=True)
class MeterSample:
    """One meter reading of a transaction: time [s], the energy register [Wh], power [W] if reported, the
    meter's signed reading (OCPP format SignedData) if any, and OCPP's reading context."""

    timestamp: int
    register_wh: int
    power_w: int | None = None
    signed_data: str | None = None
    context: str | None = None


class CentralBackend(Protocol):
    """The central system's business decisions; called on the server's event-loop thread, one message at a time
    per charge point. Raise InputError (naming the field) to answer a request with an OCPP CallError."""

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
        self, cp_id: str, transaction_id: int, meter_stop_wh: int, timestamp: int, reason: str | None,
        samples: list[MeterSample],
    ) -> None:  # fmt: skip
        """The transaction's end, with its transactionData readings. May be a resend."""
        ...

    def status_notification(
        self, cp_id: str, connector_id: int, status: str, error_code: str, timestamp: int | None
    ) -> None:
        """A connector's status."""
        ...


@dataclass(frozen=True)
class TransactionRecord:
    """A transaction as the central system knows it; `samples` sorted by time, one per timestamp."""

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

    @property
    def open(self) -> bool:
        return self.meter_stop_wh is None

    @property
    def energy_wh(self) -> int:
        """Energy delivered [Wh]: meter stop - meter start once stopped, else the latest register - meter start."""
        if self.meter_stop_wh is not None:
            return self.meter_stop_wh - self.meter_start_wh
        if self.samples:
            return self.samples[-1].register_wh - self.meter_start_wh
        return 0


@dataclass
class _Transaction:
    transaction_id: int
    cp_id: str
    connector_id: int
    id_tag: str
    meter_start_wh: int
    start_timestamp: int
    samples: dict[int, MeterSample] = field(default_factory=dict)
    meter_stop_wh: int | None = None
    stop_timestamp: int | None = None
    stop_reason: str | None = None

    def snapshot(self) -> TransactionRecord:
        samples = tuple(self.samples[t] for t in sorted(self.samples))
        return TransactionRecord(
            self.transaction_id, self.cp_id, self.connector_id, self.id_tag, self.meter_start_wh,
            self.start_timestamp, samples, self.meter_stop_wh, self.stop_timestamp, self.stop_reason,
        )  # fmt: skip


class RecordingBackend:
    """The in-memory backend: accepts every boot and the registered id tags, numbers transactions 1, 2, ...,
    keeps their samples. Idempotent, so a charge point may resend anything after a reconnect: samples are
    deduplicated by (transaction_id, timestamp) (the first one kept; a resend with another register is recorded
    in `conflicts`), a resent StartTransaction gets the same id, a resent StopTransaction changes nothing.
    Thread-safe: the server's thread writes, tests read."""

    def __init__(self, id_tags: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._id_tags = set(id_tags)
        self._transactions: dict[int, _Transaction] = {}
        self._starts: dict[tuple[str, int, str, int, int], int] = {}
        self._next_id = itertools.count(1)
        self.booted: dict[str, tuple[str, str]] = {}  # cp_id -> (vendor, model)
        self.statuses: dict[tuple[str, int], str] = {}  # (cp_id, connector_id) -> last status
        self.arrivals: list[tuple[int, int]] = []  # (transaction_id, timestamp) of every sample, as received
        self.duplicates = 0  # samples received again and ignored
        self.conflicts: list[tuple[int, int, int, int]] = []  # (transaction_id, timestamp, kept_wh, other_wh)
        self.orphans: list[tuple[str, int | None, MeterSample]] = []  # samples of no transaction known here

    def add_id_tag(self, id_tag: str) -> None:
        with self._lock:
            self._id_tags.add(id_tag)

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

    def _add_samples(self, cp_id: str, transaction_id: int | None, samples: list[MeterSample]) -> None:
        tx = self._transactions.get(transaction_id) if transaction_id is not None else None
        for sample in samples:
            if tx is None or tx.cp_id != cp_id:
                self.orphans.append((cp_id, transaction_id, sample))
                continue
            self.arrivals.append((transaction_id, sample.timestamp))
            kept = tx.samples.get(sample.timestamp)
            if kept is None:
                tx.samples[sample.timestamp] = sample
                continue
            self.duplicates += 1
            if kept.register_wh != sample.register_wh:
                self.conflicts.append((transaction_id, sample.timestamp, kept.register_wh, sample.register_wh))

    def meter_values(self, cp_id: str, transaction_id: int | None, samples: list[MeterSample]) -> None:
        with self._lock:
            self._add_samples(cp_id, transaction_id, samples)

    def stop_transaction(
        self, cp_id: str, transaction_id: int, meter_stop_wh: int, timestamp: int, reason: str | None,
        samples: list[MeterSample],
    ) -> None:  # fmt: skip
        with self._lock:
            tx = self._transactions.get(transaction_id)
            if tx is None or tx.cp_id != cp_id:
                raise InputError("transactionId", f"{transaction_id} is not a transaction of {cp_id!r}")
            if meter_stop_wh < tx.meter_start_wh:
                raise InputError("meterStop", f"{meter_stop_wh} is below the meter start {tx.meter_start_wh}")
            self._add_samples(cp_id, transaction_id, samples)
            if tx.meter_stop_wh is None:
                tx.meter_stop_wh, tx.stop_timestamp, tx.stop_reason = meter_stop_wh, timestamp, reason

    def status_notification(
        self, cp_id: str, connector_id: int, status: str, error_code: str, timestamp: int | None
    ) -> None:
        with self._lock:
            self.statuses[(cp_id, connector_id)] = status

    # -- reading, from any thread

    def transaction(self, transaction_id: int) -> TransactionRecord:
        with self._lock:
            if transaction_id not in self._transactions:
                raise LookupError(f"transaction_id: {transaction_id} is not known")
            return self._transactions[transaction_id].snapshot()

    def transactions(self) -> list[TransactionRecord]:
        with self._lock:
            return [self._transactions[t].snapshot() for t in sorted(self._transactions)]

    def energy_wh(self, transaction_id: int) -> int:
        """Energy of a transaction so far [Wh]."""
        return self.transaction(transaction_id).energy_wh


# ------------------------------------------------------------------------------------------------ the protocol


def _wh(value: str, unit: str, field: str) -> int:
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        raise InputError(field, f"{value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise InputError(field, f"{value!r} is not a finite number >= 0")
    scale = {"Wh": 1, "kWh": 1000, "W": 1, "kW": 1000}[unit]
    return int((number * scale).to_integral_value(rounding=ROUND_FLOOR))


def parse_meter_values(meter_value: object, where: str = "meterValue") -> list[MeterSample]:
    """MeterSamples of OCPP MeterValue objects (snake_case, as the `ocpp` library passes them): per timestamp the
    Energy.Active.Import.Register (Wh or kWh, total, not per phase), Power.Active.Import (W or kW), and a
    SignedData value of the register. A MeterValue without a raw register is skipped. InputError names the
    field of a bad value (`meterValue[0].sampledValue[1].value`)."""
    if not isinstance(meter_value, list):
        raise InputError(where, f"expected a list, got {type(meter_value).__name__}")
    samples = []
    for i, mv in enumerate(meter_value):
        at = f"{where}[{i}]"
        if not isinstance(mv, dict):
            raise InputError(at, f"expected an object, got {type(mv).__name__}")
        timestamp = unix_s(mv.get("timestamp"), f"{at}.timestamp")
        register_wh = power_w = signed = context = None
        values = mv.get("sampled_value")
        if not isinstance(values, list):
            raise InputError(f"{at}.sampledValue", f"expected a list, got {type(values).__name__}")
        for j, sv in enumerate(values):
            sat = f"{at}.sampledValue[{j}]"
            if not isinstance(sv, dict) or not isinstance(sv.get("value"), str):
                raise InputError(sat, "expected an object with a string value")
            if sv.get("phase") is not None:
                continue
            measurand = sv.get("measurand", Measurand.energy_active_import_register)
            signed_format = sv.get("format") == ValueFormat.signed_data
            if measurand == Measurand.energy_active_import_register:
                if signed_format:
                    signed = sv["value"]
                    continue
                unit = sv.get("unit", UnitOfMeasure.wh)
                if unit not in ("Wh", "kWh"):
                    raise InputError(f"{sat}.unit", f"{unit!r} is not Wh or kWh")
                register_wh = _wh(sv["value"], unit, f"{sat}.value")
                context = sv.get("context", context)
            elif measurand == Measurand.power_active_import and not signed_format:
                unit = sv.get("unit", UnitOfMeasure.w)
                if unit not in ("W", "kW"):
                    raise InputError(f"{sat}.unit", f"{unit!r} is not W or kW")
                power_w = _wh(sv["value"], unit, f"{sat}.value")
        if register_wh is not None:
            samples.append(MeterSample(timestamp, register_wh, power_w, signed, context))
    return samples


class _Refusal(PropertyConstraintViolationError):
    """A request with a bad value: answered with a CallError whose description names the field."""


@contextlib.contextmanager
def _as_call_error():
    try:
        yield
    except InputError as e:
        raise _Refusal(description=str(e), details={"field": e.field}) from e


class CentralChargePoint(OcppChargePoint):
    """The central system's side of one charge point's OCPP 1.6-J connection (any object with async `send(str)`
    and `recv() -> str`). Handlers check the payload and delegate to `backend`; `on_message` is called after
    every message handled (the server uses it to wake `wait_for`)."""

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

    async def route_message(self, raw_msg: str) -> None:
        try:
            await super().route_message(raw_msg)
        finally:
            if self._on_message is not None:
                self._on_message()

    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kwargs: Any):
        accepted = self.backend.boot_notification(self.id, charge_point_vendor, charge_point_model)
        status = RegistrationStatus.accepted if accepted else RegistrationStatus.rejected
        return call_result.BootNotification(current_time=self._now(), interval=self.heartbeat_interval_s, status=status)

    @on(Action.heartbeat)
    def on_heartbeat(self, **kwargs: Any):
        return call_result.Heartbeat(current_time=self._now())

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **kwargs: Any):
        accepted = self.backend.authorize(self.id, id_tag)
        status = AuthorizationStatus.accepted if accepted else AuthorizationStatus.invalid
        return call_result.Authorize(id_tag_info=datatypes.IdTagInfo(status=status))

    @on(Action.start_transaction)
    def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs: Any):
        with _as_call_error():
            start = unix_s(timestamp, "timestamp")
            if meter_start < 0:
                raise InputError("meterStart", f"{meter_start} is negative")
            transaction_id = self.backend.start_transaction(self.id, connector_id, id_tag, meter_start, start)
        if transaction_id is None:  # OCPP 1.6 always carries an id; 0 with Invalid means none was opened
            return call_result.StartTransaction(
                transaction_id=0, id_tag_info=datatypes.IdTagInfo(status=AuthorizationStatus.invalid)
            )
        return call_result.StartTransaction(
            transaction_id=transaction_id, id_tag_info=datatypes.IdTagInfo(status=AuthorizationStatus.accepted)
        )

    @on(Action.meter_values)
    def on_meter_values(self, connector_id: int, meter_value: list, transaction_id: int | None = None, **kwargs: Any):
        with _as_call_error():
            self.backend.meter_values(self.id, transaction_id, parse_meter_values(meter_value))
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, reason: str | None = None,
        id_tag: str | None = None, transaction_data: list | None = None, **kwargs: Any,
    ):  # fmt: skip
        with _as_call_error():
            stop = unix_s(timestamp, "timestamp")
            samples = parse_meter_values(transaction_data or [], "transactionData")
            self.backend.stop_transaction(self.id, transaction_id, meter_stop, stop, reason, samples)
        if id_tag is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(id_tag_info=datatypes.IdTagInfo(status=AuthorizationStatus.accepted))

    @on(Action.status_notification)
    def on_status_notification(
        self, connector_id: int, error_code: str, status: str, timestamp: str | None = None, **kwargs: Any
    ):
        with _as_call_error():
            at = unix_s(timestamp, "timestamp") if timestamp is not None else None
            self.backend.status_notification(self.id, connector_id, status, error_code, at)
        return call_result.StatusNotification()


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
    thread. `set_charging_profile` and `wait_for` may be called from any thread."""

    def __init__(
        self,
        backend: CentralBackend | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        heartbeat_interval_s: int = 300,
        response_timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend: CentralBackend = backend if backend is not None else RecordingBackend()
        self.host = host
        self._port = check_min_int("port", port, 0)
        self.heartbeat_interval_s = check_min_int("heartbeat_interval_s", heartbeat_interval_s, 1)
        if not isinstance(response_timeout_s, int | float) or response_timeout_s <= 0:
            raise InputError("response_timeout_s", f"{response_timeout_s!r} is not a positive number of seconds")
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
                self._handle, self.host, self._port, subprotocols=[SUBPROTOCOL], close_timeout=2
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
            cp_id, ws, self.backend, heartbeat_interval_s=self.heartbeat_interval_s, clock=self._clock,
            on_message=self._notify, response_timeout_s=self.response_timeout_s,
        )  # fmt: skip
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
