"""Parse untrusted JSON text into Slots, naming the place of the first bad value (`[2].requests[3].soc_pm`).

Pure: takes a string, returns domain objects or raises InputError; nothing is half built.
"""

from __future__ import annotations

import json
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from gridchain.coordination.model.request import DEFAULT_BETA1_PM, ChargingRequest, Slot
from gridchain.coordination.model.table import SlotTable
from gridchain.errors import InputError

_SLOT_REQUIRED = ("capacity_w", "requests")
_SLOT_OPTIONAL = ("beta1_pm",)
_REQUEST_REQUIRED = ("id", "demand_w", "soc_pm", "tcc")
_REQUEST_OPTIONAL = ("arrival", "remaining_w")
_FAST_KEYS = {*_REQUEST_REQUIRED, "arrival"}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def load_json(text: str, source: str = "input") -> Any:
    """Strict JSON: no NaN/Infinity, no duplicate keys. Errors name `source`, line and column."""
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as e:
        raise InputError(source, f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except ValueError as e:
        raise InputError(source, f"malformed JSON: {e}") from None


def _fields(obj: object, where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise InputError(where, f"expected an object, got {type(obj).__name__}")
    for key in obj:
        if key not in required and key not in optional:
            allowed = ", ".join(required + optional)
            raise InputError(f"{where}.{key}" if where else key, f"unknown field (allowed: {allowed})")
    for key in required:
        if key not in obj:
            raise InputError(f"{where}.{key}" if where else key, "missing")
    return obj


def parse_request(obj: object, index: int) -> ChargingRequest:
    """One request; `arrival` defaults to `index`, its position in the slot's list."""
    where = f"requests[{index}]"
    fields = _fields(obj, where, _REQUEST_REQUIRED, _REQUEST_OPTIONAL)
    if "remaining_w" in fields and fields["remaining_w"] is None:
        raise InputError(f"{where}.remaining_w", "null is not an integer")
    try:
        return ChargingRequest(
            id=fields["id"],
            demand_w=fields["demand_w"],
            soc_pm=fields["soc_pm"],
            tcc=fields["tcc"],
            arrival=fields.get("arrival", index),
            remaining_w=fields.get("remaining_w"),
        )
    except InputError as e:
        raise e.within(where) from None


def parse_slot(obj: object) -> Slot:
    fields = _fields(obj, "", _SLOT_REQUIRED, _SLOT_OPTIONAL)
    raw_requests = fields["requests"]
    if not isinstance(raw_requests, list):
        raise InputError("requests", f"expected an array, got {type(raw_requests).__name__}")
    requests = tuple(parse_request(r, i) for i, r in enumerate(raw_requests))
    return Slot(
        capacity_w=fields["capacity_w"],
        requests=requests,
        beta1_pm=fields.get("beta1_pm", DEFAULT_BETA1_PM),
    )


def parse_slots(obj: object) -> tuple[list[Slot], bool]:
    """One slot object or an array of them. Returns the slots and whether the input was an array."""
    if isinstance(obj, list):
        slots = []
        for i, item in enumerate(obj):
            try:
                slots.append(parse_slot(item))
            except InputError as e:
                raise e.within(f"[{i}]") from None
        return slots, True
    return [parse_slot(obj)], False


def load_tables(text: str, source: str = "input") -> tuple[list[SlotTable], bool]:
    """`parse_tables(load_json(text, source))`, the same tables and errors, with the duplicate-key check paid only
    when a duplicate may exist. The text is parsed without the check (C only); when the fast path accepts it, every
    value under a key is a number, a string or the requests' array, so the parsed objects hold `keys` keys in all;
    the text's objects hold at least that many, one more per duplicate, and each is followed by a colon. So if the
    text has no more colons than `keys`, it has no duplicate and the tables are `load_json`'s. Anything else
    (a colon in a string, an error, an input the fast path leaves) goes the strict way."""
    try:
        tables, is_array, keys = _fast_tables(json.loads(text, parse_constant=_reject_constant))
    except (InputError, KeyError, TypeError, ValueError):
        return parse_tables(load_json(text, source))
    if text.count(":") > keys:
        return parse_tables(load_json(text, source))
    return tables, is_array


def parse_tables(obj: object) -> tuple[list[SlotTable], bool]:
    """As `parse_slots`, as columns, with the same errors: C-level checks over whole columns, and on anything
    they do not accept (a bad value, `remaining_w`, a missing key) `parse_slots` decides and names the field."""
    try:
        tables, is_array, _ = _fast_tables(obj)
    except (InputError, KeyError, TypeError, ValueError):
        slots, is_array = parse_slots(obj)  # raises the error naming the field and value
        tables = [SlotTable.of(slot) for slot in slots]
    return tables, is_array


def _fast_tables(obj: object) -> tuple[list[SlotTable], bool, int]:
    """The tables, whether `obj` is an array, and the number of keys in all its objects."""
    items, is_array = (obj, True) if isinstance(obj, list) else ([obj], False)
    tables, keys = [], 0
    for item in items:
        fields = _fields(item, "", _SLOT_REQUIRED, _SLOT_OPTIONAL)
        requests = fields["requests"]
        if type(requests) is not list or (requests and set(map(type, requests)) != {dict}):
            raise TypeError("not an array of objects")
        column = [list(map(itemgetter(key), requests)) for key in _REQUEST_REQUIRED]  # KeyError: one is missing
        sizes = set(map(len, requests))
        keys += len(fields) + (max(sizes) * len(requests) if len(sizes) == 1 else sum(map(len, requests)))
        if sizes <= {len(_REQUEST_REQUIRED)}:  # exactly the required fields
            arrival = None
        elif sizes == {len(_REQUEST_REQUIRED) + 1}:  # and one more, which must be arrival
            arrival = list(map(itemgetter("arrival"), requests))
        else:
            if not set(chain.from_iterable(requests)) <= _FAST_KEYS:
                raise KeyError("a field the fast path leaves to parse_slots")
            arrival = list(map(dict.get, requests, repeat("arrival"), range(len(requests))))
        tables.append(
            SlotTable(
                fields["capacity_w"],
                *column,
                arrival=arrival,
                beta1_pm=fields.get("beta1_pm", DEFAULT_BETA1_PM),
            )
        )
    return tables, is_array, keys
