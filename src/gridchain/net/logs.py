"""The daemons' logs: one JSON object per line and per event (a close, a flush, a request relayed, a loop's
error), with the unix time, the service and the event's name first, so that `jq` or a log shipper reads them.

A daemon keeps the stream it has always logged on (the keeper and the utility on stdout, after their banner;
the relayer on stderr) and its lines keep their keys: tests and operators' scripts read them.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

_write_lock = threading.Lock()  # a line from a loop thread and one from a request thread never interleave


def log_line(entry: dict, stream: TextIO | None = None) -> None:
    """Write `entry` as one JSON line on `stream` (stderr if None, looked up at each call) and flush it."""
    out = stream if stream is not None else sys.stderr
    text = json.dumps(entry, default=str) + "\n"
    with _write_lock:
        out.write(text)
        out.flush()


RESERVED = ("time", "service", "event")  # the keys every line starts with; a field of the same name is dropped


def log_event(event: str, *, service: str = "", stream: TextIO | None = None, **fields: object) -> dict:
    """Log one event: {"time": unix seconds (ms precision), "service", "event", **fields}; the entry."""
    return emit(service, event, fields, stream)


def emit(service: str, event: str, fields: dict, stream: TextIO | None = None) -> dict:
    """`log_event` with the fields as a dict (any keys); the entry written."""
    entry = {"time": round(time.time(), 3), "service": service, "event": event}
    entry |= {k: v for k, v in fields.items() if k not in RESERVED}
    log_line(entry, stream)
    return entry


class EventLog:
    """A service's logger: `log("closed", slot=3)` writes one line with its service name, on its stream
    (`"stdout"` or `"stderr"`, looked up at each call so that a redirected sys.stdout is followed)."""

    def __init__(self, service: str, stream: str = "stderr") -> None:
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"stream must be stdout or stderr, not {stream!r}")
        self.service, self.stream = service, stream

    def __call__(self, event: str, **fields: object) -> dict:
        return emit(self.service, event, fields, getattr(sys, self.stream))

    def entry(self, key: str = "event") -> Callable[[dict], None]:
        """A `log(dict)` callback for the parties that hand over whole entries: `entry[key]` names the event
        (the utility's duty calls it `action`), and the entry keeps every key it has."""

        def log(entry: dict) -> None:
            emit(self.service, str(entry.get(key, "")), entry, getattr(sys, self.stream))

        return log
