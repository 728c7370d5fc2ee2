"""Where the utility's C - P_R comes from: a capacity source answers one slot's capacity [W].

A source is anything with `capacity_w(slot, slot_start_utc) -> int`: coordination ships a constant and a CSV
schedule; other features add theirs through the CLI's registry (grid: a SimBench transformer's headroom), so
coordination never imports them. A source that has no value for a slot raises `NoCapacity`: the utility then
posts nothing for it and the capacity in force stays.

The CSV schedule is a step function of UTC time, one row per change:

    utc_time,capacity_w                 # optional header; `#` starts a comment
    2026-12-01T00:00:00Z,50000          # from this instant on (ISO 8601 with Z or an offset) [W]
    2026-12-01T17:00:00Z,20000

A slot takes the value of the last row at or before its start; rows must be in increasing time.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from gridchain.errors import InputError

MAX_CAPACITY_W = 2**64 - 1  # the contract's bound


class CapacitySource(Protocol):
    def capacity_w(self, slot: int, slot_start_utc: int) -> int:
        """The capacity C - P_R [W] of `slot`, which starts at unix time `slot_start_utc` [s]."""
        ...


class NoCapacity(LookupError):
    """The source has no value for this slot (e.g. before a schedule's first row)."""


@dataclass(frozen=True)
class ConstantCapacity:
    """The same capacity in every slot."""

    value_w: int

    def capacity_w(self, slot: int, slot_start_utc: int) -> int:
        return self.value_w


@dataclass(frozen=True)
class ScheduleCapacity:
    """A step schedule: from `times[i]` (unix time [s]) on, `values_w[i]` [W]; times strictly increasing."""

    times: tuple[int, ...]
    values_w: tuple[int, ...]

    def capacity_w(self, slot: int, slot_start_utc: int) -> int:
        i = bisect.bisect_right(self.times, slot_start_utc) - 1
        if i < 0:
            raise NoCapacity(f"the schedule starts after slot {slot} (unix time {slot_start_utc})")
        return self.values_w[i]


def read_schedule(field: str, path: Path) -> ScheduleCapacity:
    """A CSV schedule (see the module doc), every row checked; an error names `field` and `file:line`."""
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise InputError(field, f"cannot read {str(path)!r}: {e.strerror or e}") from None
    times: list[int] = []
    values: list[int] = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text or (not times and text.replace(" ", "") == "utc_time,capacity_w"):
            continue
        where = f"{field} ({path.name}:{number})"
        t, v = _row(where, text)
        if times and t <= times[-1]:
            raise InputError(where, f"{text.split(',')[0].strip()} is not after the row before")
        times.append(t)
        values.append(v)
    if not times:
        raise InputError(field, f"{str(path)!r} has no rows (utc_time,capacity_w)")
    return ScheduleCapacity(tuple(times), tuple(values))


def _row(where: str, text: str) -> tuple[int, int]:
    cells = [c.strip() for c in text.split(",")]
    if len(cells) != 2:
        raise InputError(where, f"{text!r} is not utc_time,capacity_w")
    try:
        when = datetime.fromisoformat(cells[0].replace("Z", "+00:00"))
    except ValueError:
        raise InputError(where, f"{cells[0]!r} is not an ISO 8601 time (e.g. 2026-12-01T17:00:00Z)") from None
    if when.tzinfo is None:
        raise InputError(where, f"{cells[0]!r} has no time zone (end it with Z for UTC)")
    if not cells[1].isdigit() or int(cells[1]) > MAX_CAPACITY_W:
        raise InputError(where, f"{cells[1]!r} is not a capacity in 0..2**64-1 W")
    return int(when.timestamp()), int(cells[1])
