"""The charge point's meter on a simulated clock: pure, no I/O, no clock of its own.

`ChargingMeter` is an integer Wh register that `advance(seconds)` integrates at power = min(EV maximum,
charging-profile limit) while a transaction is open, exactly (the energy below one Wh is kept as a remainder in
W*s, so nothing is lost to rounding), and the readings at each meter-interval boundary crossed (`Sample.Periodic`,
boundaries at transaction start + k * interval, as OCPP's MeterValueSampleInterval; or, with `clock_aligned`,
`Sample.Clock` at multiples of the interval on the clock, as ClockAlignedDataInterval: what interval billing needs).

Units: power [W], energy [Wh], time [s] (unix seconds of the simulated clock).
"""

from __future__ import annotations

from dataclasses import dataclass

from ocpp.v16.enums import ReadingContext

from gridchain.checks import check_min_int
from gridchain.errors import InputError
from gridchain.ocpp.messages.charging_profile import TX_DEFAULT_PROFILE, TX_PROFILE


@dataclass(frozen=True)
class Reading:
    """The meter at one moment: time [s], register [Wh], power [W] (None at a transaction's begin and end), and
    OCPP's ReadingContext (`Sample.Periodic`, `Transaction.Begin`, `Transaction.End`)."""

    timestamp: int
    register_wh: int
    power_w: int | None
    context: str


class ChargingMeter:
    """A charge point's meter on a simulated clock. Pure: no I/O; time moves only by `advance`.

    The register is an integer [Wh]; energy below one Wh is kept in `remainder_ws` [W*s] (0 <= it < 3600), so
    that register_wh * 3600 + remainder_ws grows by exactly the integral of power over time."""

    def __init__(
        self,
        start_time: int,
        ev_max_power_w: int,
        meter_interval_s: int,
        register_wh: int = 0,
        clock_aligned: bool = False,
    ) -> None:
        self.now = check_min_int("start_time", start_time, 0)
        self.ev_max_power_w = check_min_int("ev_max_power_w", ev_max_power_w, 0)
        self.meter_interval_s = check_min_int("meter_interval_s", meter_interval_s, 1)
        self.register_wh = check_min_int("register_wh", register_wh, 0)
        self.clock_aligned = bool(clock_aligned)
        self.remainder_ws = 0
        self.transaction_id: int | None = None
        self.transaction_start: int | None = None
        self.tx_limit_w: int | None = None  # TxProfile: this transaction only
        self.default_limit_w: int | None = None  # TxDefaultProfile: every transaction without a TxProfile

    @property
    def limit_w(self) -> int | None:
        """The charging-profile limit in force [W], None without one."""
        return self.tx_limit_w if self.tx_limit_w is not None else self.default_limit_w

    @property
    def power_w(self) -> int:
        """Power drawn now [W]: min(EV maximum, limit) during a transaction, else 0."""
        if self.transaction_id is None:
            return 0
        limit = self.limit_w
        return self.ev_max_power_w if limit is None else min(self.ev_max_power_w, limit)

    def set_limit(self, purpose: str, limit_w: int) -> None:
        """Obey a charging profile from now on (`TxProfile` or `TxDefaultProfile`)."""
        check_min_int("limit_w", limit_w, 0)
        if purpose == TX_PROFILE:
            if self.transaction_id is None:
                raise InputError("chargingProfilePurpose", "TxProfile without a transaction in progress")
            self.tx_limit_w = limit_w
        elif purpose == TX_DEFAULT_PROFILE:
            self.default_limit_w = limit_w
        else:
            raise InputError("chargingProfilePurpose", f"{purpose!r} is not TxProfile or TxDefaultProfile")

    def begin(self, transaction_id: int) -> Reading:
        """Open a transaction now; the reading at its begin."""
        if self.transaction_id is not None:
            raise RuntimeError(f"transaction {self.transaction_id} is still open")
        self.transaction_id = check_min_int("transaction_id", transaction_id, 1)
        self.transaction_start = self.now
        return Reading(self.now, self.register_wh, None, ReadingContext.transaction_begin.value)

    def end(self) -> Reading:
        """Close the transaction now (its TxProfile ends with it); the reading at its end."""
        if self.transaction_id is None:
            raise RuntimeError("no transaction is open")
        self.transaction_id = self.transaction_start = self.tx_limit_w = None
        return Reading(self.now, self.register_wh, None, ReadingContext.transaction_end.value)

    def _integrate(self, seconds: int) -> None:
        total_ws = self.remainder_ws + self.power_w * seconds
        self.register_wh += total_ws // 3600
        self.remainder_ws = total_ws % 3600

    def advance(self, seconds: int) -> list[Reading]:
        """Move the clock `seconds` [s] on, integrating power; the periodic readings at each boundary crossed (a
        boundary at the end of the step included), each with the register at that very moment."""
        check_min_int("seconds", seconds, 0)
        end = self.now + seconds
        readings = []
        while self.now < end:
            if self.transaction_id is None:
                self._integrate(end - self.now)
                self.now = end
                break
            origin = 0 if self.clock_aligned else self.transaction_start
            boundary = origin + ((self.now - origin) // self.meter_interval_s + 1) * self.meter_interval_s
            step_end = min(end, boundary)
            self._integrate(step_end - self.now)
            self.now = step_end
            if step_end == boundary:
                context = ReadingContext.sample_clock if self.clock_aligned else ReadingContext.sample_periodic
                readings.append(Reading(boundary, self.register_wh, self.power_w, context.value))
        return readings
