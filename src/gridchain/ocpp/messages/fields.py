"""The OCPP 1.6 field types that several messages share: dateTime and IdToken."""

from __future__ import annotations

from datetime import UTC, datetime

from gridchain.errors import InputError


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


def check_id_tag(id_tag: object) -> str:
    """An OCPP IdToken (CiString20Type): a string of 1..20 characters; InputError (field `id_tag`) otherwise."""
    if not isinstance(id_tag, str) or not 1 <= len(id_tag) <= 20:
        raise InputError("id_tag", f"{id_tag!r} is not a string of 1..20 characters (OCPP IdToken)")
    return id_tag
