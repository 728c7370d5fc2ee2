"""The charge point: an OCPP 1.6-J charge-point simulator on the `ocpp` library's client side, with a meter on a
simulated clock.

Three layers, each usable alone:

- `ChargingMeter` (pure, no I/O, no clock): an integer Wh register that `advance(seconds)` integrates at
  power = min(EV maximum, charging-profile limit) while a transaction is open, exactly (the energy below one
  Wh is kept as a remainder in W*s, so nothing is lost to rounding), and the readings at each meter-interval
  boundary crossed (`Sample.Periodic`, boundaries at transaction start + k * interval, as OCPP's
  MeterValueSampleInterval; or, with `clock_aligned`, `Sample.Clock` at multiples of the interval on the
  clock, as ClockAlignedDataInterval: what interval billing needs).
- `ChargePointProtocol` (an `ocpp.v16.ChargePoint`): the SetChargingProfile handler over whatever connection
  it is given (a websocket, or an in-memory pipe in tests); `parse_charging_profile` is its pure decision.
- `ChargePointSim`: a plain-Python facade that runs the client's asyncio loop in its own thread and drives a
  whole session: connect (BootNotification), authorize, start_transaction, advance, stop_transaction,
  disconnect (abrupt) and reconnect. Transaction-related messages (MeterValues, StopTransaction) go through an
  ordered outbox: a message leaves it only when the central system's reply arrives, so whatever was queued
  while offline, or sent but not acknowledged before the link dropped, is (re)sent in order after reconnect.
  The central system deduplicates what it already had (`gridchain.ocpp.central`).

Units: power [W], energy [Wh], time [s] (unix seconds of the simulated clock).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_FLOOR
from typing import Any, TypeVar

import websockets
from ocpp.exceptions import OCPPError
from ocpp.messages import MessageType, unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call, call_result, datatypes
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingProfileStatus,
    Measurand,
    ReadingContext,
    Reason,
    RegistrationStatus,
    UnitOfMeasure,
    ValueFormat,
)

from gridchain.checks import check_min_int, check_number, check_seconds
from gridchain.errors import InputError

SUBPROTOCOL = "ocpp1.6"
TX_PROFILE = "TxProfile"
TX_DEFAULT_PROFILE = "TxDefaultProfile"
_T = TypeVar("_T")


# ---------------------------------------------------------------------------------------------- time and loops


def iso_utc(timestamp: int) -> str:
    """OCPP's dateTime for a unix time [s]: `2023-11-14T22:13:20Z`."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unix_s(text: object, field: str) -> int:
    """Unix time [s] (fractions dropped) of an OCPP dateTime; InputError naming `field` if it is not one with a
    time zone."""
    if not isinstance(text, str):
        raise InputError(field, f"expected an ISO 8601 date-time string, got {type(text).__name__}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise InputError(field, f"{text!r} has no time zone (OCPP times are UTC, e.g. ...Z)")
    return int(moment.timestamp())


class LoopThread:
    """An asyncio loop in a thread of its own; `run(coro, timeout_s)` runs a coroutine on it from any other thread
    and returns its result. `stop()` ends the loop (pending tasks are cancelled, the default executor, which the
    `ocpp` library validates schemas in, is shut down) and joins the thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def start(self) -> LoopThread:
        self._thread.start()
        self._ready.wait()
        return self

    def _main(self) -> None:
        asyncio.run(self._body())

    async def _body(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def run(self, coro: Coroutine[Any, Any, _T], timeout_s: float) -> _T:
        if self._loop is None or not self._thread.is_alive():
            coro.close()
            raise RuntimeError(f"{self.name}: the event loop is not running")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.ident is not None:
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise RuntimeError(f"{self.name}: the event loop thread did not end within {timeout_s} s")


# --------------------------------------------------------------------------------------------------- the meter


@dataclass(frozen=True)
class Reading:
    """The meter at one moment: time [s], register [Wh], power [W] (None at a transaction's begin and end), and
    OCPP's ReadingContext (`Sample.Periodic`, `Transaction.Begin`, `Transaction.End`)."""

    timestamp: int
    register_wh: int
    power_w: int | None
    context: str


class ChargingMeter:
    """A charge point's meter on a simulated clock. Pure: no I/O; time moves only by `advance`.

    The register is an integer [Wh]; energy below one Wh is kept in `remainder_ws` [W*s] (0 <= it < 3600), so
    that register_wh * 3600 + remainder_ws grows by exactly the integral of power over time."""

    def __init__(
        self,
        start_time: int,
        ev_max_power_w: int,
        meter_interval_s: int,
        register_wh: int = 0,
        clock_aligned: bool = False,
    ) -> None:
        self.now = check_min_int("start_time", start_time, 0)
        self.ev_max_power_w = check_min_int("ev_max_power_w", ev_max_power_w, 0)
        self.meter_interval_s = check_min_int("meter_interval_s", meter_interval_s, 1)
        self.register_wh = check_min_int("register_wh", register_wh, 0)
        self.clock_aligned = bool(clock_aligned)
        self.remainder_ws = 0
        self.transaction_id: int | None = None
        self.transaction_start: int | None = None
        self.tx_limit_w: int | None = None  # TxProfile: this transaction only
        self.default_limit_w: int | None = None  # TxDefaultProfile: every transaction without a TxProfile

    @property
    def limit_w(self) -> int | None:
        """The charging-profile limit in force [W], None without one."""
        return self.tx_limit_w if self.tx_limit_w is not None else self.default_limit_w

    @property
    def power_w(self) -> int:
        """Power drawn now [W]: min(EV maximum, limit) during a transaction, else 0."""
        if self.transaction_id is None:
            return 0
        limit = self.limit_w
        return self.ev_max_power_w if limit is None else min(self.ev_max_power_w, limit)

    def set_limit(self, purpose: str, limit_w: int) -> None:
        """Obey a charging profile from now on (`TxProfile` or `TxDefaultProfile`)."""
        check_min_int("limit_w", limit_w, 0)
        if purpose == TX_PROFILE:
            if self.transaction_id is None:
                raise InputError("chargingProfilePurpose", "TxProfile without a transaction in progress")
            self.tx_limit_w = limit_w
        elif purpose == TX_DEFAULT_PROFILE:
            self.default_limit_w = limit_w
        else:
            raise InputError("chargingProfilePurpose", f"{purpose!r} is not TxProfile or TxDefaultProfile")

    def begin(self, transaction_id: int) -> Reading:
        """Open a transaction now; the reading at its begin."""
        if self.transaction_id is not None:
            raise RuntimeError(f"transaction {self.transaction_id} is still open")
        self.transaction_id = check_min_int("transaction_id", transaction_id, 1)
        self.transaction_start = self.now
        return Reading(self.now, self.register_wh, None, ReadingContext.transaction_begin.value)

    def end(self) -> Reading:
        """Close the transaction now (its TxProfile ends with it); the reading at its end."""
        if self.transaction_id is None:
            raise RuntimeError("no transaction is open")
        self.transaction_id = self.transaction_start = self.tx_limit_w = None
        return Reading(self.now, self.register_wh, None, ReadingContext.transaction_end.value)

    def _integrate(self, seconds: int) -> None:
        total_ws = self.remainder_ws + self.power_w * seconds
        self.register_wh += total_ws // 3600
        self.remainder_ws = total_ws % 3600

    def advance(self, seconds: int) -> list[Reading]:
        """Move the clock `seconds` [s] on, integrating power; the periodic readings at each boundary crossed (a
        boundary at the end of the step included), each with the register at that very moment."""
        check_min_int("seconds", seconds, 0)
        end = self.now + seconds
        readings = []
        while self.now < end:
            if self.transaction_id is None:
                self._integrate(end - self.now)
                self.now = end
                break
            origin = 0 if self.clock_aligned else self.transaction_start
            boundary = origin + ((self.now - origin) // self.meter_interval_s + 1) * self.meter_interval_s
            step_end = min(end, boundary)
            self._integrate(step_end - self.now)
            self.now = step_end
            if step_end == boundary:
                context = ReadingContext.sample_clock if self.clock_aligned else ReadingContext.sample_periodic
                readings.append(Reading(boundary, self.register_wh, self.power_w, context.value))
        return readings


# ------------------------------------------------------------------------------------- SetChargingProfile rules


@dataclass(frozen=True)
class ProfileLimit:
    """An accepted charging profile reduced to what the simulator obeys: its purpose and one limit [W]."""

    purpose: str
    limit_w: int
    charging_profile_id: int
    transaction_id: int | None


def parse_charging_profile(  # noqa: C901 (to split: issue 15)
    connector_id: object,
    profile: object,
    *,
    own_connector_id: int,
    transaction_id: int | None,
    voltage_v: int = 230,
    phases: int = 3,
) -> ProfileLimit:
    """Decide a SetChargingProfile.req (its snake_case payload as the `ocpp` library hands it over) for a charge
    point with one connector `own_connector_id` and the open transaction `transaction_id` (None: none).

    Accepted: purpose TxProfile (on the connector, for the open transaction) or TxDefaultProfile (connector 0 or
    ours), kind Absolute or Relative, exactly one schedule period starting at 0, unit W, or A converted as
    floor(A * voltage_v * phases) [W] (phases = the period's numberPhases, default `phases`). Anything else,
    including what the simulator cannot obey (several periods, a duration, validity dates, recurring profiles,
    ChargePointMaxProfile), raises InputError naming the OCPP field, which the handler answers with Rejected."""
    where = "csChargingProfiles"
    if not isinstance(profile, dict):
        raise InputError(where, f"expected an object, got {type(profile).__name__}")
    purpose = profile.get("charging_profile_purpose")
    if purpose not in (TX_PROFILE, TX_DEFAULT_PROFILE):
        raise InputError(
            f"{where}.chargingProfilePurpose", f"{purpose!r} is not supported (TxProfile, TxDefaultProfile)"
        )
    if isinstance(connector_id, bool) or not isinstance(connector_id, int):
        raise InputError("connectorId", f"expected an integer, got {type(connector_id).__name__}")
    allowed_connectors = (own_connector_id,) if purpose == TX_PROFILE else (0, own_connector_id)
    if connector_id not in allowed_connectors:
        raise InputError("connectorId", f"{connector_id} is not one of {allowed_connectors} for a {purpose}")
    profile_tx = profile.get("transaction_id")
    if purpose == TX_PROFILE:
        if transaction_id is None:
            raise InputError(f"{where}.chargingProfilePurpose", "TxProfile without a transaction in progress")
        if profile_tx is not None and profile_tx != transaction_id:
            raise InputError(
                f"{where}.transactionId", f"{profile_tx!r} is not the transaction in progress ({transaction_id})"
            )
    elif profile_tx is not None:
        raise InputError(f"{where}.transactionId", "only a TxProfile names a transaction")
    kind = profile.get("charging_profile_kind")
    if kind not in ("Absolute", "Relative"):
        raise InputError(f"{where}.chargingProfileKind", f"{kind!r} is not supported (Absolute, Relative)")
    for key, name in (("valid_from", "validFrom"), ("valid_to", "validTo"), ("recurrency_kind", "recurrencyKind")):
        if profile.get(key) is not None:
            raise InputError(f"{where}.{name}", "not supported: the limit holds until replaced or the transaction ends")
    profile_id = profile.get("charging_profile_id")
    if isinstance(profile_id, bool) or not isinstance(profile_id, int):
        raise InputError(f"{where}.chargingProfileId", f"expected an integer, got {type(profile_id).__name__}")
    schedule = profile.get("charging_schedule")
    where = f"{where}.chargingSchedule"
    if not isinstance(schedule, dict):
        raise InputError(where, f"expected an object, got {type(schedule).__name__}")
    if schedule.get("duration") is not None:
        raise InputError(f"{where}.duration", "not supported: the limit holds until replaced or the transaction ends")
    unit = schedule.get("charging_rate_unit")
    if unit not in ("W", "A"):
        raise InputError(f"{where}.chargingRateUnit", f"{unit!r} is not W or A")
    periods = schedule.get("charging_schedule_period")
    if not isinstance(periods, list) or len(periods) != 1:
        count = len(periods) if isinstance(periods, list) else type(periods).__name__
        raise InputError(f"{where}.chargingSchedulePeriod", f"exactly one period is supported, got {count}")
    period = periods[0]
    where = f"{where}.chargingSchedulePeriod[0]"
    if not isinstance(period, dict):
        raise InputError(where, f"expected an object, got {type(period).__name__}")
    if period.get("start_period") != 0:
        raise InputError(f"{where}.startPeriod", f"{period.get('start_period')!r} is not 0")
    limit = check_number(f"{where}.limit", period.get("limit"))
    if limit < 0:
        raise InputError(f"{where}.limit", f"{limit} is negative")
    if unit == "A":
        number_phases = period.get("number_phases", phases)
        if number_phases is None:
            number_phases = phases
        if number_phases not in (1, 2, 3):
            raise InputError(f"{where}.numberPhases", f"{number_phases!r} is not 1, 2 or 3")
        limit = limit * voltage_v * number_phases
    limit_w = int(limit.to_integral_value(rounding=ROUND_FLOOR))
    return ProfileLimit(purpose, limit_w, profile_id, transaction_id if purpose == TX_PROFILE else None)


# ------------------------------------------------------------------------------------------------ the protocol


class ChargePointProtocol(OcppChargePoint):
    """The charge point's side of OCPP 1.6-J over an injected connection (anything with async `send(str)` and
    `recv() -> str`). It answers SetChargingProfile with `on_charging_profile(connector_id, profile) -> status`.

    `drop_reply` (tests): called for each reply from the central system; when it returns True the reply is lost
    and the connection aborted, as a link failing after the central system handled a message and before its
    answer arrived."""

    def __init__(
        self,
        cp_id: str,
        connection: Any,
        on_charging_profile: Callable[[int, dict], str],
        *,
        drop_reply: Callable[[], bool] | None = None,
        response_timeout_s: float = 30.0,
    ) -> None:
        super().__init__(cp_id, connection, response_timeout=response_timeout_s)
        self._on_charging_profile = on_charging_profile
        self._drop_reply = drop_reply

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict, **kwargs: Any):
        return call_result.SetChargingProfile(status=self._on_charging_profile(connector_id, cs_charging_profiles))

    async def route_message(self, raw_msg: str) -> None:
        if self._drop_reply is not None:
            with contextlib.suppress(OCPPError):
                if unpack(raw_msg).message_type_id != MessageType.Call and self._drop_reply():
                    abort = getattr(self._connection, "abort", None) or self._connection.transport.abort
                    abort()
                    return
        await super().route_message(raw_msg)


# ----------------------------------------------------------------------------------------------- the simulator


class OfflineError(ConnectionError):
    """The charge point has no connection to the central system and the message cannot wait in the outbox."""


class RefusedError(RuntimeError):
    """The central system refused the request (e.g. an unknown id tag at StartTransaction)."""


def _meter_value(reading: Reading, signer: Callable[[Reading], str] | None) -> datatypes.MeterValue:
    context = ReadingContext(reading.context)
    energy = Measurand.energy_active_import_register
    values = [
        datatypes.SampledValue(value=str(reading.register_wh), context=context, measurand=energy, unit=UnitOfMeasure.wh)
    ]
    if reading.power_w is not None:
        values.append(
            datatypes.SampledValue(
                value=str(reading.power_w),
                context=context,
                measurand=Measurand.power_active_import,
                unit=UnitOfMeasure.w,
            )
        )
    if signer is not None:
        values.append(
            datatypes.SampledValue(
                value=signer(reading),
                context=context,
                format=ValueFormat.signed_data,
                measurand=energy,
                unit=UnitOfMeasure.wh,
            )
        )
    return datatypes.MeterValue(timestamp=iso_utc(reading.timestamp), sampled_value=values)


class ChargePointSim:
    """An OCPP 1.6-J charge point with one connector and one EV, driven from plain Python on a simulated clock.

    `url` is the central system's base URL (`ws://127.0.0.1:PORT`); the charge point connects to `url/cp_id`
    with subprotocol ocpp1.6. Power: min(`ev_max_power_w`, the charging-profile limit) [W] while a transaction
    is open; a MeterValues (Sample.Periodic: Energy.Active.Import.Register [Wh], Power.Active.Import [W], and
    with `signer` a SignedData value signer(reading)) every `meter_interval_s` [s] from the transaction's start
    (or, `clock_aligned`, at each multiple of it on the clock); the StopTransaction carries the end reading,
    signed the same way. Every call blocks until its exchange is done (at most `timeout_s` [s] per message);
    while offline the transaction messages wait, in order, in the outbox (`queued`).
    """

    def __init__(
        self,
        cp_id: str,
        url: str,
        start_time: int,
        ev_max_power_w: int,
        meter_interval_s: int = 900,
        signer: Callable[[Reading], str] | None = None,
        *,
        clock_aligned: bool = False,
        connector_id: int = 1,
        register_wh: int = 0,
        voltage_v: int = 230,
        phases: int = 3,
        timeout_s: float = 10.0,
        vendor: str = "gridchain",
        model: str = "ChargePointSim",
    ) -> None:
        if not isinstance(cp_id, str) or not cp_id or "/" in cp_id or len(cp_id) > 48:
            raise InputError("cp_id", f"{cp_id!r} is not 1..48 characters without '/'")
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise InputError("url", f"{url!r} is not a ws:// or wss:// URL")
        self.cp_id = cp_id
        self.url = url.rstrip("/")
        self.meter = ChargingMeter(start_time, ev_max_power_w, meter_interval_s, register_wh, clock_aligned)
        self.connector_id = check_min_int("connector_id", connector_id, 1)
        self.voltage_v = check_min_int("voltage_v", voltage_v, 1)
        if phases not in (1, 2, 3):
            raise InputError("phases", f"{phases!r} is not 1, 2 or 3")
        self.phases = phases
        if signer is not None and not callable(signer):
            raise InputError("signer", "expected a callable (reading) -> str")
        self.signer = signer
        check_seconds("timeout_s", timeout_s)
        self.timeout_s = float(timeout_s)
        self.vendor, self.model = vendor, model
        self.boot_status: str | None = None
        self.heartbeat_interval_s: int | None = None
        self.id_tag: str | None = None
        self.rejected_profiles: list[str] = []  # why each SetChargingProfile was Rejected
        self.refused: list[str] = []  # queued messages the central system answered with a CallError (dropped)
        self.delivered: list[str] = []  # actions of the outbox's messages, in the order their replies arrived
        self._outbox: collections.deque[Any] = collections.deque()
        self._drop_replies = 0
        self._ws: Any = None
        self._proto: ChargePointProtocol | None = None
        self._reader: asyncio.Task | None = None
        self._lock = threading.RLock()
        self._loop: LoopThread | None = None

    # -- state, readable from any thread

    @property
    def now(self) -> int:
        """The simulated clock [s]."""
        return self.meter.now

    @property
    def register_wh(self) -> int:
        return self.meter.register_wh

    @property
    def power_w(self) -> int:
        return self.meter.power_w

    @property
    def limit_w(self) -> int | None:
        return self.meter.limit_w

    @property
    def transaction_id(self) -> int | None:
        return self.meter.transaction_id

    @property
    def online(self) -> bool:
        return self._proto is not None and self._reader is not None and not self._reader.done()

    @property
    def queued(self) -> int:
        """Transaction messages waiting for the central system's reply."""
        return len(self._outbox)

    # -- plumbing

    def _run(self, coro: Coroutine[Any, Any, _T], messages: int = 1) -> _T:
        with self._lock:
            if self._loop is None:
                self._loop = LoopThread(f"ocpp-cp-{self.cp_id}").start()
            return self._loop.run(coro, self.timeout_s * (messages + len(self._outbox) + 2))

    async def _open(self) -> None:
        if self.online:
            raise RuntimeError(f"{self.cp_id}: already connected")
        ws = await websockets.connect(
            f"{self.url}/{self.cp_id}", subprotocols=[SUBPROTOCOL], open_timeout=self.timeout_s, close_timeout=2
        )
        if ws.subprotocol != SUBPROTOCOL:
            await ws.close()
            raise ConnectionError(f"{self.url}: the server did not agree to subprotocol {SUBPROTOCOL}")
        proto = ChargePointProtocol(
            self.cp_id,
            ws,
            self._on_charging_profile,
            drop_reply=self._take_drop,
            response_timeout_s=self.timeout_s + 5,  # our own timeout in _deliver fires first
        )
        self._ws, self._proto = ws, proto
        self._reader = asyncio.create_task(self._read(proto))

    @staticmethod
    async def _read(proto: ChargePointProtocol) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await proto.start()

    def _take_drop(self) -> bool:
        if self._drop_replies:
            self._drop_replies -= 1
            return True
        return False

    def _on_charging_profile(self, connector_id: int, profile: dict) -> str:
        try:
            accepted = parse_charging_profile(
                connector_id,
                profile,
                own_connector_id=self.connector_id,
                transaction_id=self.meter.transaction_id,
                voltage_v=self.voltage_v,
                phases=self.phases,
            )
        except InputError as e:
            self.rejected_profiles.append(str(e))
            return ChargingProfileStatus.rejected.value
        self.meter.set_limit(accepted.purpose, accepted.limit_w)
        return ChargingProfileStatus.accepted.value

    async def _deliver(self, payload: Any) -> Any:
        """Send one CALL and return its CALLRESULT; OfflineError if the connection is (or goes) down first.
        (The `ocpp` library's call() alone would wait out its timeout after a dropped connection.)"""
        proto, reader = self._proto, self._reader
        action = type(payload).__name__
        if proto is None or reader is None or reader.done():
            raise OfflineError(f"{self.cp_id}: offline, {action} not sent")
        sending = asyncio.ensure_future(proto.call(payload, suppress=False))
        done, _ = await asyncio.wait({sending, reader}, timeout=self.timeout_s, return_when=asyncio.FIRST_COMPLETED)
        if sending in done:
            return sending.result()
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, OCPPError):
            await sending
        if reader in done:
            raise OfflineError(f"{self.cp_id}: the connection dropped before {action} was answered")
        raise TimeoutError(f"{self.cp_id}: no answer to {action} within {self.timeout_s} s")

    async def _flush(self) -> None:
        while self._outbox and self.online:
            payload = self._outbox[0]
            try:
                await self._deliver(payload)
            except OfflineError:
                return
            except OCPPError as e:  # the central system refused it: OCPP lets the charge point drop it
                self.refused.append(f"{type(payload).__name__}: {e}")
            self._outbox.popleft()
            self.delivered.append(type(payload).__name__)

    async def _status(self, status: ChargePointStatus) -> None:
        if self.online:  # a status is not a transaction message: not queued while offline
            with contextlib.suppress(OfflineError):
                await self._deliver(
                    call.StatusNotification(
                        connector_id=self.connector_id,
                        error_code=ChargePointErrorCode.no_error,
                        status=status,
                        timestamp=iso_utc(self.meter.now),
                    )
                )

    def _queue_readings(self, readings: list[Reading]) -> None:
        for reading in readings:
            self._outbox.append(
                call.MeterValues(
                    connector_id=self.connector_id,
                    transaction_id=self.meter.transaction_id,
                    meter_value=[_meter_value(reading, self.signer)],
                )
            )

    # -- the session, from plain Python

    def connect(self) -> str:
        """Open the websocket and send BootNotification (then StatusNotification Available and anything queued);
        the registration status (`Accepted`, `Pending`, `Rejected`)."""

        async def go() -> str:
            await self._open()
            boot = await self._deliver(
                call.BootNotification(charge_point_model=self.model, charge_point_vendor=self.vendor)
            )
            self.boot_status, self.heartbeat_interval_s = boot.status, boot.interval
            if boot.status == RegistrationStatus.accepted:
                await self._status(ChargePointStatus.charging if self.transaction_id else ChargePointStatus.available)
                await self._flush()
            return boot.status

        return self._run(go(), messages=3)

    def heartbeat(self) -> str:
        """Heartbeat; the central system's current time."""
        return self._run(self._deliver(call.Heartbeat())).current_time

    def authorize(self, id_tag: str) -> bool:
        """Authorize `id_tag` online (there is no local authorization list); True when Accepted."""
        _check_id_tag(id_tag)
        result = self._run(self._deliver(call.Authorize(id_tag=id_tag)))
        return result.id_tag_info["status"] == AuthorizationStatus.accepted

    def start_transaction(self, id_tag: str) -> int:
        """StartTransaction now (needs the connection: the transaction id comes from the central system); the
        transaction id. RefusedError if the central system does not accept `id_tag`."""
        _check_id_tag(id_tag)
        if self.meter.transaction_id is not None:
            raise RuntimeError(f"{self.cp_id}: transaction {self.meter.transaction_id} is still open")

        async def go() -> int:
            await self._flush()  # what an earlier transaction left queued goes first
            if self._outbox:
                raise OfflineError(f"{self.cp_id}: offline, StartTransaction not sent")
            result = await self._deliver(
                call.StartTransaction(
                    connector_id=self.connector_id,
                    id_tag=id_tag,
                    meter_start=self.meter.register_wh,
                    timestamp=iso_utc(self.meter.now),
                )
            )
            status = result.id_tag_info["status"]
            if status != AuthorizationStatus.accepted:
                raise RefusedError(f"id_tag: {id_tag!r} refused by the central system ({status})")
            self.id_tag = id_tag
            self._queue_readings([self.meter.begin(result.transaction_id)])
            await self._flush()
            await self._status(ChargePointStatus.charging)
            return result.transaction_id

        return self._run(go(), messages=3)

    def advance(self, seconds: int) -> None:
        """Let `seconds` [s] of simulated time pass: the meter counts, each meter-interval boundary queues a
        MeterValues, and (online) the outbox is sent before this returns."""
        check_min_int("seconds", seconds, 0)

        async def go() -> None:
            self._queue_readings(self.meter.advance(seconds))
            await self._flush()

        self._run(go(), messages=seconds // self.meter.meter_interval_s + 1)

    def stop_transaction(self, reason: str = Reason.local.value) -> int:
        """StopTransaction now (queued, so it is delivered after reconnect when offline), with the final reading
        as transactionData; the meter's stop value [Wh]."""
        if reason not in {r.value for r in Reason}:
            raise InputError("reason", f"{reason!r} is not an OCPP 1.6 Reason")
        if self.meter.transaction_id is None:
            raise RuntimeError(f"{self.cp_id}: no transaction is open")

        async def go() -> int:
            transaction_id = self.meter.transaction_id
            final = self.meter.end()
            self._outbox.append(
                call.StopTransaction(
                    meter_stop=final.register_wh,
                    timestamp=iso_utc(final.timestamp),
                    transaction_id=transaction_id,
                    reason=Reason(reason),
                    id_tag=self.id_tag,
                    transaction_data=[_meter_value(final, self.signer)],
                )
            )
            await self._flush()
            await self._status(ChargePointStatus.available)
            return final.register_wh

        return self._run(go(), messages=2)

    def disconnect(self) -> None:
        """Drop the websocket abruptly (TCP abort, no closing handshake), as a lost link; the meter keeps counting
        and transaction messages queue until `reconnect()`."""

        async def go() -> None:
            if self._ws is not None:
                self._ws.transport.abort()
            if self._reader is not None:
                await asyncio.wait({self._reader})
            self._ws = self._proto = None

        if self._loop is not None:
            self._run(go())

    def reconnect(self) -> int:
        """Open a new websocket (no new BootNotification: the charge point did not reboot) and send what waited,
        in order; how many queued messages were delivered."""

        async def go() -> int:
            before = len(self.delivered)
            await self._open()
            await self._flush()
            await self._status(ChargePointStatus.charging if self.transaction_id else ChargePointStatus.available)
            return len(self.delivered) - before

        return self._run(go(), messages=2)

    def drop_next_reply(self, count: int = 1) -> None:
        """Fault injection: the next `count` replies of the central system are lost with the connection (the
        central system handled the message, the charge point never heard so), so the message is sent again
        after reconnect."""
        self._drop_replies += check_min_int("count", count, 1)

    def close(self) -> None:
        """Close the websocket gracefully and end the client's thread. Queued messages stay unsent."""
        if self._loop is None:
            return

        async def go() -> None:
            if self._ws is not None:
                with contextlib.suppress(Exception):
                    await self._ws.close()
            if self._reader is not None:
                await asyncio.wait({self._reader}, timeout=self.timeout_s)
            self._ws = self._proto = None

        with self._lock:
            try:
                if self._loop.alive:
                    self._loop.run(go(), self.timeout_s + 5)
            finally:
                self._loop.stop()
                self._loop = None

    def __enter__(self) -> ChargePointSim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_id_tag(id_tag: object) -> str:
    if not isinstance(id_tag, str) or not 1 <= len(id_tag) <= 20:
        raise InputError("id_tag", f"{id_tag!r} is not a string of 1..20 characters (OCPP IdToken)")
    return id_tag
