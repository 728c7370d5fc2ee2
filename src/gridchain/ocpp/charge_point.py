"""The charge point: an OCPP 1.6-J charge-point simulator on the `ocpp` library's client side, with its integer meter
(`meter.py`) on a simulated clock.

- `ChargePointProtocol` (an `ocpp.v16.ChargePoint`): the SetChargingProfile handler over whatever connection
  it is given (a websocket, or an in-memory pipe in tests); `messages.charging_profile.parse_charging_profile` is
  its pure decision.
- `ChargePointSim`: a plain-Python facade that runs the client's asyncio loop in its own thread and drives a
  whole session: connect (BootNotification), authorize, start_transaction, advance, stop_transaction,
  disconnect (abrupt) and reconnect. Each request is built by its message's builder (`messages/`).
  Transaction-related messages (MeterValues, StopTransaction) go through an ordered outbox: a message leaves it
  only when the central system's reply arrives, so whatever was queued while offline, or sent but not
  acknowledged before the link dropped, is (re)sent in order after reconnect. The central system deduplicates
  what it already had (`gridchain.ocpp.backend`).

Units: power [W], energy [Wh], time [s] (unix seconds of the simulated clock).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import websockets
from ocpp.exceptions import OCPPError
from ocpp.messages import MessageType, unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import datatypes
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    ChargePointStatus,
    ChargingProfileStatus,
    Reason,
    RegistrationStatus,
)

from gridchain.checks import check_min_int, check_seconds
from gridchain.errors import InputError
from gridchain.ocpp.frames import SUBPROTOCOL
from gridchain.ocpp.loop import LoopThread
from gridchain.ocpp.messages.charging_profile import build_set_charging_profile_result, parse_charging_profile
from gridchain.ocpp.messages.data_transfer import VendorData, build_data_transfer, parse_data_transfer_result
from gridchain.ocpp.messages.fields import check_id_tag
from gridchain.ocpp.messages.meter_values import build_meter_values, meter_value
from gridchain.ocpp.messages.registration import (
    Boot,
    build_boot_notification,
    build_heartbeat,
    parse_boot_notification_result,
    parse_heartbeat_result,
)
from gridchain.ocpp.messages.status import ConnectorStatus, build_status_notification
from gridchain.ocpp.messages.transactions import (
    TransactionStart,
    build_authorize,
    build_start_transaction,
    build_stop_transaction,
    parse_authorize_result,
    parse_start_transaction_result,
)
from gridchain.ocpp.meter import ChargingMeter, Reading

_T = TypeVar("_T")


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
        return build_set_charging_profile_result(self._on_charging_profile(connector_id, cs_charging_profiles))

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


def _meter_value(
    reading: Reading, signer: Callable[[Reading], str] | None, soc_pct: int | None = None
) -> datatypes.MeterValue:
    """The MeterValue of a reading, with its SignedData `signer(reading)` if there is a signer, and the EV's SoC [%]
    unless None."""
    signed = signer(reading) if signer is not None else None
    return meter_value(reading.timestamp, reading.register_wh, reading.power_w, reading.context, signed, soc_pct)


class ChargePointSim:
    """An OCPP 1.6-J charge point with one connector and one EV, driven from plain Python on a simulated clock.

    `url` is the central system's base URL (`ws://127.0.0.1:PORT`); the charge point connects to `url/cp_id`
    with subprotocol ocpp1.6. Power: min(`ev_max_power_w`, the charging-profile limit) [W] while a transaction
    is open; a MeterValues (Sample.Periodic: Energy.Active.Import.Register [Wh], Power.Active.Import [W], and
    with `signer` a SignedData value signer(reading)) every `meter_interval_s` [s] from the transaction's start
    (or, `clock_aligned`, at each multiple of it on the clock); the StopTransaction carries the end reading,
    signed the same way. With `soc_pct`, the EV's state of charge [%] goes with the transaction's first reading
    (Transaction.Begin), as an EV that reports it over ISO 15118 would. Every charging profile accepted is kept in
    `profiles` (connector, purpose, limit [W]). Every call blocks until its exchange is done (at most `timeout_s` [s]
    per message); while offline the transaction messages wait, in order, in the outbox (`queued`).
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
        soc_pct: int | None = None,
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
        if soc_pct is not None and not (isinstance(soc_pct, int) and 0 <= soc_pct <= 100):
            raise InputError("soc_pct", f"{soc_pct!r} is not a state of charge 0..100 (%)")
        self.soc_pct = soc_pct
        self.vendor, self.model = vendor, model
        self.boot_status: str | None = None
        self.heartbeat_interval_s: int | None = None
        self.id_tag: str | None = None
        self.rejected_profiles: list[str] = []  # why each SetChargingProfile was Rejected
        self.profiles: list[tuple[int, str, int]] = []  # (connector, purpose, limit [W]) of each one accepted
        self.refused: list[str] = []  # queued messages the central system answered with a CallError (dropped)
        self.delivered: list[str] = []  # actions of the outbox's messages, in the order their replies arrived
        self.retries = 0  # requests sent again by `call_with_backoff` (the central system was away)
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
        self.profiles.append((connector_id, accepted.purpose, accepted.limit_w))
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
                    build_status_notification(ConnectorStatus(self.connector_id, status, timestamp=self.meter.now))
                )

    def _queue_readings(self, readings: list[Reading], soc_pct: int | None = None) -> None:
        for reading in readings:
            value = _meter_value(reading, self.signer, soc_pct)
            self._outbox.append(build_meter_values(self.connector_id, self.meter.transaction_id, [value]))

    # -- the session, from plain Python

    def connect(self) -> str:
        """Open the websocket and send BootNotification (then StatusNotification Available and anything queued);
        the registration status (`Accepted`, `Pending`, `Rejected`)."""

        async def go() -> str:
            await self._open()
            boot = await self._deliver(build_boot_notification(Boot(self.vendor, self.model)))
            self.boot_status, self.heartbeat_interval_s = parse_boot_notification_result(boot)
            if self.boot_status == RegistrationStatus.accepted:
                await self._status(ChargePointStatus.charging if self.transaction_id else ChargePointStatus.available)
                await self._flush()
            return self.boot_status

        return self._run(go(), messages=3)

    def heartbeat(self) -> str:
        """Heartbeat; the central system's current time."""
        return parse_heartbeat_result(self._run(self._deliver(build_heartbeat())))

    def data_transfer(self, vendor_id: str, message_id: str | None = None, data: str | None = None):
        """DataTransfer (vendor-specific data, online only); the central system's (status, data)."""
        request = build_data_transfer(VendorData(vendor_id, message_id, data))
        return parse_data_transfer_result(self._run(self._deliver(request)))

    def authorize(self, id_tag: str) -> bool:
        """Authorize `id_tag` online (there is no local authorization list); True when Accepted."""
        return parse_authorize_result(self._run(self._deliver(build_authorize(id_tag))))

    def start_transaction(self, id_tag: str) -> int:
        """StartTransaction now (needs the connection: the transaction id comes from the central system); the
        transaction id. RefusedError if the central system does not accept `id_tag`."""
        check_id_tag(id_tag)
        if self.meter.transaction_id is not None:
            raise RuntimeError(f"{self.cp_id}: transaction {self.meter.transaction_id} is still open")

        async def go() -> int:
            await self._flush()  # what an earlier transaction left queued goes first
            if self._outbox:
                raise OfflineError(f"{self.cp_id}: offline, StartTransaction not sent")
            start = TransactionStart(self.connector_id, id_tag, self.meter.register_wh, self.meter.now)
            transaction_id, status = parse_start_transaction_result(await self._deliver(build_start_transaction(start)))
            if status != AuthorizationStatus.accepted:
                raise RefusedError(f"id_tag: {id_tag!r} refused by the central system ({status})")
            self.id_tag = id_tag
            self._queue_readings([self.meter.begin(transaction_id)], self.soc_pct)
            await self._flush()
            await self._status(ChargePointStatus.charging)
            return transaction_id

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
                build_stop_transaction(
                    transaction_id,
                    final.register_wh,
                    final.timestamp,
                    reason,
                    self.id_tag,
                    [_meter_value(final, self.signer)],
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

    def deliver_with_backoff(
        self,
        deadline_s: float,
        first_s: float = 0.2,
        longest_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> int:
        """While messages wait in the outbox (or the link is down), reconnect and send them, retrying a central
        system that is not there (yet) with a pause doubling from `first_s` to `longest_s` [s], for at most
        `deadline_s` [s] of real time; how many reconnects it took. OfflineError if the outbox is not empty by
        then."""
        deadline, pause, attempts = time.monotonic() + deadline_s, first_s, 0
        while self._outbox or not self.online:
            if self.online:
                self._run(self._flush())
            else:
                attempts += 1
                with contextlib.suppress(OSError, TimeoutError, OfflineError, websockets.WebSocketException):
                    self.reconnect()
            if not self._outbox and self.online:
                break
            if time.monotonic() + pause > deadline:
                raise OfflineError(f"{self.cp_id}: {len(self._outbox)} messages undelivered after {deadline_s} s")
            sleep(pause)
            pause = min(longest_s, pause * 2)
        return attempts

    def call_with_backoff(
        self,
        call: Callable[[], _T],
        deadline_s: float,
        first_s: float = 0.2,
        longest_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> _T:
        """Run `call()` (one of the online requests: `connect`, `data_transfer`, `authorize`, `start_transaction`)
        until the central system answers it: when it is not there, or goes away (or stays silent) before it
        answers, drop the link, reconnect after a pause doubling from `first_s` to `longest_s` [s] and call again,
        for at most `deadline_s` [s] of real time (then OfflineError). The central system answers these requests
        idempotently (a resent StartTransaction gets the same transaction id), so a request it handled but whose
        answer was lost is safe to send again. A refusal (RefusedError, an OCPP CallError) is not retried."""
        deadline, pause = time.monotonic() + deadline_s, first_s
        while True:
            try:
                if not self.online and self.boot_status is not None:
                    self.reconnect()  # booted before: a new link, then the call (the queue goes first)
                return call()
            except (OSError, websockets.WebSocketException) as e:  # OfflineError and TimeoutError are OSErrors
                if self.online:  # no answer in time: this link is not trusted any more
                    self.disconnect()
                if time.monotonic() + pause > deadline:
                    raise OfflineError(
                        f"{self.cp_id}: no answer from the central system within {deadline_s} s: {e}"
                    ) from e
            self.retries += 1
            sleep(pause)
            pause = min(longest_s, pause * 2)

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
