"""The charge point's integer meter (gridchain.ocpp.meter), a pure function of simulated time: exact integration,
readings at the meter-interval boundaries."""

from __future__ import annotations

from fractions import Fraction

from gridchain.ocpp.meter import ChargingMeter

START = 1_700_000_100  # [s] simulated clock at the start of each test


def test_meter_integrates_exactly_and_reads_at_boundaries():
    meter = ChargingMeter(START, 7_399, 900, register_wh=12)
    assert meter.advance(5_000) == [] and meter.register_wh == 12  # no transaction, no power
    meter.begin(5)
    exact = Fraction(12)
    readings = []
    for step, limit in [(7, None), (893, 3_701), (1, None), (2_000, 10), (1_799, 0), (3_600, 4_444)]:
        if limit is not None:
            meter.set_limit("TxProfile", limit)
        exact += Fraction(meter.power_w * step, 3_600)
        readings += meter.advance(step)
        assert meter.register_wh == int(exact)  # floor: the remainder is kept, never lost
        assert meter.register_wh * 3_600 + meter.remainder_ws == exact * 3_600
    assert [r.timestamp - START - 5_000 for r in readings] == [900 * k for k in range(1, 10)]
    assert all(r.context == "Sample.Periodic" for r in readings)
    assert meter.end().register_wh == meter.register_wh and meter.power_w == 0 and meter.limit_w is None
