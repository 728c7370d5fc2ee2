"""Field-naming checks: each returns the value it checked or raises InputError naming the field.

Kernel: imports only gridchain.errors.
"""

from __future__ import annotations

import json

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
