"""Field-naming checks: each returns the value it checked or raises InputError naming the field.

Kernel: imports only gridchain.errors (and eth_utils for addresses).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation

from gridchain.errors import InputError

ID_MAX_LEN = 64


def show(value: object) -> str:
    """A value as the user wrote it in JSON (`true`, `"x"`, `1.5`), or its repr if it is not JSON."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def check_min_int(field: str, value: object, minimum: int) -> int:
    """Return `value` if it is an int (not a bool) >= minimum, else raise InputError naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(field, f"expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise InputError(field, f"{value} is below {minimum}")
    return value


def check_int(field: str, value: object, lo: int, hi: int) -> int:
    """Return `value` if it is an int (not a bool) in lo..hi, else raise InputError naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(field, f"{show(value)} is not an integer")
    if not lo <= value <= hi:
        raise InputError(field, f"{value} is outside {lo}..{hi}")
    return value


def check_id(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise InputError(field, f"{show(value)} is not a string")
    if not 1 <= len(value) <= ID_MAX_LEN:
        raise InputError(field, f"{show(value)} must have 1..{ID_MAX_LEN} characters")
    return value


def check_seconds(field: str, value: object) -> float:
    """A positive, finite number of seconds (an int or a float, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise InputError(field, f"{value!r} is not a positive number of seconds")
    return value


def check_seconds_within(field: str, value: object, most: float) -> float:
    """A number of seconds in 0..most (0: do not wait)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= most:
        raise InputError(field, f"{value!r} is outside 0..{most:g} seconds")
    return value


def check_number(field: str, value: object) -> Decimal:
    """A finite number (an int, float or Decimal, not a bool) as an exact Decimal."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InputError(field, f"expected a number, got {type(value).__name__}")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise InputError(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise InputError(field, f"{value!r} is not a finite number")
    return number


def parse_decimal_int(field: str, value: object, lo: int, hi: int) -> int:
    """An integer in lo..hi, given as an int or as its decimal digits (as a URL carries it)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= len(str(hi)):
        value = int(value)
    if isinstance(value, str):
        raise InputError(field, f"{value[:40]!r} is not a decimal integer")
    return check_int(field, value, lo, hi)


def parse_hex_int(field: str, value: object) -> int:
    """A non-negative integer written as a 0x-prefixed hex string."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InputError(field, f"{value!r} is not a 0x-prefixed hex integer")
    try:
        return int(value, 16)
    except ValueError:
        raise InputError(field, f"{value!r} is not a 0x-prefixed hex integer") from None


def parse_hex_bytes(field: str, value: object, length: int, *, require_prefix: bool = True) -> bytes:
    """Exactly `length` bytes written in hex, 0x-prefixed (or, with require_prefix=False, optionally so)."""
    if require_prefix and (not isinstance(value, str) or not value.startswith("0x")):
        raise InputError(field, f"must be a 0x-prefixed hex string of {length} bytes")
    text = str(value)
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise InputError(field, f"{text[:20]!r} is not hex") from None
    if len(raw) != length:
        raise InputError(field, f"expected {length} bytes, got {len(raw)}")
    return raw


def parse_address(field: str, value: object) -> str:
    """An Ethereum address (any case, checksum verified if mixed), returned checksummed."""
    from eth_utils import to_checksum_address  # here: eth_utils takes a tenth of a second to import

    try:
        return to_checksum_address(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise InputError(field, f"{value!r} is not an address") from None
