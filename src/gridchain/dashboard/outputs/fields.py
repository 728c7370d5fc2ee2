"""Typed access to a parsed JSON document by field path; a missing or ill-typed field is an `InputError`
naming the path (e.g. `series.greedy.loading_pct[3]`)."""

from __future__ import annotations

from typing import Any

from gridchain.errors import InputError

Path = tuple[str | int, ...]


def dotted(path: Path) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "(document)"


def at(doc: Any, *path: str | int) -> Any:
    """The value at `path`; a missing key is an error naming it."""
    value = doc
    for i, key in enumerate(path):
        if isinstance(key, int):
            if not isinstance(value, list) or not -len(value) <= key < len(value):
                raise InputError(dotted(path[: i + 1]), "missing")
        elif not isinstance(value, dict) or key not in value:
            raise InputError(dotted(path[: i + 1]), "missing")
        value = value[key]
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def mapping(doc: Any, *path: str | int) -> dict:
    value = at(doc, *path)
    if not isinstance(value, dict):
        raise InputError(dotted(path), f"is {_kind(value)}, not an object")
    return value


def number(doc: Any, *path: str | int, optional: bool = False) -> int | float | None:
    """A number (not a boolean); with `optional`, null passes as None."""
    value = at(doc, *path)
    if value is None and optional:
        return None
    if not is_number(value) or value != value:  # NaN is not a result
        raise InputError(dotted(path), f"is {_kind(value)}, not a number")
    return value


def numbers(doc: Any, *path: str | int, length: int | None = None, optional: bool = False) -> list:
    """A list of numbers (nulls allowed with `optional`), of `length` values if given."""
    value = at(doc, *path)
    if not isinstance(value, list):
        raise InputError(dotted(path), f"is {_kind(value)}, not a list")
    if length is not None and len(value) != length:
        raise InputError(dotted(path), f"has {len(value)} values, expected {length}")
    for i in range(len(value)):
        _element(value, i, path, optional)
    return value


def text(doc: Any, *path: str | int) -> str:
    value = at(doc, *path)
    if not isinstance(value, str):
        raise InputError(dotted(path), f"is {_kind(value)}, not a string")
    return value


def _element(values: list, i: int, path: Path, optional: bool) -> None:
    value = values[i]
    if (value is None and optional) or (is_number(value) and value == value):
        return
    raise InputError(dotted((*path, i)), f"is {_kind(value)}, not a number")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", str: "a string", list: "a list", dict: "an object", int: "a number"}
    return names.get(type(value), f"a {type(value).__name__}")
