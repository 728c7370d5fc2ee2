"""DataTransfer (charge point -> central system, OCPP 1.6 §4.3): vendor-specific data, and the central system's
status (`Accepted`, `Rejected`, `UnknownVendorId`, `UnknownMessageId`) with its own data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocpp.v16 import call, call_result


@dataclass(frozen=True)
class VendorData:
    """A DataTransfer.req: the vendor, its message id and its data (both optional)."""

    vendor_id: str
    message_id: str | None = None
    data: str | None = None


def build_data_transfer(request: VendorData) -> call.DataTransfer:
    """DataTransfer.req."""
    return call.DataTransfer(vendor_id=request.vendor_id, message_id=request.message_id, data=request.data)


def parse_data_transfer(
    vendor_id: str, message_id: str | None = None, data: str | None = None, **optional: Any
) -> VendorData:
    """The vendor, message id and data."""
    return VendorData(vendor_id, message_id, data)


def build_data_transfer_result(status: str, data: str | None = None) -> call_result.DataTransfer:
    """DataTransfer.conf: the status and, if any, data."""
    return call_result.DataTransfer(status=status, data=data)


def parse_data_transfer_result(result: call_result.DataTransfer) -> tuple[str, str | None]:
    """(status, data)."""
    return result.status, result.data
