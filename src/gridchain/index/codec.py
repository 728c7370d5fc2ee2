"""Event arguments as JSON and back: integers beyond JavaScript's 2**53 as decimal strings, bytes as "0x..." hex,
tuples and arrays as lists; `from_json` restores the decoded values exactly, from the event's ABI types."""

from __future__ import annotations

import json
from typing import Any

from gridchain.chain.compiler import Artifact

SAFE_INT = 2**53 - 1  # the largest integer a JSON reader in a browser keeps exactly


def to_json(args: dict[str, Any]) -> str:
    """An event's arguments as compact JSON (keys in the event's order)."""
    return json.dumps({k: _plain(v) for k, v in args.items()}, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if -SAFE_INT <= value <= SAFE_INT else str(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    raise TypeError(f"an event argument of type {type(value).__name__} has no JSON form")


def from_json(artifact: Artifact, name: str, text: str) -> dict[str, Any]:
    """The arguments of event `name` as the gateway decodes them (ints, bytes, tuples), from `to_json`'s text."""
    entry = next(e for e in artifact.abi if e.get("type") == "event" and e["name"] == name)
    stored = json.loads(text)
    return {i["name"]: _typed(i, stored[i["name"]]) for i in entry["inputs"]}


def _typed(abi: dict, value: Any) -> Any:
    kind = abi["type"]
    if kind.endswith("]"):  # an array of the element type
        element = {**abi, "type": kind[: kind.rindex("[")]}
        return tuple(_typed(element, v) for v in value)
    if kind == "tuple":
        return tuple(_typed(c, v) for c, v in zip(abi["components"], value))
    if kind.startswith(("uint", "int")):
        return int(value)
    if kind.startswith("bytes"):
        return bytes.fromhex(value[2:])
    return value  # address (checksummed), bool, string
