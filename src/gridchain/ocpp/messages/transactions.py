"""Authorize, StartTransaction and StopTransaction (charge point -> central system): an id tag's authorization and
a transaction's start and stop, with the central system's answers (IdTagInfo, the transaction id).

Units: energy [Wh], time [s] (unix seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocpp.v16 import call, call_result, datatypes
from ocpp.v16.enums import AuthorizationStatus, Reason

from gridchain.ocpp.messages.fields import check_id_tag, iso_utc, unix_s
from gridchain.ocpp.messages.meter_values import ParsedMeterValues, parse_meter_values


def id_tag_info(accepted: bool) -> datatypes.IdTagInfo:
    """IdTagInfo: `Accepted`, or `Invalid`."""
    return datatypes.IdTagInfo(status=AuthorizationStatus.accepted if accepted else AuthorizationStatus.invalid)


# ------------------------------------------------------------------------------------------------- Authorize


def build_authorize(id_tag: str) -> call.Authorize:
    """Authorize.req of an id tag (1..20 characters; InputError naming `id_tag` otherwise)."""
    return call.Authorize(id_tag=check_id_tag(id_tag))


def parse_authorize(id_tag: str, **optional: Any) -> str:
    """The id tag to authorize."""
    return id_tag


def build_authorize_result(accepted: bool) -> call_result.Authorize:
    """Authorize.conf: the tag is `Accepted` or `Invalid`."""
    return call_result.Authorize(id_tag_info=id_tag_info(accepted))


def parse_authorize_result(result: call_result.Authorize) -> bool:
    """May the tag charge (`Accepted`)?"""
    return result.id_tag_info["status"] == AuthorizationStatus.accepted


# ------------------------------------------------------------------------------------------ StartTransaction


@dataclass(frozen=True)
class TransactionStart:
    """A StartTransaction.req: the connector, the id tag, the register at the start [Wh] and the time [s]."""

    connector_id: int
    id_tag: str
    meter_start_wh: int
    timestamp: int


def build_start_transaction(start: TransactionStart) -> call.StartTransaction:
    """StartTransaction.req (the id tag 1..20 characters; InputError naming `id_tag` otherwise)."""
    return call.StartTransaction(
        connector_id=start.connector_id,
        id_tag=check_id_tag(start.id_tag),
        meter_start=start.meter_start_wh,
        timestamp=iso_utc(start.timestamp),
    )


def parse_start_transaction(
    connector_id: int, id_tag: str, meter_start: int, timestamp: str, **optional: Any
) -> TransactionStart:
    """The start; InputError naming `timestamp` if it is not a date-time with a time zone. The meter start is
    the central system's to check (an out-of-range one is answered all the same, OCPP 1.6 §4.8)."""
    return TransactionStart(connector_id, id_tag, meter_start, unix_s(timestamp, "timestamp"))


def build_start_transaction_result(transaction_id: int | None) -> call_result.StartTransaction:
    """StartTransaction.conf: the transaction id with `Accepted`, or, for None (nothing opened), 0 with `Invalid`
    (OCPP 1.6 always carries an id)."""
    if transaction_id is None:
        return call_result.StartTransaction(transaction_id=0, id_tag_info=id_tag_info(False))
    return call_result.StartTransaction(transaction_id=transaction_id, id_tag_info=id_tag_info(True))


def parse_start_transaction_result(result: call_result.StartTransaction) -> tuple[int, str]:
    """(transaction id, the tag's status): the transaction is open only if the status is `Accepted`."""
    return result.transaction_id, result.id_tag_info["status"]


# ------------------------------------------------------------------------------------------- StopTransaction


@dataclass(frozen=True)
class TransactionStop:
    """A StopTransaction.req: the transaction, the register at the stop [Wh], the time [s], the reason (`Local`
    when none is sent, OCPP 1.6 §4.10), the id tag if sent, and the readings sent as transactionData."""

    transaction_id: int
    meter_stop_wh: int
    timestamp: int
    reason: str
    id_tag: str | None = None
    transaction_data: ParsedMeterValues = ParsedMeterValues(())


def build_stop_transaction(
    transaction_id: int,
    meter_stop_wh: int,
    timestamp: int,
    reason: str,
    id_tag: str | None,
    transaction_data: list[datatypes.MeterValue],
) -> call.StopTransaction:
    """StopTransaction.req, with the readings of the transaction's end as transactionData (MeterValues built by
    `meter_values.meter_value`)."""
    return call.StopTransaction(
        meter_stop=meter_stop_wh,
        timestamp=iso_utc(timestamp),
        transaction_id=transaction_id,
        reason=Reason(reason),
        id_tag=id_tag,
        transaction_data=transaction_data,
    )


def parse_stop_transaction(
    meter_stop: int,
    timestamp: str,
    transaction_id: int,
    reason: str | None = None,
    id_tag: str | None = None,
    transaction_data: list | None = None,
    **optional: Any,
) -> TransactionStop:
    """The stop; InputError only for what the schema demands (a timestamp that is a date-time with a time zone,
    transactionData a list of MeterValue objects with such timestamps). Readings that are no readings are
    problems of `transaction_data`, not errors: a StopTransaction is never refused (OCPP 1.6 §4.10)."""
    stop = unix_s(timestamp, "timestamp")
    parsed = parse_meter_values(transaction_data or [], "transactionData")
    return TransactionStop(transaction_id, meter_stop, stop, reason or "Local", id_tag, parsed)


def build_stop_transaction_result(id_tag_accepted: bool | None) -> call_result.StopTransaction:
    """StopTransaction.conf: with the id tag's IdTagInfo if the request named one (None: it did not)."""
    if id_tag_accepted is None:
        return call_result.StopTransaction()
    return call_result.StopTransaction(id_tag_info=id_tag_info(id_tag_accepted))


def parse_stop_transaction_result(result: call_result.StopTransaction) -> str | None:
    """The id tag's status, None if the request named no tag."""
    return None if result.id_tag_info is None else result.id_tag_info["status"]
