"""SetChargingProfile (central system -> charge point): a coordinator's allocation [W] as an OCPP 1.6 charging
profile, and the charge point's decision on a profile it receives.

Built by the central system: `charging_profile` (TxProfile for a transaction, TxDefaultProfile without one, kind
Relative, unit W, one period from 0, no duration: it holds until replaced or the transaction ends) inside
`build_set_charging_profile`. Parsed by the charge point: `parse_charging_profile` accepts what the simulator can
obey exactly and names the OCPP field of anything else; its answer is `build_set_charging_profile_result`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR

from ocpp.v16 import call, call_result, datatypes
from ocpp.v16.enums import ChargingProfileKindType, ChargingRateUnitType

from gridchain.checks import check_min_int, check_number
from gridchain.errors import InputError

TX_PROFILE = "TxProfile"
TX_DEFAULT_PROFILE = "TxDefaultProfile"
_PROFILE = "csChargingProfiles"
_SCHEDULE = f"{_PROFILE}.chargingSchedule"
_PERIOD = f"{_SCHEDULE}.chargingSchedulePeriod[0]"
_UNSUPPORTED = "not supported: the limit holds until replaced or the transaction ends"

# ------------------------------------------------------------------------------------------ the central system


def charging_profile(
    limit_w: int, *, profile_id: int, transaction_id: int | None = None, stack_level: int = 0
) -> datatypes.ChargingProfile:
    """A coordinator's allocation [W] as an OCPP 1.6 charging profile: TxProfile for `transaction_id` (or
    TxDefaultProfile without one), kind Relative, unit W, one period from 0 with `limit_w`, no duration (it holds
    until replaced or the transaction ends)."""
    check_min_int("limit_w", limit_w, 0)
    check_min_int("profile_id", profile_id, 1)
    if transaction_id is not None:
        check_min_int("transaction_id", transaction_id, 1)
    return datatypes.ChargingProfile(
        charging_profile_id=profile_id,
        stack_level=check_min_int("stack_level", stack_level, 0),
        charging_profile_purpose=TX_PROFILE if transaction_id is not None else TX_DEFAULT_PROFILE,
        charging_profile_kind=ChargingProfileKindType.relative,
        charging_schedule=datatypes.ChargingSchedule(
            charging_rate_unit=ChargingRateUnitType.watts,
            charging_schedule_period=[datatypes.ChargingSchedulePeriod(start_period=0, limit=limit_w)],
        ),
        transaction_id=transaction_id,
    )


def build_set_charging_profile(connector_id: int, profile: datatypes.ChargingProfile | dict) -> call.SetChargingProfile:
    """SetChargingProfile.req of `profile` (a ChargingProfile, or any camelCase dict as on the wire) for a
    connector (0: every connector)."""
    return call.SetChargingProfile(connector_id=connector_id, cs_charging_profiles=profile)


def parse_set_charging_profile_result(result: call_result.SetChargingProfile) -> str:
    """The charge point's status: `Accepted`, `Rejected` or `NotSupported`."""
    return str(result.status)


# --------------------------------------------------------------------------------------------- the charge point


@dataclass(frozen=True)
class ProfileLimit:
    """An accepted charging profile reduced to what the simulator obeys: its purpose and one limit [W]."""

    purpose: str
    limit_w: int
    charging_profile_id: int
    transaction_id: int | None


def parse_charging_profile(
    connector_id: object,
    profile: object,
    *,
    own_connector_id: int,
    transaction_id: int | None,
    voltage_v: int = 230,
    phases: int = 3,
) -> ProfileLimit:
    """Decide a SetChargingProfile.req (its snake_case payload as the `ocpp` library hands it over) for a charge
    point with one connector `own_connector_id` and the open transaction `transaction_id` (None: none).

    Accepted: purpose TxProfile (on the connector, for the open transaction) or TxDefaultProfile (connector 0 or
    ours), kind Absolute or Relative, exactly one schedule period starting at 0, unit W, or A converted as
    floor(A * voltage_v * phases) [W] (phases = the period's numberPhases, default `phases`). Anything else,
    including what the simulator cannot obey (several periods, a duration, validity dates, recurring profiles,
    ChargePointMaxProfile), raises InputError naming the OCPP field, which the handler answers with Rejected."""
    purpose = _purpose(connector_id, profile, own_connector_id)
    _check_transaction(purpose, profile.get("transaction_id"), transaction_id)
    profile_id = _check_kind_and_id(profile)
    limit_w = _schedule_limit_w(profile.get("charging_schedule"), voltage_v, phases)
    return ProfileLimit(purpose, limit_w, profile_id, transaction_id if purpose == TX_PROFILE else None)


def build_set_charging_profile_result(status: str) -> call_result.SetChargingProfile:
    """SetChargingProfile.conf with the charge point's status (`Accepted`, `Rejected`, `NotSupported`)."""
    return call_result.SetChargingProfile(status=status)


def _purpose(connector_id: object, profile: object, own_connector_id: int) -> str:
    """The profile's purpose, on a connector it may address."""
    if not isinstance(profile, dict):
        raise InputError(_PROFILE, f"expected an object, got {type(profile).__name__}")
    purpose = profile.get("charging_profile_purpose")
    if purpose not in (TX_PROFILE, TX_DEFAULT_PROFILE):
        raise InputError(
            f"{_PROFILE}.chargingProfilePurpose", f"{purpose!r} is not supported (TxProfile, TxDefaultProfile)"
        )
    if isinstance(connector_id, bool) or not isinstance(connector_id, int):
        raise InputError("connectorId", f"expected an integer, got {type(connector_id).__name__}")
    allowed_connectors = (own_connector_id,) if purpose == TX_PROFILE else (0, own_connector_id)
    if connector_id not in allowed_connectors:
        raise InputError("connectorId", f"{connector_id} is not one of {allowed_connectors} for a {purpose}")
    return purpose


def _check_transaction(purpose: str, profile_tx: object, transaction_id: int | None) -> None:
    """A TxProfile is for the transaction in progress; only a TxProfile names one."""
    if purpose == TX_PROFILE:
        if transaction_id is None:
            raise InputError(f"{_PROFILE}.chargingProfilePurpose", "TxProfile without a transaction in progress")
        if profile_tx is not None and profile_tx != transaction_id:
            raise InputError(
                f"{_PROFILE}.transactionId", f"{profile_tx!r} is not the transaction in progress ({transaction_id})"
            )
    elif profile_tx is not None:
        raise InputError(f"{_PROFILE}.transactionId", "only a TxProfile names a transaction")


def _check_kind_and_id(profile: dict) -> int:
    """The profile's id, if its kind is one the simulator obeys (no recurrence, no validity dates)."""
    kind = profile.get("charging_profile_kind")
    if kind not in ("Absolute", "Relative"):
        raise InputError(f"{_PROFILE}.chargingProfileKind", f"{kind!r} is not supported (Absolute, Relative)")
    for key, name in (("valid_from", "validFrom"), ("valid_to", "validTo"), ("recurrency_kind", "recurrencyKind")):
        if profile.get(key) is not None:
            raise InputError(f"{_PROFILE}.{name}", _UNSUPPORTED)
    profile_id = profile.get("charging_profile_id")
    if isinstance(profile_id, bool) or not isinstance(profile_id, int):
        raise InputError(f"{_PROFILE}.chargingProfileId", f"expected an integer, got {type(profile_id).__name__}")
    return profile_id


def _schedule_limit_w(schedule: object, voltage_v: int, phases: int) -> int:
    """The limit [W] of a schedule without a duration, in W or A, with exactly one period."""
    if not isinstance(schedule, dict):
        raise InputError(_SCHEDULE, f"expected an object, got {type(schedule).__name__}")
    if schedule.get("duration") is not None:
        raise InputError(f"{_SCHEDULE}.duration", _UNSUPPORTED)
    unit = schedule.get("charging_rate_unit")
    if unit not in ("W", "A"):
        raise InputError(f"{_SCHEDULE}.chargingRateUnit", f"{unit!r} is not W or A")
    periods = schedule.get("charging_schedule_period")
    if not isinstance(periods, list) or len(periods) != 1:
        count = len(periods) if isinstance(periods, list) else type(periods).__name__
        raise InputError(f"{_SCHEDULE}.chargingSchedulePeriod", f"exactly one period is supported, got {count}")
    return _period_limit_w(periods[0], unit, voltage_v, phases)


def _period_limit_w(period: object, unit: str, voltage_v: int, phases: int) -> int:
    """The limit [W] of the one period, starting at 0: floor(limit) in W, floor(limit * voltage * phases) in A."""
    if not isinstance(period, dict):
        raise InputError(_PERIOD, f"expected an object, got {type(period).__name__}")
    if period.get("start_period") != 0:
        raise InputError(f"{_PERIOD}.startPeriod", f"{period.get('start_period')!r} is not 0")
    limit = check_number(f"{_PERIOD}.limit", period.get("limit"))
    if limit < 0:
        raise InputError(f"{_PERIOD}.limit", f"{limit} is negative")
    if unit == "A":
        number_phases = period.get("number_phases", phases)
        if number_phases is None:
            number_phases = phases
        if number_phases not in (1, 2, 3):
            raise InputError(f"{_PERIOD}.numberPhases", f"{number_phases!r} is not 1, 2 or 3")
        limit = limit * voltage_v * number_phases
    return int(limit.to_integral_value(rounding=ROUND_FLOOR))
