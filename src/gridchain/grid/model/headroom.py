"""A feeder's transformer headroom as the utility's capacity source: C - P_R for each slot of a real day.

A slot takes the headroom (`Feeder.capacities`, see network.py) of SimBench's profile step at the same day of
the year and quarter hour as the slot's start in UTC (SimBench's year is 2016). One power flow per quarter hour:
a day's 96 are computed once, when the day is first asked for (`prepare` at start), and a slot only reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from gridchain.grid.model.network import DEFAULT_RESERVE, SIMBENCH_DAYS, STEPS_PER_DAY, Feeder

STEP_S = 86_400 // STEPS_PER_DAY  # 900 s: SimBench's quarter hour


def day_of_year(unix_time: int) -> int:
    """0 for 1 January (UTC)."""
    return datetime.fromtimestamp(unix_time, UTC).timetuple().tm_yday - 1


@dataclass
class FeederHeadroom:
    """`capacity_w(slot, slot_start_utc)` from the day profiles of `feeder` [W], `reserve` as in network.py."""

    feeder: Feeder
    reserve: float = DEFAULT_RESERVE
    days: dict[int, np.ndarray] = field(default_factory=dict)  # day of year -> 96 capacities [W]

    def prepare(self, unix_time: int, progress: Callable[[], None] | None = None) -> np.ndarray:
        """The profile of `unix_time`'s day (computed now if it is new; `progress()` after each power flow)."""
        day = min(day_of_year(unix_time), SIMBENCH_DAYS - 1)
        if day not in self.days:
            steps = range(day * STEPS_PER_DAY, (day + 1) * STEPS_PER_DAY)
            self.days[day], _ = self.feeder.capacities(steps, self.reserve, progress)
        return self.days[day]

    def capacity_w(self, slot: int, slot_start_utc: int) -> int:
        profile = self.prepare(slot_start_utc)
        return int(profile[slot_start_utc % 86_400 // STEP_S])
