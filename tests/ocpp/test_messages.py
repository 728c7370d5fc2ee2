"""Each OCPP 1.6 message round trip: built by one side (gridchain.ocpp.messages), serialised as an OCPP-J frame,
read by the other side as it reads frames (the central system with gridchain.ocpp.frames and the 1.6 schema, the
charge point with the `ocpp` library's unpack and the same schema), parsed by the message's parser: the values
that come out are the values that went in. Hypothesis draws the values where they vary (charging profiles, meter
values, transactions); the results (the `.conf`s) go back the same way. The charging-profile rules (what the
simulator accepts) are tested beside them as a pure function."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ocpp.messages import Call, CallResult, unpack
from ocpp.v16 import call_result
from ocpp.v16.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    DataTransferStatus,
    ReadingContext,
    Reason,
)

from gridchain.errors import InputError
from gridchain.ocpp.frames import check_payload, from_wire, parse_frame, serialise_call, serialise_result
from gridchain.ocpp.messages.charging_profile import (
    TX_DEFAULT_PROFILE,
    TX_PROFILE,
    ProfileLimit,
    build_set_charging_profile,
    build_set_charging_profile_result,
    charging_profile,
    parse_charging_profile,
    parse_set_charging_profile_result,
)
from gridchain.ocpp.messages.data_transfer import (
    VendorData,
    build_data_transfer,
    build_data_transfer_result,
    parse_data_transfer,
    parse_data_transfer_result,
)
from gridchain.ocpp.messages.fields import unix_s
from gridchain.ocpp.messages.meter_values import (
    MAX_READING,
    MeterSample,
    ParsedMeterValues,
    build_meter_values,
    build_meter_values_result,
    meter_value,
    parse_meter_values,
)
from gridchain.ocpp.messages.registration import (
    Boot,
    build_boot_notification,
    build_boot_notification_result,
    build_heartbeat,
    build_heartbeat_result,
    parse_boot_notification,
    parse_boot_notification_result,
    parse_heartbeat_result,
)
from gridchain.ocpp.messages.status import (
    ConnectorStatus,
    build_status_notification,
    build_status_notification_result,
    parse_status_notification,
)
from gridchain.ocpp.messages.transactions import (
    TransactionStart,
    TransactionStop,
    build_authorize,
    build_authorize_result,
    build_start_transaction,
    build_start_transaction_result,
    build_stop_transaction,
    build_stop_transaction_result,
    parse_authorize,
    parse_authorize_result,
    parse_start_transaction,
    parse_start_transaction_result,
    parse_stop_transaction,
    parse_stop_transaction_result,
)

MESSAGE_ID = "19223201"


def at_central_system(request) -> dict:
    """A charge point's request as the central system receives it: a CALL frame read by `parse_frame`, its payload
    checked against the 1.6 schema, as snake_case keywords (what a handler gets)."""
    msg = parse_frame(serialise_call(MESSAGE_ID, request))
    assert isinstance(msg, Call) and (msg.unique_id, msg.action) == (MESSAGE_ID, type(request).__name__)
    check_payload(msg.action, msg.payload)
    return from_wire(msg.payload)


def at_charge_point(request) -> dict:
    """The central system's request as the charge point receives it: a CALL frame read by the `ocpp` library's
    unpack, its payload checked against the 1.6 schema, as snake_case keywords."""
    msg = unpack(serialise_call(MESSAGE_ID, request))
    assert isinstance(msg, Call) and (msg.unique_id, msg.action) == (MESSAGE_ID, type(request).__name__)
    check_payload(msg.action, msg.payload)
    return from_wire(msg.payload)


def result_back(result, read=parse_frame):
    """A result (a `.conf`) as its caller gets it: a CALLRESULT frame read by `read` (the central system's
    `parse_frame`, or the library's `unpack` at the charge point), checked against the 1.6 schema, as the
    `ocpp` library's result class (what `ChargePoint.call` returns)."""
    action = type(result).__name__
    msg = read(serialise_result(MESSAGE_ID, result))
    assert isinstance(msg, CallResult) and msg.unique_id == MESSAGE_ID
    check_payload(action, msg.payload, CallResult.message_type_id)
    return getattr(call_result, action)(**from_wire(msg.payload))


TIMESTAMPS = st.integers(0, 2**32)  # [s] unix seconds, 1970..2106
ID_TAGS = st.text(min_size=1, max_size=20)  # OCPP IdToken: CiString20Type
IDS = st.integers(1, 2**31 - 1)
READINGS = st.integers(0, MAX_READING)
CONTEXTS = st.sampled_from([c.value for c in ReadingContext])


# ---------------------------------------------------------------------------------------------- SetChargingProfile


@given(
    limit_w=st.integers(0, 10**9),
    profile_id=IDS,
    transaction_id=st.none() | IDS,
    stack_level=st.integers(0, 100),
    own_connector_id=st.integers(1, 8),
    all_connectors=st.booleans(),
    status=st.sampled_from(["Accepted", "Rejected", "NotSupported"]),
)
def test_set_charging_profile_round_trip(
    limit_w, profile_id, transaction_id, stack_level, own_connector_id, all_connectors, status
):
    connector_id = 0 if all_connectors and transaction_id is None else own_connector_id
    profile = charging_profile(limit_w, profile_id=profile_id, transaction_id=transaction_id, stack_level=stack_level)
    payload = at_charge_point(build_set_charging_profile(connector_id, profile))
    accepted = parse_charging_profile(
        payload["connector_id"],
        payload["cs_charging_profiles"],
        own_connector_id=own_connector_id,
        transaction_id=transaction_id,
    )
    purpose = TX_DEFAULT_PROFILE if transaction_id is None else TX_PROFILE
    assert accepted == ProfileLimit(purpose, limit_w, profile_id, transaction_id)
    assert parse_set_charging_profile_result(result_back(build_set_charging_profile_result(status))) == status


def test_set_charging_profile_refuses_a_bad_allocation_naming_the_field():
    for kwargs, field in [
        ({"limit_w": -1}, "limit_w"),
        ({"profile_id": 0}, "profile_id"),
        ({"transaction_id": 0}, "transaction_id"),
        ({"stack_level": -1}, "stack_level"),
    ]:
        with pytest.raises(InputError, match=field):
            charging_profile(**{"limit_w": 3_700, "profile_id": 1, **kwargs})


# ----------------------------------------------------------------------------------------------------- MeterValues


SAMPLES = st.builds(
    MeterSample,
    timestamp=TIMESTAMPS,
    register_wh=READINGS,
    power_w=st.none() | READINGS,
    signed_data=st.none() | st.text(max_size=200),
    context=CONTEXTS,
    soc_pm=st.none() | st.integers(0, 100).map(lambda pct: pct * 10),  # sent in whole %
)


def sent(s: MeterSample):
    """The MeterValue a charge point builds for sample `s` (its SoC in whole %)."""
    soc_pct = None if s.soc_pm is None else s.soc_pm // 10
    return meter_value(s.timestamp, s.register_wh, s.power_w, s.context, s.signed_data, soc_pct)


@given(
    connector_id=st.integers(0, 8),
    transaction_id=st.none() | IDS,
    samples=st.lists(SAMPLES, min_size=1, max_size=4, unique_by=lambda s: (s.timestamp, s.context)),
)
def test_meter_values_round_trip(connector_id, transaction_id, samples):
    built = [sent(s) for s in samples]
    payload = at_central_system(build_meter_values(connector_id, transaction_id, built))
    assert (payload["connector_id"], payload.get("transaction_id")) == (connector_id, transaction_id)
    assert parse_meter_values(payload["meter_value"]) == ParsedMeterValues(tuple(samples))
    assert result_back(build_meter_values_result(), unpack) == call_result.MeterValues()


def test_the_evs_soc_is_read_in_per_mille_and_a_bad_one_is_a_problem_naming_its_field():
    def soc(value: str, **more) -> ParsedMeterValues:
        sampled = [{"value": "10", "measurand": "Energy.Active.Import.Register"}]
        sampled.append({"value": value, "measurand": "SoC", "location": "EV", **more})
        return parse_meter_values([{"timestamp": "2026-01-01T00:00:00Z", "sampled_value": sampled}])

    assert soc("35.57", unit="Percent").samples[0].soc_pm == 355  # a fraction of a per-mille dropped
    assert soc("100").samples[0].soc_pm == 1000  # unit Percent by default for SoC
    for value, more, problem in [
        ("101", {}, "meterValue[0].sampledValue[1].value: '101' is above 100 % (SoC)"),
        ("35", {"unit": "Wh"}, "meterValue[0].sampledValue[1].unit: 'Wh' is not Percent (SoC)"),
        ("-3", {}, "meterValue[0].sampledValue[1].value: '-3' is negative"),
    ]:
        parsed = soc(value, **more)
        assert parsed.samples[0].soc_pm is None and parsed.samples[0].register_wh == 10
        assert [text for _, text in parsed.problems] == [problem]


# ------------------------------------------------------------------------------------- Authorize, Start, Stop


@given(id_tag=ID_TAGS, accepted=st.booleans())
def test_authorize_round_trip(id_tag, accepted):
    assert parse_authorize(**at_central_system(build_authorize(id_tag))) == id_tag
    assert parse_authorize_result(result_back(build_authorize_result(accepted), unpack)) is accepted


@given(
    start=st.builds(
        TransactionStart,
        connector_id=st.integers(0, 8),
        id_tag=ID_TAGS,
        meter_start_wh=READINGS,
        timestamp=TIMESTAMPS,
    ),
    transaction_id=st.none() | IDS,
)
def test_start_transaction_round_trip(start, transaction_id):
    assert parse_start_transaction(**at_central_system(build_start_transaction(start))) == start
    answer = parse_start_transaction_result(result_back(build_start_transaction_result(transaction_id), unpack))
    assert answer == ((0, "Invalid") if transaction_id is None else (transaction_id, "Accepted"))


@given(
    transaction_id=IDS,
    meter_stop_wh=READINGS,
    timestamp=TIMESTAMPS,
    reason=st.sampled_from([r.value for r in Reason]),
    id_tag=st.none() | ID_TAGS,
    end=SAMPLES,
    id_tag_accepted=st.none() | st.booleans(),
)
def test_stop_transaction_round_trip(transaction_id, meter_stop_wh, timestamp, reason, id_tag, end, id_tag_accepted):
    data = [sent(end)]
    request = build_stop_transaction(transaction_id, meter_stop_wh, timestamp, reason, id_tag, data)
    stop = parse_stop_transaction(**at_central_system(request))
    assert stop == TransactionStop(transaction_id, meter_stop_wh, timestamp, reason, id_tag, ParsedMeterValues((end,)))
    status = parse_stop_transaction_result(result_back(build_stop_transaction_result(id_tag_accepted), unpack))
    assert status == {None: None, True: "Accepted", False: "Invalid"}[id_tag_accepted]


def test_a_stop_without_reason_is_local():
    assert parse_stop_transaction(meter_stop=5, timestamp="2023-11-14T22:13:20Z", transaction_id=1).reason == "Local"


def test_an_id_tag_longer_than_20_characters_is_not_built():
    for build in (build_authorize, lambda tag: build_start_transaction(TransactionStart(1, tag, 0, 0))):
        with pytest.raises(InputError, match="id_tag"):
            build("x" * 21)


# ---------------------------------------------------------------------------- BootNotification, Heartbeat, Status


@given(
    boot=st.builds(Boot, vendor=st.text(min_size=1, max_size=20), model=st.text(min_size=1, max_size=20)),
    accepted=st.booleans(),
    now=TIMESTAMPS,
    interval_s=st.integers(1, 86_400),
)
def test_boot_notification_round_trip(boot, accepted, now, interval_s):
    assert parse_boot_notification(**at_central_system(build_boot_notification(boot))) == boot
    result = result_back(build_boot_notification_result(accepted, now, interval_s), unpack)
    assert parse_boot_notification_result(result) == ("Accepted" if accepted else "Rejected", interval_s)
    assert unix_s(result.current_time, "currentTime") == now


@given(now=TIMESTAMPS)
def test_heartbeat_round_trip(now):
    assert at_central_system(build_heartbeat()) == {}
    assert unix_s(parse_heartbeat_result(result_back(build_heartbeat_result(now), unpack)), "currentTime") == now


@given(
    status=st.builds(
        ConnectorStatus,
        connector_id=st.integers(0, 8),
        status=st.sampled_from([s.value for s in ChargePointStatus]),
        error_code=st.sampled_from([e.value for e in ChargePointErrorCode]),
        timestamp=st.none() | TIMESTAMPS,
    )
)
def test_status_notification_round_trip(status):
    assert parse_status_notification(**at_central_system(build_status_notification(status))) == status
    assert result_back(build_status_notification_result(), unpack) == call_result.StatusNotification()


@given(
    request=st.builds(
        VendorData,
        vendor_id=st.text(min_size=1, max_size=255),
        message_id=st.none() | st.text(min_size=1, max_size=50),
        data=st.none() | st.text(max_size=200),
    ),
    status=st.sampled_from([s.value for s in DataTransferStatus]),
    data=st.none() | st.text(max_size=200),
)
def test_data_transfer_round_trip(request, status, data):
    assert parse_data_transfer(**at_central_system(build_data_transfer(request))) == request
    assert parse_data_transfer_result(result_back(build_data_transfer_result(status, data), unpack)) == (status, data)


# ------------------------------------------------------------------------------ what the charge point accepts


def test_charging_profile_rules():
    def schedule(unit="W", limit=3_700, **extra) -> dict:
        period = {"start_period": 0, "limit": limit, **extra.pop("period", {})}
        return {"charging_rate_unit": unit, "charging_schedule_period": [period], **extra}

    base = {
        "charging_profile_id": 1,
        "stack_level": 0,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "transaction_id": 4,
        "charging_schedule": schedule(),
    }

    def parse(connector_id=1, active_tx=4, **changes):  # active_tx: the transaction in progress at the charge point
        profile = {**base, **changes}
        return parse_charging_profile(connector_id, profile, own_connector_id=1, transaction_id=active_tx)

    accepted = parse()
    assert (accepted.purpose, accepted.limit_w, accepted.transaction_id) == ("TxProfile", 3_700, 4)
    default = parse(0, None, charging_profile_purpose="TxDefaultProfile", transaction_id=None)
    assert (default.purpose, default.limit_w, default.transaction_id) == ("TxDefaultProfile", 3_700, None)
    assert parse(charging_schedule=schedule("A", 16)).limit_w == 16 * 230 * 3
    assert parse(charging_schedule=schedule("W", Decimal("3700.9"))).limit_w == 3_700  # floor: never above
    for kwargs, field in [
        ({"connector_id": 0}, "connectorId"),
        ({"connector_id": 2}, "connectorId"),
        ({"active_tx": None}, "chargingProfilePurpose"),
        ({"active_tx": 5}, "transactionId"),
        ({"charging_profile_purpose": "TxDefaultProfile"}, "transactionId"),
        ({"charging_schedule": schedule("kW", 1)}, "chargingRateUnit"),
        ({"charging_schedule": {"charging_rate_unit": "W", "charging_schedule_period": []}}, "chargingSchedulePeriod"),
        ({"charging_schedule": schedule(duration=60)}, "duration"),
        ({"charging_schedule": schedule("A", 6, period={"number_phases": 4})}, "numberPhases"),
        ({"charging_schedule": schedule(limit="3700")}, "limit"),
        ({"charging_profile_kind": "Recurring"}, "chargingProfileKind"),
    ]:
        with pytest.raises(InputError, match=field):
            parse(**kwargs)
