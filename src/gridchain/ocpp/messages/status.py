"""StatusNotification (charge point -> central system): a connector's status.

Units: time [s] (unix seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocpp.v16 import call, call_result
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from gridchain.ocpp.messages.fields import iso_utc, unix_s


@dataclass(frozen=True)
class ConnectorStatus:
    """A StatusNotification.req: the connector (0: the whole charge point), its status (`Available`,
    `Charging`, ...), its error code (`NoError`, ...) and the time [s] if sent."""

    connector_id: int
    status: str
    error_code: str = ChargePointErrorCode.no_error.value
    timestamp: int | None = None


def build_status_notification(status: ConnectorStatus) -> call.StatusNotification:
    """StatusNotification.req."""
    return call.StatusNotification(
        connector_id=status.connector_id,
        error_code=ChargePointErrorCode(status.error_code),
        status=ChargePointStatus(status.status),
        timestamp=None if status.timestamp is None else iso_utc(status.timestamp),
    )


def parse_status_notification(
    connector_id: int, error_code: str, status: str, timestamp: str | None = None, **optional: Any
) -> ConnectorStatus:
    """The status; InputError naming `timestamp` if it is sent and not a date-time with a time zone."""
    at = unix_s(timestamp, "timestamp") if timestamp is not None else None
    return ConnectorStatus(connector_id, status, error_code, at)


def build_status_notification_result() -> call_result.StatusNotification:
    """StatusNotification.conf (it carries nothing)."""
    return call_result.StatusNotification()
