"""The transformer headroom as the utility's capacity source: a slot reads its quarter hour of its day's profile,
computed once per day (96 power flows); the `simbench` entry of the CLI's capacity registry on a real feeder."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from gridchain.config.file import Section
from gridchain.errors import InputError
from gridchain.grid.model.headroom import FeederHeadroom, day_of_year
from gridchain.grid.model.network import SIMBENCH_DAYS, STEPS_PER_DAY, two_bus_feeder


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def test_a_slot_reads_its_day_and_quarter_hour():
    source = FeederHeadroom(feeder=None)
    source.days[60] = np.arange(STEPS_PER_DAY) * 100  # a day already computed: a slot only reads it
    t = at("2026-03-02T17:20:00")  # day 60 (0 = 1 January), quarter hour 69
    assert day_of_year(t) == 60
    assert source.capacity_w(7, t) == 6_900
    assert source.capacity_w(8, at("2026-03-02T17:29:59")) == 6_900  # the same quarter hour
    assert source.capacity_w(9, at("2026-03-02T17:30:00")) == 7_000
    assert source.capacity_w(10, at("2026-03-02T00:00:00")) == 0
    assert day_of_year(at("2028-12-31T23:59:59")) == SIMBENCH_DAYS - 1  # a leap year's last day is there too


@pytest.mark.slow
def test_a_day_is_96_power_flows_of_the_rating_less_the_base_load():
    steps = np.arange(SIMBENCH_DAYS * STEPS_PER_DAY)
    feeder = two_bus_feeder(250_000, 1_000.0 * (steps % STEPS_PER_DAY))  # 0 .. 95 kW over each day
    source, flows = FeederHeadroom(feeder, reserve=1.0), []
    source.prepare(at("2026-01-01T12:00:00"), progress=lambda: flows.append(1))
    assert len(flows) == STEPS_PER_DAY and list(source.days) == [0]
    night, evening = source.capacity_w(0, at("2026-01-01T00:00:00")), source.capacity_w(1, at("2026-01-01T23:45:00"))
    assert night == 250_000  # 250 kVA and no load at all
    assert 150_000 < evening < 155_000  # 95 kW of base load at 23:45, and the transformer's losses
    assert len(flows) == STEPS_PER_DAY  # slots of a computed day run no power flow


@pytest.mark.slow
def test_the_simbench_source_from_the_registry():
    """The `simbench` factory the root CLI hands the utility: reads its keys, computes today's profile."""
    from gridchain.cli import CAPACITY_SOURCES

    section = Section("community.capacity", {"source": "simbench", "grid": "1-LV-rural1--0-sw", "reserve": 0.9}, None)
    section.str("source")
    source = CAPACITY_SOURCES["simbench"](section)
    section.done()
    (day,) = source.days
    profile = source.days[day]
    assert profile.shape == (STEPS_PER_DAY,) and 0 <= profile.min() < profile.max() < 2 * 160_000  # PV may feed in
    bad = Section("community.capacity", {"source": "simbench", "grid": "1-LV-nowhere"}, None)
    with pytest.raises(InputError, match="^community.capacity.grid: '1-LV-nowhere' is not one of 1-LV-rural1"):
        CAPACITY_SOURCES["simbench"](bad)
