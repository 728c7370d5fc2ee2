"""MeterValues (charge point -> central system), and the meter values a StopTransaction carries as transactionData.

Built by the charge point: `meter_value` (one MeterValue: the Energy.Active.Import.Register [Wh], the
Power.Active.Import [W], the register's SignedData and the EV's SoC [%], in one reading context) inside
`build_meter_values`. Parsed
by the central system: `parse_meter_values` turns MeterValue objects into `MeterSample`s, one per (timestamp,
reading context), reading each value at a bounded cost (`reading`): a decimal meter reading is converted only if
it has at most MAX_DECIMAL_CHARS characters and an exponent that keeps it at most MAX_READING.

Units: power [W], energy [Wh], time [s] (unix seconds), state of charge [per-mille] (`soc_pm`; OCPP sends %).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from ocpp.v16 import call, call_result, datatypes
from ocpp.v16.enums import Location, Measurand, ReadingContext, UnitOfMeasure, ValueFormat

from gridchain.errors import InputError
from gridchain.ocpp.anomalies import AnomalyKind
from gridchain.ocpp.frames import clip
from gridchain.ocpp.messages.fields import iso_utc, unix_s

MAX_DECIMAL_CHARS = 40  # a longer SampledValue.value is not a reading
MAX_READING = 10**15  # [Wh or W] the largest register, interval or power reading kept (a petawatt-hour)


@dataclass(frozen=True)
class MeterSample:
    """One sample of a transaction: what the meter read at `timestamp` [s] in one OCPP reading `context`
    (`Sample.Clock`, `Transaction.End`, ...; OCPP's default `Sample.Periodic`). Each reading is None if not sent:
    the Energy.Active.Import.Register [Wh] (the total, or the sum of phases L1..L3 when no total is sent), the
    Power.Active.Import [W] (likewise), the Energy.Active.Import.Interval [Wh] (energy of the interval ending at
    `timestamp`, not a register), the register's SignedData (the meter's signed reading), and the EV's state of
    charge (the SoC measurand, sent in %) [per-mille, 0..1000]."""

    timestamp: int
    register_wh: int | None
    power_w: int | None = None
    signed_data: str | None = None
    context: str = ReadingContext.sample_periodic.value
    interval_wh: int | None = None
    soc_pm: int | None = None


READINGS = (
    "register_wh",
    "power_w",
    "interval_wh",
    "signed_data",
    "soc_pm",
)  # the fields of a MeterSample that are readings

# --------------------------------------------------------------------------------------------- the charge point


def meter_value(
    timestamp: int,
    register_wh: int,
    power_w: int | None,
    context: str,
    signed_data: str | None = None,
    soc_pct: int | None = None,
) -> datatypes.MeterValue:
    """One MeterValue at `timestamp` [s] in reading `context`: the Energy.Active.Import.Register [Wh], the
    Power.Active.Import [W] unless None, the register's SignedData unless None, and the EV's SoC [%] (measured at
    the EV) unless None."""
    reading_context = ReadingContext(context)
    energy = Measurand.energy_active_import_register
    values = [
        datatypes.SampledValue(value=str(register_wh), context=reading_context, measurand=energy, unit=UnitOfMeasure.wh)
    ]
    if power_w is not None:
        values.append(
            datatypes.SampledValue(
                value=str(power_w),
                context=reading_context,
                measurand=Measurand.power_active_import,
                unit=UnitOfMeasure.w,
            )
        )
    if signed_data is not None:
        values.append(
            datatypes.SampledValue(
                value=signed_data,
                context=reading_context,
                format=ValueFormat.signed_data,
                measurand=energy,
                unit=UnitOfMeasure.wh,
            )
        )
    if soc_pct is not None:
        values.append(
            datatypes.SampledValue(
                value=str(soc_pct),
                context=reading_context,
                measurand=Measurand.soc,
                unit=UnitOfMeasure.percent,
                location=Location.ev,
            )
        )
    return datatypes.MeterValue(timestamp=iso_utc(timestamp), sampled_value=values)


def build_meter_values(
    connector_id: int, transaction_id: int | None, meter_values: list[datatypes.MeterValue]
) -> call.MeterValues:
    """MeterValues.req of a connector, for a transaction (None: outside one)."""
    return call.MeterValues(connector_id=connector_id, transaction_id=transaction_id, meter_value=meter_values)


# ------------------------------------------------------------------------------------------ the central system

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_REGISTER = Measurand.energy_active_import_register.value
_INTERVAL = Measurand.energy_active_import_interval.value
_POWER = Measurand.power_active_import.value
_SOC = Measurand.soc.value
_KEPT = {_REGISTER: ("register_wh", "Wh"), _INTERVAL: ("interval_wh", "Wh"), _POWER: ("power_w", "W")}
_SCALE = {"Wh": 1, "kWh": 1000, "W": 1, "kW": 1000, "Percent": 10}  # Percent: read as per-mille
SOC_PM_MAX = 1000  # a state of charge above 100 % is no reading
_EXACT = Context(prec=MAX_DECIMAL_CHARS + 8)  # every bounded value times 1000, without rounding
_PHASES = ("L1", "L2", "L3")
_SIGNED = ("signed_data", None)  # the slot of the register's SignedData

_Slot = tuple[str, str | None]  # (reading, phase): where a sampled value goes in its sample


def reading(value: str, unit: str) -> int:
    """A SampledValue's decimal `value` in `unit` (Wh, kWh, W or kW; Percent) as an integer number of Wh or W (a
    fraction of a Wh or W dropped; per-mille for Percent). The text is bounded before it is converted: at most
    MAX_DECIMAL_CHARS ASCII characters of a plain decimal (optional sign, digits, point, exponent; no spaces,
    underscores, NaN or Infinity), and an exponent that keeps it within 0..MAX_READING, so no value costs more than a
    few microseconds to read.
    InputError (field `value`) otherwise."""
    if len(value) > MAX_DECIMAL_CHARS:
        raise InputError("value", f"{clip(value)} is longer than {MAX_DECIMAL_CHARS} characters")
    if not _DECIMAL.fullmatch(value):
        raise InputError("value", f"{clip(value)} is not a decimal number")
    try:
        number = Decimal(value)
    except InvalidOperation:  # an exponent beyond what Decimal holds (more than 18 digits)
        raise InputError("value", f"{clip(value)} is above {MAX_READING} {unit}") from None
    if number.is_signed() and not number.is_zero():
        raise InputError("value", f"{clip(value)} is negative")
    scale = _SCALE[unit]
    if number.is_zero() or number.adjusted() < -3:  # below 0.001: floors to 0 in every unit
        return 0
    if number.adjusted() > 18:  # above MAX_READING in every unit; the multiplication below stays small
        raise InputError("value", f"{clip(value)} is above {MAX_READING} {unit}")
    amount = int(_EXACT.multiply(number, scale))  # exact (no rounding to 28 digits); truncation = floor for >= 0
    if amount > MAX_READING:
        raise InputError("value", f"{clip(value)} is above {MAX_READING} {unit}")
    return amount


@dataclass(frozen=True)
class ParsedMeterValues:
    """What a MeterValues (or StopTransaction's transactionData) carries: its samples, and the problems of the
    sampled values not kept, as (kind, "<field>: <reason>")."""

    samples: tuple[MeterSample, ...]
    problems: tuple[tuple[AnomalyKind, str], ...] = ()


def parse_meter_values(meter_value: object, where: str = "meterValue") -> ParsedMeterValues:
    """MeterSamples of OCPP MeterValue objects (snake_case, as the `ocpp` library passes them), one per
    (timestamp, reading context): the Energy.Active.Import.Register (Wh or kWh), Energy.Active.Import.Interval
    (Wh or kWh) and Power.Active.Import (W or kW) measured at the Outlet, each the phase-less total or, without
    one, the sum of phases L1..L3; the register's SignedData; and the EV's SoC (in Percent, wherever measured). OCPP's
    defaults apply to absent fields (context Sample.Periodic, measurand Energy.Active.Import.Register, format Raw,
    location Outlet, unit Wh, for power W).
    Other measurands, locations and phases are not read.

    A sampled value that is not a reading in range, has another unit, or contradicts an earlier one of the same
    sample in the message is a problem naming its field (`meterValue[0].sampledValue[1].value`), not an error: the
    caller decides (MeterValues refuses a value that is no reading, StopTransaction is never refused). InputError
    only for what the schema already demands: a list of objects with an ISO 8601 timestamp with a time zone."""
    if not isinstance(meter_value, list):
        raise InputError(where, f"expected a list, got {type(meter_value).__name__}")
    samples: list[MeterSample] = []
    problems: list[tuple[AnomalyKind, str]] = []
    for i, mv in enumerate(meter_value):
        samples.extend(_parse_meter_value(mv, f"{where}[{i}]", problems))
    return ParsedMeterValues(tuple(samples), tuple(problems))


def build_meter_values_result() -> call_result.MeterValues:
    """MeterValues.conf (it carries nothing)."""
    return call_result.MeterValues()


def _parse_meter_value(mv: object, at: str, problems: list[tuple[AnomalyKind, str]]) -> list[MeterSample]:
    """The samples of one MeterValue (at field `at`), one per reading context; its problems appended."""
    if not isinstance(mv, dict):
        raise InputError(at, f"expected an object, got {type(mv).__name__}")
    timestamp = unix_s(mv.get("timestamp"), f"{at}.timestamp")
    values = mv.get("sampled_value")
    if not isinstance(values, list):
        raise InputError(f"{at}.sampledValue", f"expected a list, got {type(values).__name__}")
    groups: dict[str, dict[_Slot, tuple[int | str, int]]] = {}  # context -> slot -> (value, j)
    for j, sv in enumerate(values):
        sat = f"{at}.sampledValue[{j}]"
        read = _read_sampled_value(sv, sat, problems)
        if read is None:
            continue
        slot, value = read
        bucket = groups.setdefault(sv.get("context", ReadingContext.sample_periodic.value), {})
        if slot in bucket and bucket[slot][0] != value:
            problems.append(
                (
                    AnomalyKind.CONFLICT,
                    f"{sat}.value: {clip(sv['value'])} contradicts "
                    f"{at}.sampledValue[{bucket[slot][1]}] of the same reading",
                )
            )
            continue
        bucket.setdefault(slot, (value, j))
    return [_sample(timestamp, context, bucket) for context, bucket in groups.items()]


def _read_sampled_value(
    sv: object, sat: str, problems: list[tuple[AnomalyKind, str]]
) -> tuple[_Slot, int | str] | None:
    """(slot, value) of a SampledValue (at field `sat`) that is read; None for one not read, or (a problem
    appended) that is no reading in its unit."""
    if not isinstance(sv, dict) or not isinstance(sv.get("value"), str):
        raise InputError(sat, "expected an object with a string value")
    measurand = sv.get("measurand", _REGISTER)
    phase = sv.get("phase")
    if measurand == _SOC:
        return _read_soc(sv, sat, problems)
    if measurand not in _KEPT or sv.get("location", "Outlet") != "Outlet" or phase not in (None, *_PHASES):
        return None
    name, default_unit = _KEPT[measurand]
    if sv.get("format", ValueFormat.raw) == ValueFormat.signed_data:
        if measurand != _REGISTER or phase is not None:
            return None
        return _SIGNED, sv["value"]
    unit = sv.get("unit", default_unit)
    if unit not in (default_unit, f"k{default_unit}"):
        problems.append(
            (AnomalyKind.BAD_VALUE, f"{sat}.unit: {clip(unit)} is not {default_unit} or k{default_unit} ({measurand})")
        )
        return None
    try:
        return (name, phase), reading(sv["value"], unit)
    except InputError as e:
        problems.append((AnomalyKind.BAD_VALUE, str(e.within(sat))))
        return None


def _read_soc(sv: dict, sat: str, problems: list[tuple[AnomalyKind, str]]) -> tuple[_Slot, int] | None:
    """The SoC measurand (OCPP: unit Percent, usually at location EV) as (slot, per-mille); a problem appended for
    one in another unit or above 100 %."""
    unit = sv.get("unit", "Percent")
    if unit != "Percent":
        problems.append((AnomalyKind.BAD_VALUE, f"{sat}.unit: {clip(unit)} is not Percent (SoC)"))
        return None
    try:
        soc_pm = reading(sv["value"], unit)
    except InputError as e:
        problems.append((AnomalyKind.BAD_VALUE, str(e.within(sat))))
        return None
    if soc_pm > SOC_PM_MAX:
        problems.append((AnomalyKind.BAD_VALUE, f"{sat}.value: {clip(sv['value'])} is above 100 % (SoC)"))
        return None
    return ("soc_pm", None), soc_pm


def _sample(timestamp: int, context: str, bucket: dict[_Slot, tuple[int | str, int]]) -> MeterSample:
    """The sample of one reading context: each reading its phase-less total, or else the sum of its phases."""
    readings: dict[str, Any] = {}
    if ("soc_pm", None) in bucket:
        readings["soc_pm"] = bucket[("soc_pm", None)][0]
    for name in ("register_wh", "power_w", "interval_wh"):
        if (name, None) in bucket:
            readings[name] = bucket[(name, None)][0]
        elif phases := [bucket[(name, p)][0] for p in _PHASES if (name, p) in bucket]:
            readings[name] = sum(phases)
    if _SIGNED in bucket:
        readings["signed_data"] = bucket[_SIGNED][0]
    return MeterSample(timestamp, readings.pop("register_wh", None), context=context, **readings)
