"""Attacks on the OCPP 1.6-J central system (gridchain.ocpp.central) over real loopback websockets.

A hostile charge point (`hostile_cp`, tests/ocpp/attackers.py) sends raw OCPP-J frames; each test asserts
the OCPP-J 1.6 answer (the CallError code of Table 7, the field named in the description, or the result the 1.6
spec demands) and, where the frame is expensive, that a bystander charge point on the same central system is
still answered within STALL_BOUND_S. Tests named `test_hole<N>_...` show issue 14's holes 8 and 10 (see
docs/security.md, "OCPP central system"); the others are the rest of the attack surface. Adding an attack: a
frame, `hostile.call(...)` or `hostile.raw(...)`, and an assertion on `result(...)` or `call_error(...)`.
"""

from __future__ import annotations

import json

import pytest

from gridchain.ocpp.backend import RecordingBackend
from gridchain.ocpp.central import CentralSystem
from gridchain.ocpp.charge_point import ChargePointSim
from gridchain.ocpp.messages.fields import iso_utc
from tests.ocpp.attackers import (
    SILENCE_S,
    STALL_BOUND_S,
    Bystander,
    HostileChargePoint,
    call_error,
    meter_values,
    result,
    sampled,
    stall_while,
)

TAG = "TAG-MALLORY"
MAX_READING = (
    10**15
)  # [Wh or W] the largest reading the central system keeps (gridchain.ocpp.messages.meter_values.MAX_READING)
T0 = 1_700_000_100 // 900 * 900 + 900  # [s] a quarter hour


@pytest.fixture
def central():
    with CentralSystem(RecordingBackend([TAG])) as cs:
        yield cs


@pytest.fixture
def hostile_cp(central):
    """A factory of booted hostile charge points: `hostile_cp()` or `hostile_cp("cp-other")`."""
    made: list[HostileChargePoint] = []

    def make(cp_id: str = "cp-mallory") -> HostileChargePoint:
        cp = HostileChargePoint(central.url, cp_id)
        cp.boot()
        made.append(cp)
        return cp

    yield make
    for cp in made:
        cp.close()


@pytest.fixture
def bystander(central):
    cp = Bystander(central.url, "cp-bystander")
    yield cp
    cp.close()


def anomalies(central, kind: str) -> list:
    return [a for a in central.backend.anomalies if a.kind == kind]


# ------------------------------------------------------------------------------------------------------ hole 8


def test_hole8_a_session_stopping_on_a_quarter_hour_keeps_its_signed_reading_and_is_billable():
    """The roaming session ends exactly on a 15-minute boundary: the Sample.Clock reading and the Transaction.End
    one (which carries the meter's signed session) share a timestamp. Both are samples; the station finds the
    signed session and it is the one the meter signed."""
    from eth_account import Account

    from gridchain.chain.boa_gateway import BoaGateway
    from gridchain.crypto import eip712
    from gridchain.metering import model as m
    from gridchain.metering.client import MeteringClient
    from gridchain.metering.parties import (
        ChargePointMeter,
        SmartMeter,
        sign_session_start,
    )
    from gridchain.metering.service import RoamingStation

    gateway = BoaGateway(accounts=3)
    utility, host, owner = gateway.accounts
    client, _ = MeteringClient.deploy(gateway, utility, 3600)
    domain = client.domain()
    cp_meter = SmartMeter(Account.create().key, domain)
    ev_key = Account.create().key
    client.register_meter(utility, cp_meter.address, host, 1, 1)
    client.register_ev(utility, Account.from_key(ev_key).address, owner)
    client.deposit(owner, 10**16)
    backend = RecordingBackend()
    station = RoamingStation(client, host, backend, cp_meter.address, min_escrow_wei=10**15)
    signer = ChargePointMeter(cp_meter)
    arrival = (gateway.now() // m.INTERVAL_S + 1) * m.INTERVAL_S + 300
    client.set_tariff(utility, 1, arrival - 300, [10**14] * 24)  # the station reserves
    gateway.advance_time(arrival - gateway.now())  # the EV's signed maximum at the plug, under a tariff in force
    start, ev_sig = sign_session_start(ev_key, domain, cp_meter.address, arrival, 10**16)
    with (
        CentralSystem(backend) as central,
        ChargePointSim("cp-roam", central.url, arrival, 7_400, signer=signer, clock_aligned=True) as cp,
    ):
        cp.connect()
        tag = station.announce(start, ev_sig)
        signer.expect(eip712.digest(domain, start), start.start)
        tx = cp.start_transaction(tag)
        cp.advance(2 * m.INTERVAL_S - 300)  # to the second quarter-hour boundary exactly
        assert cp.now % m.INTERVAL_S == 0
        cp.stop_transaction()
    record = backend.transaction(tx)
    at_end = [s.context for s in record.samples if s.timestamp == record.stop_timestamp]
    assert at_end == ["Sample.Clock", "Transaction.End"]
    session = station.signed_session(tx)  # b3d15a8: ValueError, "carries no signed session reading"
    assert (session.reading, session.meter_signature) == signer.signed_sessions[-1]
    assert sum(session.reading.energy_wh) == record.energy_wh == 7_400 * (2 * m.INTERVAL_S - 300) // 3600


def test_hole8_samples_are_the_same_only_in_the_same_context_and_conflicts_are_kept(central, hostile_cp):
    """Deduplication is by (transaction, time, reading context): a Transaction.End reading is not a resend of the
    Sample.Clock reading of the same second. An identical resend is stored once; a resend that contradicts the
    kept reading is an anomaly naming both values, never dropped silently and never overwriting."""
    cp = hostile_cp()
    tx = cp.start(TAG, 1_000, T0 - 900)
    clock = sampled("3000", context="Sample.Clock")
    assert result(cp.call("MeterValues", meter_values(tx, T0, clock))) == {}
    end = [
        {
            "timestamp": iso_utc(T0),
            "sampledValue": [
                sampled("3000", context="Transaction.End"),
                sampled('{"kind":"session"}', context="Transaction.End", format="SignedData"),
            ],
        }
    ]
    stop = {
        "meterStop": 3_000,
        "timestamp": iso_utc(T0),
        "transactionId": tx,
        "reason": "Local",
        "transactionData": end,
    }
    assert result(cp.call("StopTransaction", stop)) == {}
    record = central.backend.transaction(tx)
    assert [(s.context, s.register_wh, s.signed_data) for s in record.samples if s.timestamp == T0] == [
        ("Sample.Clock", 3_000, None),
        ("Transaction.End", 3_000, '{"kind":"session"}'),
    ]
    # an identical resend of both messages: stored once
    duplicates = central.backend.duplicates
    result(cp.call("MeterValues", meter_values(tx, T0, clock)))
    result(cp.call("StopTransaction", stop))
    assert central.backend.duplicates == duplicates + 2 and central.backend.transaction(tx).samples == record.samples
    # a contradicting resend: kept apart, the first reading stays
    result(cp.call("MeterValues", meter_values(tx, T0, sampled("2999", context="Sample.Clock"))))
    [conflict] = central.backend.conflicts
    assert conflict.transaction_id == tx and "register_wh 2999 (kept 3000)" in conflict.detail
    assert central.backend.transaction(tx).samples == record.samples
    # another context of the same second is another sample
    result(cp.call("MeterValues", meter_values(tx, T0, sampled("3000", context="Trigger"))))
    assert [s.context for s in central.backend.transaction(tx).samples if s.timestamp == T0] == [
        "Sample.Clock",
        "Trigger",
        "Transaction.End",
    ]


# ----------------------------------------------------------------------------------------------------- hole 10


def test_hole10_a_huge_exponent_in_a_meter_value_stalls_no_other_charge_point(central, hostile_cp, bystander):
    """b3d15a8 turned the finite Decimal 1e999999 into an exact integer on the one event loop: ~40 s of CPU during
    which no other charge point was answered. Now it is bounded before any conversion."""
    cp = hostile_cp()
    tx = cp.start(TAG, 0, T0)
    frame = cp.frame("MeterValues", meter_values(tx, T0 + 900, sampled("1e999999")))
    answer, slowest_s = stall_while(cp, frame, bystander)
    assert slowest_s < STALL_BOUND_S, f"the bystander waited {slowest_s:.1f} s"
    reason = f"meterValue[0].sampledValue[0].value: '1e999999' is above {MAX_READING} Wh"
    assert call_error(answer) == ("PropertyConstraintViolation", reason)  # a bad number names its field
    assert [a.detail for a in anomalies(central, "call error")] == [f"PropertyConstraintViolation: {reason}"]
    assert [(a.detail, a.transaction_id) for a in anomalies(central, "bad value")] == [(reason, tx)]
    assert central.backend.transaction(tx).samples == ()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1e999999999", f"'1e999999999' is above {MAX_READING} Wh"),  # b3d15a8: decimal.Overflow -> InternalError
        ("1e99999999999999999999", f"'1e99999999999999999999' is above {MAX_READING} Wh"),
        (str(MAX_READING + 1), f"'{MAX_READING + 1}' is above {MAX_READING} Wh"),
        ("NaN", "'NaN' is not a decimal number"),
        ("-Infinity", "'-Infinity' is not a decimal number"),
        ("sNaN", "'sNaN' is not a decimal number"),
        ("-1", "'-1' is negative"),
        (" 12", "' 12' is not a decimal number"),  # Decimal() would read these four
        ("1_000", "'1_000' is not a decimal number"),
        ("\u0661\u0662", "'\u0661\u0662' is not a decimal number"),
        ("12\n", "'12\\n' is not a decimal number"),
        ("0x10", "'0x10' is not a decimal number"),
        ("", "'' is not a decimal number"),
        ("1" * 41, "is longer than 40 characters"),
    ],
)
def test_hole10_a_meter_value_that_is_no_reading_is_refused_naming_the_field(central, hostile_cp, value, reason):
    """A raw value that is no decimal number in range refuses its MeterValues whole (PropertyConstraintViolation
    naming the field; b3d15a8 stored some as registers, answered others with InternalError or no field), nothing
    of the message is stored, and the refusal is an anomaly. In a StopTransaction (never refused) the same value
    is an anomaly and the stop is kept."""
    cp = hostile_cp()
    tx = cp.start(TAG, 0, T0)
    answer = cp.call(
        "MeterValues",
        meter_values(tx, T0 + 900, sampled("7.4", measurand="Power.Active.Import", unit="kW"), sampled(value)),
    )
    code, description = call_error(answer)
    assert code == "PropertyConstraintViolation"
    assert description.startswith("meterValue[0].sampledValue[1].value: ") and reason in description
    assert central.backend.transaction(tx).samples == ()  # not half of the message: the power is not kept either
    [refusal] = anomalies(central, "call error")
    assert refusal.cp_id == "cp-mallory" and description in refusal.detail
    stop = {
        "meterStop": 10,
        "timestamp": iso_utc(T0 + 1_800),
        "transactionId": tx,
        "transactionData": [{"timestamp": iso_utc(T0 + 1_800), "sampledValue": [sampled(value)]}],
    }
    assert result(cp.call("StopTransaction", stop)) == {}
    in_values, in_stop = anomalies(central, "bad value")
    assert in_values.detail.startswith("meterValue[0].sampledValue[1].value: ") and reason in in_values.detail
    assert in_stop.detail.startswith("transactionData[0].sampledValue[0].value: ") and reason in in_stop.detail
    assert {(a.cp_id, a.transaction_id) for a in (in_values, in_stop)} == {("cp-mallory", tx)}
    assert not central.backend.transaction(tx).open


@pytest.mark.parametrize(
    ("value", "unit", "wh"),
    [
        ("-0", "Wh", 0),
        ("1e-999999", "Wh", 0),
        ("0.0009", "kWh", 0),
        ("12.3456", "kWh", 12_345),
        ("1E3", "Wh", 1_000),
        (".5", "kWh", 500),
        (str(MAX_READING), "Wh", MAX_READING),
        ("999999999999.9999999999999999999999999", "kWh", MAX_READING - 1),
    ],
)
def test_exotic_but_valid_meter_values_are_read_exactly(central, hostile_cp, value, unit, wh):
    cp = hostile_cp()
    tx = cp.start(TAG, 0, T0)
    assert result(cp.call("MeterValues", meter_values(tx, T0 + 900, sampled(value, unit=unit)))) == {}
    assert [s.register_wh for s in central.backend.transaction(tx).samples] == [wh]
    assert central.backend.anomalies == []


HUGE_INT = "9" * 5_000  # beyond CPython's 4,300-digit int limit: b3d15a8's parser raised ValueError, the link died


@pytest.mark.parametrize(
    ("literal", "code", "reason"),
    [
        ("1e999999", "TypeConstraintViolation", "1e999999 is not a number this central system converts"),
        (HUGE_INT, "TypeConstraintViolation", "is not a number this central system converts"),
        ("1" * 21, "TypeConstraintViolation", "is not a number this central system converts"),
        ("NaN", "FormationViolation", "NaN and Infinity are not JSON"),
        ("-Infinity", "FormationViolation", "NaN and Infinity are not JSON"),
        ("1e-999999", "TypeConstraintViolation", "0.0 is not of type 'integer'"),
        ("1.0", "TypeConstraintViolation", "1.0 is not of type 'integer'"),
        ('"1"', "TypeConstraintViolation", "'1' is not of type 'integer'"),
        ("true", "TypeConstraintViolation", "True is not of type 'integer'"),
        ("null", "TypeConstraintViolation", "None is not of type 'integer'"),
    ],
)
def test_hole10_a_number_in_a_frame_is_bounded_and_refused_naming_its_field(hostile_cp, literal, code, reason):
    cp = hostile_cp()
    frame = '[2,"n1","StatusNotification",{"connectorId":' + literal + ',"errorCode":"NoError","status":"Available"}]'
    got_code, description = call_error(cp.raw(frame))
    assert got_code == code and description.startswith("connectorId: ") and reason in description
    assert len(description) <= 200
    assert result(cp.call("Heartbeat", {}))  # the connection still serves


def test_the_bounds_are_the_central_systems():
    from gridchain.ocpp import central as ocpp_central

    assert ocpp_central.MAX_READING == MAX_READING and ocpp_central.MAX_MESSAGE_BYTES == 131_072


def test_minus_zero_is_zero(central, hostile_cp):
    cp = hostile_cp()
    frame = '[2,"z1","StatusNotification",{"connectorId":-0,"errorCode":"NoError","status":"Available"}]'
    assert result(cp.raw(frame)) == {}
    assert central.backend.statuses[("cp-mallory", 0)] == "Available"


STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


@pytest.mark.parametrize(
    ("payload", "code", "where"),
    [
        ({**STATUS, "extra": 1}, "FormationViolation", "payload: Additional properties are not allowed"),  # b3d15a8:
        ([], "FormationViolation", "payload: expected a JSON object"),  # 2.0.1's FormatViolation for these two
        ({**STATUS, "status": "Napping"}, "PropertyConstraintViolation", "status: 'Napping' is not one of"),
        ({"connectorId": 1, "errorCode": "NoError"}, "ProtocolError", "payload: 'status' is a required property"),
    ],
)
def test_hole10_schema_refusals_use_the_ocpp_1_6_codes(hostile_cp, payload, code, where):
    cp = hostile_cp()
    got_code, description = call_error(cp.call("StatusNotification", payload))
    assert (got_code, description[: len(where)]) == (code, where)


def test_hole10_an_empty_meter_value_list_is_an_occurence_constraint_violation(hostile_cp):
    cp = hostile_cp()
    code, description = call_error(cp.call("MeterValues", {"connectorId": 1, "meterValue": []}))
    assert code == "OccurenceConstraintViolation" and description.startswith("meterValue: ")  # 1.6's spelling


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("FooBar", "NotImplemented"),
        ("", "NotImplemented"),  # not known: NotImplemented (OCPP-J 1.6 Table 7)
        ("FirmwareStatusNotification", "NotSupported"),
        ("Reset", "NotSupported"),
    ],  # known, not supported here
)
def test_hole10_unknown_actions_are_not_implemented_and_unsupported_ones_not_supported(hostile_cp, action, code):
    cp = hostile_cp()
    got_code, description = call_error(cp.call(action, {}))
    assert got_code == code and description.startswith("action: ")


def test_hole10_data_transfer_is_answered(central, hostile_cp):
    cp = hostile_cp()
    assert result(cp.call("DataTransfer", {"vendorId": "com.evil", "messageId": "x", "data": "1e999999"})) == {
        "status": "UnknownVendorId"
    }
    central.backend.add_vendor("org.gridchain", ["ping"])
    assert result(cp.call("DataTransfer", {"vendorId": "org.gridchain", "messageId": "pong"})) == {
        "status": "UnknownMessageId"
    }
    assert result(cp.call("DataTransfer", {"vendorId": "org.gridchain", "messageId": "ping", "data": "hi"})) == {
        "status": "Accepted"
    }
    assert central.backend.data_transfers == [("cp-mallory", "org.gridchain", "ping", "hi")]
    code, description = call_error(cp.call("DataTransfer", {"vendorId": "v" * 256}))
    assert code == "TypeConstraintViolation" and description.startswith("vendorId: ")


def test_hole10_stop_transaction_is_never_refused(central, hostile_cp):
    """OCPP 1.6 §4.10: the central system cannot prevent a transaction from stopping; a stop for an unknown
    transaction, a second stop with other values, a meter stop below the start: answered, kept as anomalies."""
    cp = hostile_cp()

    def stop(tx: int, meter_stop: int, at: int) -> dict:
        return {"meterStop": meter_stop, "timestamp": iso_utc(at), "transactionId": tx, "idTag": TAG}

    assert result(cp.call("StopTransaction", stop(424_242, 5, T0))) == {"idTagInfo": {"status": "Accepted"}}
    tx = cp.start(TAG, 1_000, T0)
    result(cp.call("MeterValues", meter_values(tx, T0 + 900, sampled("1500"))))
    assert result(cp.call("StopTransaction", stop(tx, 900, T0 + 1_000)))  # below the meter start
    record = central.backend.transaction(tx)
    assert not record.open and record.meter_stop_wh is None and record.stop_reason == "Local"
    assert record.energy_wh == 500  # from the last register, not a negative meter difference
    assert result(cp.call("StopTransaction", stop(tx, 2_000, T0 + 2_000)))  # stopped again, other values
    assert central.backend.transaction(tx).stop_timestamp == T0 + 1_000
    assert [a.kind for a in central.backend.anomalies] == ["unknown transaction", "bad meter stop", "stopped again"]
    assert "transactionId: 424242 is not a transaction of 'cp-mallory'" in central.backend.anomalies[0].detail
    assert "meterStop: 900 is below the meter start 1000" == central.backend.anomalies[1].detail
    unknown_tag = {**stop(tx, 900, T0 + 1_000), "idTag": "TAG-NOBODY"}  # the stop's idTagInfo is the tag's status
    assert result(cp.call("StopTransaction", unknown_tag)) == {"idTagInfo": {"status": "Invalid"}}


def test_hole10_per_phase_energy_registers_are_summed_when_no_total_is_sent(central, hostile_cp):
    cp = hostile_cp()
    tx = cp.start(TAG, 0, T0)
    phases = [sampled(v, phase=p) for v, p in (("1000", "L1"), ("1.5", "L2"), ("2000", "L3"))]
    phases[1]["unit"] = "kWh"
    result(cp.call("MeterValues", meter_values(tx, T0 + 900, *phases)))
    assert central.backend.energy_wh(tx) == 4_500
    both = [sampled("4600"), *phases, sampled("7", phase="L1-N")]  # a total wins; L1-N is no energy phase
    result(cp.call("MeterValues", meter_values(tx, T0 + 1_800, *both)))
    assert [s.register_wh for s in central.backend.transaction(tx).samples] == [4_500, 4_600]


def test_hole10_energy_active_import_interval_is_an_interval_not_a_register(central, hostile_cp):
    cp = hostile_cp()
    tx = cp.start(TAG, 50_000, T0)
    for k in (1, 2, 3):
        result(
            cp.call(
                "MeterValues",
                meter_values(
                    tx, T0 + k * 900, sampled("1850", measurand="Energy.Active.Import.Interval", context="Sample.Clock")
                ),
            )
        )
    result(
        cp.call("MeterValues", meter_values(tx, T0 + 900, sampled("1850", measurand="Energy.Active.Import.Interval")))
    )  # a periodic one: the same energy
    record = central.backend.transaction(tx)
    assert [s.interval_wh for s in record.samples] == [1_850, 1_850, 1_850, 1_850]
    assert {s.register_wh for s in record.samples} == {None}
    assert record.energy_wh == 3 * 1_850  # not 1,850 - 50,000 as a register, not 4 x 1,850
    result(cp.call("MeterValues", meter_values(tx, T0 + 3 * 900, sampled("57000", context="Sample.Clock"))))
    assert central.backend.energy_wh(tx) == 7_000  # a register, once there is one, rules


# ------------------------------------------------------------------------------------------- the frame itself


def test_broken_json_of_a_call_with_a_readable_id_gets_formation_violation(central, hostile_cp):
    cp = hostile_cp()
    code, description = call_error(cp.raw('[2,"m1","Heartbeat",{]'))
    assert code == "FormationViolation" and description.startswith("message: not valid JSON")
    assert call_error(cp.raw('[2,"q1","Heart'))[0] == "FormationViolation"  # cut short
    # nested deeper than any OCPP frame: refused before parsing (CPython's parser recurses per level and py_ecc,
    # imported with the chain, raises the recursion limit to 100,000: 120,000 levels overflowed the C stack)
    deep = '[2,"d1","DataTransfer",{"vendorId":"x","data":' + "[" * 60_000 + "]" * 60_000 + "}]"
    code, description = call_error(cp.raw(deep))
    assert code == "FormationViolation" and "nested deeper than 16 levels" in description
    for data in ("[" * 60_000, '\\"' + "{" * 60_000):  # in a string, after an escaped quote: no nesting
        assert result(cp.call("DataTransfer", {"vendorId": "x", "data": data}))
    assert result(cp.call("Heartbeat", {}))


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ("[" * 16 + "]" * 16, False),
        ("[" * 17 + "]" * 17, True),
        ('{"a":' * 17 + "1" + "}" * 17, True),
        ('["' + "[" * 99 + '"]', False),
        ('["\\\\",' + "[" * 20 + "]" * 21, True),  # an escaped backslash escapes no quote
        ('["\\"' + "[" * 20 + '"]', False),
        ("[" * 120_000, True),
        ("[[]" * 20, True),
    ],  # escaped quote; unbalanced
)
def test_nesting_is_measured_outside_strings(text, too_deep):
    from gridchain.ocpp.frames import _too_deep

    assert _too_deep(text) is too_deep


@pytest.mark.parametrize(
    "frame",
    [
        "}{",
        "",
        "null",
        "{}",
        "[]",
        '"[2]"',
        '[5,"x",{}]',
        '[2.0,"x","Heartbeat",{}]',
        '[2,17,"Heartbeat",{}]',
        '[3,"nobody",{}]',
        '[4,"nobody","GenericError","",{}]',
        "[" * 120_000,
        b"\xff\xfe[2]",
    ],
)
def test_frames_with_no_call_to_answer_are_ignored_and_the_connection_stays_usable(central, hostile_cp, frame):
    """OCPP-J 1.6 answers a CALL; a frame that names none (§4.1.3: an unknown MessageTypeId is ignored) gets no
    answer, is kept as an anomaly, and the connection keeps serving."""
    cp = hostile_cp()
    assert cp.raw(frame, timeout_s=SILENCE_S) is None
    assert len(anomalies(central, "ignored frame")) == 1
    assert result(cp.call("Heartbeat", {}))


def test_a_message_id_longer_than_36_characters_is_refused(hostile_cp):
    cp = hostile_cp()
    long_id = "i" * 37
    answer = cp.raw(cp.frame("Heartbeat", {}, long_id))
    code, description = call_error(answer)
    assert answer[1] == long_id and code == "FormationViolation" and description.startswith("messageId: ")


def test_a_call_with_the_wrong_number_of_elements_is_refused(hostile_cp):
    cp = hostile_cp()
    assert call_error(cp.raw('[2,"e1","Heartbeat"]'))[0] == "FormationViolation"
    assert call_error(cp.raw('[2,"e2",7,{}]'))[0] == "FormationViolation"
    assert result(cp.raw('[2,"e3","Heartbeat",null]'))  # §4.2.1: no payload may be null


def test_an_oversized_frame_closes_only_its_own_connection(central, hostile_cp, bystander):
    from websockets.exceptions import ConnectionClosed

    cp = hostile_cp()
    values = [sampled("1")] * (central.max_message_bytes // 10)
    cp.send(
        cp.frame("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": iso_utc(T0), "sampledValue": values}]})
    )
    with pytest.raises(ConnectionClosed) as closed:
        cp.ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1009  # message too big
    assert bystander.heartbeat_s() < STALL_BOUND_S
    again = HostileChargePoint(central.url, "cp-mallory")
    assert result(again.call("Heartbeat", {}))
    again.close()


@pytest.mark.parametrize(
    "build",
    [
        lambda cp, tx: cp.frame("MeterValues", meter_values(tx, T0, sampled("1e999999999"))),
        lambda cp, tx: '[2,"h1","StatusNotification",{"connectorId":' + "7" * 120_000 + "}]",
        lambda cp, tx: '[2,"h2","Heartbeat",{"x":' + "[" * 60_000 + "]" * 60_000 + "}]",
        lambda cp, tx: cp.frame("MeterValues", meter_values(tx, T0, *[sampled("9" * 40)] * 2_000)),
        lambda cp, tx: cp.frame("MeterValues", meter_values(tx, T0, *[sampled("1e999999")] * 2_500)),
        lambda cp, tx: cp.frame("MeterValues", meter_values(tx, T0, *[{"value": 1}] * 8_000)),
    ],
    ids=["overflow", "digits", "nesting", "long-values", "exponents", "type-errors"],
)
def test_no_frame_stalls_other_charge_points(central, hostile_cp, bystander, build):
    cp = hostile_cp()
    tx = cp.start(TAG, 0, T0)
    frame = build(cp, tx)
    assert len(frame) <= central.max_message_bytes
    answer, slowest_s = stall_while(cp, frame, bystander)
    assert slowest_s < STALL_BOUND_S, f"the bystander waited {slowest_s:.1f} s"
    assert answer is not None and answer[0] in (3, 4) and (answer[0] == 3 or call_error(answer)[0] != "InternalError")


def test_wrong_types_are_refused_naming_the_field(hostile_cp):
    cp = hostile_cp()
    start = {"connectorId": 1, "idTag": TAG, "meterStart": 0, "timestamp": iso_utc(T0)}
    for change, code, where in [
        ({"idTag": 12}, "TypeConstraintViolation", "idTag: 12 is not of type 'string'"),
        ({"idTag": "x" * 21}, "TypeConstraintViolation", "idTag: "),
        ({"meterStart": "0"}, "TypeConstraintViolation", "meterStart: '0' is not of type 'integer'"),
        ({"timestamp": "yesterday"}, "PropertyConstraintViolation", "timestamp: 'yesterday' is not an ISO 8601"),
        ({"timestamp": "2023-11-14T22:13:20"}, "PropertyConstraintViolation", "timestamp: "),  # no time zone
    ]:
        got_code, description = call_error(cp.call("StartTransaction", {**start, **change}))
        assert (got_code, description[: len(where)]) == (code, where)
    code, description = call_error(cp.call("MeterValues", {"connectorId": 1, "meterValue": {"timestamp": 1}}))
    assert (code, description) == ("TypeConstraintViolation", "meterValue: {'timestamp': 1} is not of type 'array'")


def test_a_meter_start_out_of_range_opens_no_transaction(central, hostile_cp):
    cp = hostile_cp()
    assert cp.start(TAG, -1, T0) == 0 and cp.start(TAG, MAX_READING + 1, T0) == 0
    assert central.backend.transactions() == []
    assert [a.kind for a in central.backend.anomalies] == ["bad meter start"] * 2


def test_a_charge_point_cannot_touch_another_charge_points_transaction(central, hostile_cp):
    alice, mallory = hostile_cp("cp-alice"), hostile_cp("cp-mallory")
    tx = alice.start(TAG, 0, T0)
    result(alice.call("MeterValues", meter_values(tx, T0 + 900, sampled("1000"))))
    result(mallory.call("MeterValues", meter_values(tx, T0 + 1_800, sampled("99999"))))
    result(mallory.call("StopTransaction", {"meterStop": 0, "timestamp": iso_utc(T0 + 900), "transactionId": tx}))
    record = central.backend.transaction(tx)
    assert record.open and record.energy_wh == 1_000 and [s.register_wh for s in record.samples] == [1_000]
    assert {(a.kind, a.cp_id) for a in central.backend.anomalies} == {("unknown transaction", "cp-mallory")}


def test_readings_dated_after_the_stop_are_kept_apart(central, hostile_cp):
    cp = hostile_cp()
    tx = cp.start(TAG, 0, T0)
    result(cp.call("StopTransaction", {"meterStop": 1_000, "timestamp": iso_utc(T0 + 900), "transactionId": tx}))
    late_end = sampled('{"kind":"session","forged":1}', context="Transaction.End", format="SignedData")
    result(cp.call("MeterValues", meter_values(tx, T0 + 99_000, late_end)))
    assert central.backend.transaction(tx).samples == ()
    [late] = anomalies(central, "after stop")
    assert late.samples[0].signed_data == late_end["value"]


def test_unsolicited_call_results_are_not_queued(central, hostile_cp):
    cp = hostile_cp()
    for k in range(200):
        cp.send(json.dumps([3, f"r{k}", {"status": "Accepted"}]))
    assert result(cp.call("Heartbeat", {}))
    assert len(anomalies(central, "ignored frame")) == 200
    assert central._charge_points["cp-mallory"]._response_queue.qsize() == 0
