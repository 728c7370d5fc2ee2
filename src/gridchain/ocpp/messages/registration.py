"""BootNotification and Heartbeat (charge point -> central system): a charge point's registration, and the central
system's clock and heartbeat interval in the answers.

Units: time [s] (unix seconds), intervals [s].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocpp.v16 import call, call_result
from ocpp.v16.enums import RegistrationStatus

from gridchain.ocpp.messages.fields import iso_utc

# ---------------------------------------------------------------------------------------------- BootNotification


@dataclass(frozen=True)
class Boot:
    """A BootNotification.req: who made the charge point."""

    vendor: str
    model: str


def build_boot_notification(boot: Boot) -> call.BootNotification:
    """BootNotification.req."""
    return call.BootNotification(charge_point_model=boot.model, charge_point_vendor=boot.vendor)


def parse_boot_notification(charge_point_vendor: str, charge_point_model: str, **optional: Any) -> Boot:
    """The vendor and model (the optional fields, serial numbers and firmware, are not read)."""
    return Boot(charge_point_vendor, charge_point_model)


def build_boot_notification_result(accepted: bool, now: int, interval_s: int) -> call_result.BootNotification:
    """BootNotification.conf: `Accepted` or `Rejected`, the central system's time `now` [s] and the heartbeat
    interval [s]."""
    status = RegistrationStatus.accepted if accepted else RegistrationStatus.rejected
    return call_result.BootNotification(current_time=iso_utc(now), interval=interval_s, status=status)


def parse_boot_notification_result(result: call_result.BootNotification) -> tuple[str, int]:
    """(registration status, heartbeat interval [s])."""
    return result.status, result.interval


# ----------------------------------------------------------------------------------------------------- Heartbeat


def build_heartbeat() -> call.Heartbeat:
    """Heartbeat.req (it carries nothing)."""
    return call.Heartbeat()


def build_heartbeat_result(now: int) -> call_result.Heartbeat:
    """Heartbeat.conf: the central system's time `now` [s]."""
    return call_result.Heartbeat(current_time=iso_utc(now))


def parse_heartbeat_result(result: call_result.Heartbeat) -> str:
    """The central system's time, as sent (an OCPP dateTime)."""
    return result.current_time
