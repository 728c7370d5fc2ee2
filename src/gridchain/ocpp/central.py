"""The OCPP 1.6-J central system: websockets on 127.0.0.1, the `ocpp` library's protocol, injected business logic.

- `CentralChargePoint` (an `ocpp.v16.ChargePoint`, one per connected charge point) holds the protocol. It reads
  every frame itself (`frames.parse_frame`: JSON with bounded numbers, the OCPP-J frame, the 1.6 schema, each
  refusal a CallError with the code OCPP-J 1.6 Table 7 gives it and the field named); then its `@on` handlers parse
  each request with its message's parser (`messages/`), hand the decision to a `CentralBackend` (`backend.py`) and
  answer with its message's result builder. It runs over whatever connection it is given, so the protocol is
  testable without a network.
- `CentralSystem` serves websockets (subprotocol ocpp1.6, the charge point's id is the URL path) on 127.0.0.1 in
  a thread with its own asyncio loop, and pushes a coordinator's allocation to a charge point as a
  SetChargingProfile (TxProfile, limit in W) from plain Python: `set_charging_profile`.

One event loop serves every charge point, so no frame may cost more than a bounded, linear amount of work: a
websocket message is at most `max_message_bytes`, a frame is read at a bounded cost (`frames`), a decimal meter
reading is converted only if it is bounded (`messages.meter_values`), and schemas are checked in the loop's
executor.

Units: power [W], energy [Wh], time [s] (unix seconds). See docs/ocpp.md for the message flow and the rules.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import websockets
from ocpp.exceptions import InternalError, NotSupportedError, OCPPError
from ocpp.exceptions import NotImplementedError as NotImplementedCallError
from ocpp.messages import Call
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import datatypes
from ocpp.v16.enums import Action

from gridchain.checks import check_min_int, check_seconds
from gridchain.ocpp.anomalies import Anomaly, AnomalyKind
from gridchain.ocpp.backend import CentralBackend, RecordingBackend
from gridchain.ocpp.frames import (
    SUBPROTOCOL,
    Refusal,
    Unanswerable,
    as_call_error,
    check_payload,
    clip,
    description,
    from_wire,
    parse_frame,
    serialise_error,
    serialise_result,
)
from gridchain.ocpp.loop import LoopThread
from gridchain.ocpp.messages.charging_profile import (
    build_set_charging_profile,
    charging_profile,
    parse_set_charging_profile_result,
)
from gridchain.ocpp.messages.data_transfer import build_data_transfer_result, parse_data_transfer
from gridchain.ocpp.messages.meter_values import (
    MAX_READING,
    ParsedMeterValues,
    build_meter_values_result,
    parse_meter_values,
)
from gridchain.ocpp.messages.registration import (
    build_boot_notification_result,
    build_heartbeat_result,
    parse_boot_notification,
)
from gridchain.ocpp.messages.status import build_status_notification_result, parse_status_notification
from gridchain.ocpp.messages.transactions import (
    build_authorize_result,
    build_start_transaction_result,
    build_stop_transaction_result,
    parse_authorize,
    parse_start_transaction,
    parse_stop_transaction,
)

LOG = logging.getLogger("gridchain.ocpp_central")

MAX_MESSAGE_BYTES = 131_072  # [bytes] a larger websocket message closes the connection (1009, message too big)

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

    def _now(self) -> int:
        return int(self._clock())

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
            msg = parse_frame(raw_msg)
        except Unanswerable as e:
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
                self._anomaly(AnomalyKind.IGNORED_FRAME, f"messageId: {clip(msg.unique_id)} answers no CALL of ours")
            return
        try:
            if msg.action not in _ACTIONS_1_6:
                raise NotImplementedCallError(description("action", f"{clip(msg.action)} is not an OCPP 1.6 action"))
            if "_on_action" not in self.route_map.get(msg.action, {}):
                raise NotSupportedError(description("action", f"{msg.action} is not supported by this central system"))
            await asyncio.get_running_loop().run_in_executor(None, check_payload, msg.action, msg.payload)
        except OCPPError as error:
            await self._refuse(msg.unique_id, error)
            return
        handler = self.route_map[msg.action]["_on_action"]
        try:
            response = handler(**from_wire(msg.payload))
            if inspect.isawaitable(response):
                response = await response
            answer = serialise_result(msg.unique_id, response)
        except OCPPError as error:
            await self._refuse(msg.unique_id, error)
            return
        except Exception:  # a bug of ours: the charge point still gets its answer
            LOG.exception("%s: handling %s", self.id, msg.action)
            await self._refuse(msg.unique_id, InternalError())
            return
        await self._send(answer)

    async def _refuse(self, unique_id: str, error: OCPPError) -> None:
        self._anomaly(AnomalyKind.CALL_ERROR, f"{error.code}: {error.description}")
        await self._send(serialise_error(unique_id, error))

    # -- the handlers: each request parsed by its message's parser, decided by the backend, answered by its builder

    @on(Action.boot_notification, skip_schema_validation=True)
    def on_boot_notification(self, **payload: Any):
        boot = parse_boot_notification(**payload)
        accepted = self.backend.boot_notification(self.id, boot.vendor, boot.model)
        return build_boot_notification_result(accepted, self._now(), self.heartbeat_interval_s)

    @on(Action.heartbeat, skip_schema_validation=True)
    def on_heartbeat(self, **payload: Any):
        return build_heartbeat_result(self._now())

    @on(Action.authorize, skip_schema_validation=True)
    def on_authorize(self, **payload: Any):
        return build_authorize_result(self.backend.authorize(self.id, parse_authorize(**payload)))

    @on(Action.start_transaction, skip_schema_validation=True)
    def on_start_transaction(self, **payload: Any):
        with as_call_error():
            start = parse_start_transaction(**payload)
        transaction_id = None
        if 0 <= start.meter_start_wh <= MAX_READING:
            transaction_id = self.backend.start_transaction(
                self.id, start.connector_id, start.id_tag, start.meter_start_wh, start.timestamp
            )
        else:  # §4.8: answered all the same; 0 with Invalid opens nothing
            self._anomaly(AnomalyKind.BAD_METER_START, f"meterStart: {start.meter_start_wh} is not in 0..{MAX_READING}")
        return build_start_transaction_result(transaction_id)

    def _problems(self, parsed: ParsedMeterValues, transaction_id: int | None) -> None:
        for kind, detail in parsed.problems:
            self._anomaly(kind, detail, transaction_id)

    @on(Action.meter_values, skip_schema_validation=True)
    def on_meter_values(self, connector_id: int, meter_value: list, transaction_id: int | None = None, **kwargs: Any):
        """A sampled value that is no reading (not a decimal number in range, or in another unit) refuses the whole
        message with PropertyConstraintViolation naming its field, and nothing of it is stored (each such value is
        a `bad value` anomaly of the transaction, the refusal a `call error`); a plausibility finding about readings
        that are numbers (a contradiction) is answered and kept as an anomaly, as OCPP 1.6 §4.7 asks."""
        with as_call_error():
            parsed = parse_meter_values(meter_value)
        bad = [detail for kind, detail in parsed.problems if kind is AnomalyKind.BAD_VALUE]
        if bad:
            for detail in bad:  # the transaction's record shows what was refused
                self._anomaly(AnomalyKind.BAD_VALUE, detail, transaction_id)
            field, _, reason = bad[0].partition(": ")
            raise Refusal(description=description(field, reason), details={"field": field})
        self._problems(parsed, transaction_id)
        self.backend.meter_values(self.id, transaction_id, list(parsed.samples))
        return build_meter_values_result()

    @on(Action.stop_transaction, skip_schema_validation=True)
    def on_stop_transaction(self, **payload: Any):
        """Always answered (OCPP 1.6 §4.10: the central system cannot prevent a transaction from stopping): an
        unknown or repeated stop, or a meter stop out of range, is an anomaly of the backend's, not a CallError.
        Only what the schema refuses (a timestamp that is no date-time) is a CallError."""
        with as_call_error():
            stop = parse_stop_transaction(**payload)
        self._problems(stop.transaction_data, stop.transaction_id)
        self.backend.stop_transaction(
            self.id,
            stop.transaction_id,
            stop.meter_stop_wh,
            stop.timestamp,
            stop.reason,
            list(stop.transaction_data.samples),
        )
        known = None if stop.id_tag is None else self.backend.authorize(self.id, stop.id_tag)
        return build_stop_transaction_result(known)

    @on(Action.status_notification, skip_schema_validation=True)
    def on_status_notification(self, **payload: Any):
        with as_call_error():
            status = parse_status_notification(**payload)
            self.backend.status_notification(
                self.id, status.connector_id, status.status, status.error_code, status.timestamp
            )
        return build_status_notification_result()

    @on(Action.data_transfer, skip_schema_validation=True)
    def on_data_transfer(self, **payload: Any):
        request = parse_data_transfer(**payload)
        status, reply = self.backend.data_transfer(self.id, request.vendor_id, request.message_id, request.data)
        return build_data_transfer_result(status, reply)


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
            request = build_set_charging_profile(connector_id, profile)
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
            return parse_set_charging_profile_result(sending.result())

        return self._loop.run(send(), timeout_s)
