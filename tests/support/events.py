"""A contract's events from the last call, decoded once: as boa gives them (`logs`) or as plain values to compare
with a twin's (`event_args`, `events`)."""

from __future__ import annotations


def logs(contract, name: str) -> list[dict]:
    """The last call's `name` events of `contract`, as boa decodes them (with the emitting `address`)."""
    return [e._asdict() for e in contract.get_logs() if type(e).__name__ == name]


def event_args(contract, name: str) -> list[dict]:
    """The last call's `name` events as dicts without the address, addresses in lower case."""
    return events(contract, (name,))[name]


def events(contract, names) -> dict[str, list[dict]]:
    """The last call's events of each of `names`, as `event_args` gives them, the logs decoded once."""
    out: dict[str, list[dict]] = {name: [] for name in names}
    for e in contract.get_logs():
        name = type(e).__name__
        if name in out:
            args = e._asdict()
            args.pop("address")
            out[name].append({k: _plain(v) for k, v in args.items()})
    return out


def _plain(value):
    return str(value).lower() if type(value).__name__ == "Address" else value
