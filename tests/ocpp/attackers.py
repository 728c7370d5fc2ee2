"""Attackers of the OCPP central system as first-class test helpers: a charge point under the attacker's control,
and an honest bystander that measures how long the central system takes to answer it meanwhile.

`HostileChargePoint` speaks raw OCPP-J over a real loopback websocket: it sends any text or bytes (broken JSON,
exotic numbers, wrong types, replays, oversized messages) and reads the answer frame, so an attack is a frame and
an assertion on the answer: `hostile.call("MeterValues", payload)` -> `[3, id, {...}]` or `[4, id, code, ...]`.
`Bystander.heartbeat_s()` is the time [s] one Heartbeat takes to be answered (inf if not within `timeout_s`).
The fixtures that build them (`central`, `hostile_cp`, `bystander`) are in tests/ocpp/test_attacks.py.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from typing import Any

from websockets.sync.client import connect

from gridchain.ocpp.frames import SUBPROTOCOL
from gridchain.ocpp.messages.fields import iso_utc

ANSWER_S = 5.0  # [s] how long an attack waits for an answer that should come
SILENCE_S = 0.3  # [s] how long it waits to conclude that no answer comes
STALL_BOUND_S = 3.0  # [s] a bystander answered slower than this while a hostile frame is handled is stalled

# every errorCode OCPP-J 1.6 Table 7 allows, spelt as the 1.6 errata 5.1 and 5.2 keep them
OCPP16_ERROR_CODES = frozenset(
    {
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    }
)


class HostileChargePoint:
    """A charge point the attacker controls, connected to `url/cp_id` (subprotocol ocpp1.6)."""

    def __init__(self, url: str, cp_id: str = "cp-mallory", *, timeout_s: float = ANSWER_S) -> None:
        self.cp_id = cp_id
        self.timeout_s = timeout_s
        self.ws = connect(
            f"{url}/{cp_id}",
            subprotocols=[SUBPROTOCOL],
            open_timeout=timeout_s,
            close_timeout=1,
            max_size=None,
            legacy=True,
        )
        self._ids = itertools.count(1)

    def send(self, frame: str | bytes) -> None:
        self.ws.send(frame)

    def answer(self, timeout_s: float | None = None) -> list | None:
        """The next frame from the central system, parsed; None if none arrives within `timeout_s` [s]."""
        try:
            return json.loads(self.ws.recv(timeout=self.timeout_s if timeout_s is None else timeout_s))
        except TimeoutError:
            return None

    def raw(self, frame: str | bytes, timeout_s: float | None = None) -> list | None:
        self.send(frame)
        return self.answer(timeout_s)

    def frame(self, action: str, payload: Any, unique_id: str | None = None) -> str:
        return json.dumps([2, unique_id or f"{self.cp_id}-{next(self._ids)}", action, payload])

    def call(self, action: str, payload: Any, unique_id: str | None = None, timeout_s: float | None = None) -> list:
        """Send a CALL (any payload, even one the schema refuses) and return the answer frame."""
        text = self.frame(action, payload, unique_id)
        answer = self.raw(text, timeout_s)
        assert answer is not None, f"no answer to {text[:120]}"
        assert answer[1] == json.loads(text)[1], f"answer {answer} is not for {text[:120]}"
        return answer

    def boot(self) -> None:
        assert result(self.call("BootNotification", {"chargePointVendor": "evil", "chargePointModel": "x"}))

    def start(self, id_tag: str, meter_start: int, timestamp: int) -> int:
        """StartTransaction; the transaction id (0 if refused)."""
        payload = {"connectorId": 1, "idTag": id_tag, "meterStart": meter_start, "timestamp": iso_utc(timestamp)}
        return result(self.call("StartTransaction", payload))["transactionId"]

    def close(self) -> None:
        self.ws.close()


class Bystander(HostileChargePoint):
    """An honest charge point on the same central system: how long does its Heartbeat take?"""

    def heartbeat_s(self, timeout_s: float = 10.0) -> float:
        began = time.perf_counter()
        text = self.frame("Heartbeat", {})
        self.send(text)
        deadline = began + timeout_s
        while (left := deadline - time.perf_counter()) > 0:
            answer = self.answer(left)
            if answer is not None and answer[1] == json.loads(text)[1]:
                return time.perf_counter() - began
        return math.inf


def stall_while(hostile: HostileChargePoint, frame: str | bytes, bystander: Bystander, heartbeats: int = 3):
    """Send a hostile frame, then time `heartbeats` Heartbeats of the bystander one after the other while the
    central system handles it; (the hostile frame's answer or None, the slowest Heartbeat [s])."""
    hostile.send(frame)
    slowest = max(bystander.heartbeat_s() for _ in range(heartbeats))
    return hostile.answer(), slowest


def result(answer: list | None) -> dict:
    """The payload of a CALLRESULT (fails on anything else)."""
    assert answer is not None and answer[0] == 3, f"expected a CALLRESULT, got {answer}"
    return answer[2]


def call_error(answer: list | None) -> tuple[str, str]:
    """(errorCode, errorDescription) of a CALLERROR with a code OCPP-J 1.6 allows (fails on anything else)."""
    assert answer is not None and answer[0] == 4 and len(answer) == 5, f"expected a CALLERROR, got {answer}"
    assert answer[2] in OCPP16_ERROR_CODES, f"{answer[2]!r} is not an OCPP-J 1.6 error code"
    assert isinstance(answer[4], dict)
    return answer[2], answer[3]


def sampled(value: str, **fields: str) -> dict:
    """One SampledValue as on the wire (camelCase); OCPP's defaults for what is not given."""
    return {"value": value, **fields}


def meter_values(transaction_id: int | None, timestamp: int, *values: dict, connector_id: int = 1) -> dict:
    payload: dict[str, Any] = {
        "connectorId": connector_id,
        "meterValue": [{"timestamp": iso_utc(timestamp), "sampledValue": list(values)}],
    }
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return payload
