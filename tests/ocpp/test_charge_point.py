"""OCPP 1.6-J between the central system (gridchain.ocpp.central) and the charge-point simulator
(gridchain.ocpp.charge_point) over a real websocket on 127.0.0.1: boot and authorization, a whole session with
exact energy, SetChargingProfile obeyed from the moment it arrives, a charge point that loses its link mid-session
and reconnects (queued messages in order, a resent message counted once, StopTransaction delivered late),
malformed profiles rejected, a clean shutdown. The protocol logic is also driven without a network (an in-memory
pipe); the meter and the profile rules as pure functions are in test_meter.py and test_messages.py. The simulator's
clock is simulated: no test sleeps; waits are on conditions with timeouts."""

from __future__ import annotations

import asyncio
import threading

import pytest
from ocpp.exceptions import OCPPError, PropertyConstraintViolationError
from ocpp.v16 import call

from gridchain.errors import InputError
from gridchain.ocpp.backend import RecordingBackend
from gridchain.ocpp.central import CentralChargePoint, CentralSystem
from gridchain.ocpp.charge_point import ChargePointProtocol, ChargePointSim, OfflineError, RefusedError
from gridchain.ocpp.messages.charging_profile import charging_profile
from gridchain.ocpp.messages.fields import iso_utc
from gridchain.ocpp.messages.meter_values import MeterSample

START = 1_700_000_100  # [s] simulated clock at the start of each test
TAG = "TAG-ALICE"
CP = "cp-1"
EV_W = 7_400  # [W]
QUARTER = 900  # [s]


@pytest.fixture
def central():
    with CentralSystem(RecordingBackend([TAG])) as cs:
        yield cs


@pytest.fixture
def sim(central):
    with ChargePointSim(CP, central.url, START, EV_W) as s:
        assert s.connect() == "Accepted"
        yield s


def profile_dict(**overrides) -> dict:
    """A well-formed TxDefaultProfile as on the wire (camelCase); `overrides` replace top-level keys, `period`
    and `unit` the schedule's."""
    period = overrides.pop("period", {"startPeriod": 0, "limit": 3000})
    unit = overrides.pop("unit", "W")
    profile = {
        "chargingProfileId": 77,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": unit, "chargingSchedulePeriod": [period]},
    }
    profile.update(overrides)
    return profile


# ----------------------------------------------------------------------------------------- over the websocket


def test_boot_and_authorize(central, sim):
    backend = central.backend
    assert backend.booted[CP] == ("gridchain", "ChargePointSim")
    assert sim.heartbeat_interval_s == central.heartbeat_interval_s
    central.wait_for(lambda: CP in central.connected(), what="cp-1 connected")
    assert backend.statuses[(CP, 1)] == "Available"
    assert sim.authorize(TAG) is True
    assert sim.authorize("TAG-MALLORY") is False
    with pytest.raises(RefusedError, match="id_tag: 'TAG-MALLORY' refused"):
        sim.start_transaction("TAG-MALLORY")
    assert backend.transactions() == [] and sim.transaction_id is None
    assert sim.heartbeat().endswith("Z")


def test_whole_session_energy_is_the_register_delta(central, sim):
    start_wh = sim.register_wh
    tx = sim.start_transaction(TAG)
    assert central.backend.statuses[(CP, 1)] == "Charging"
    for _ in range(16):  # 4 h in 15-min steps
        sim.advance(QUARTER)
    meter_stop = sim.stop_transaction("EVDisconnected")
    record = central.backend.transaction(tx)
    assert meter_stop == sim.register_wh == start_wh + EV_W * 4
    assert record.energy_wh == sim.register_wh - start_wh == 29_600
    assert (record.meter_start_wh, record.meter_stop_wh, record.stop_reason) == (start_wh, meter_stop, "EVDisconnected")
    assert (record.start_timestamp, record.stop_timestamp) == (START, START + 4 * 3600)
    # the stop falls on a periodic boundary: that reading and the Transaction.End one are two samples, both kept
    assert [s.timestamp for s in record.samples] == [START + k * QUARTER for k in range(17)] + [START + 4 * 3600]
    assert [s.register_wh for s in record.samples] == [start_wh + k * EV_W // 4 for k in [*range(17), 16]]
    assert {s.power_w for s in record.samples[1:-1]} == {EV_W}
    assert [record.samples[0].context, record.samples[-1].context] == ["Transaction.Begin", "Transaction.End"]
    assert central.backend.statuses[(CP, 1)] == "Available"
    assert sim.queued == 0 and sim.refused == []


def test_set_charging_profile_halves_the_rate_from_that_moment(central, sim):
    tx = sim.start_transaction(TAG)
    for _ in range(8):
        sim.advance(QUARTER)
    assert central.backend.energy_wh(tx) == 14_800
    assert central.set_charging_profile(CP, 1, 3_700, transaction_id=tx) == "Accepted"
    assert (sim.limit_w, sim.power_w) == (3_700, 3_700)
    sim.advance(1_000)  # not on a boundary: 3,700 W * 1,000 s = 1,027.78 Wh, the remainder is kept
    sim.advance(7_200 - 1_000)
    sim.stop_transaction()
    record = central.backend.transaction(tx)
    assert record.energy_wh == 14_800 + 7_400 == sim.register_wh
    assert [s.power_w for s in record.samples[9:17]] == [3_700] * 8
    assert sim.limit_w is None  # the TxProfile ended with its transaction


def test_tx_default_profile_applies_to_the_next_transaction(central, sim):
    assert central.set_charging_profile(CP, 0, 5_000) == "Accepted"  # no transaction: TxDefaultProfile
    tx = sim.start_transaction(TAG)
    sim.advance(3_600)
    assert central.backend.energy_wh(tx) == 5_000
    assert central.set_charging_profile(CP, 1, 11_000, transaction_id=tx) == "Accepted"
    sim.advance(3_600)  # the EV's maximum caps the TxProfile's limit
    assert central.backend.energy_wh(tx) == 5_000 + EV_W


def test_disconnect_mid_session_then_reconnect_delivers_the_queue_in_order(central, sim):
    tx = sim.start_transaction(TAG)
    for _ in range(4):
        sim.advance(QUARTER)
    sim.disconnect()
    assert not sim.online
    central.wait_for(lambda: CP not in central.connected(), what="the server saw the link drop")
    register_at_drop = sim.register_wh
    for _ in range(8):  # 2 h offline: the meter keeps counting, the readings wait
        sim.advance(QUARTER)
    assert sim.register_wh == register_at_drop + 2 * EV_W
    assert sim.queued == 8
    assert central.backend.energy_wh(tx) == EV_W  # nothing could arrive while offline
    assert sim.reconnect() == 8
    central.wait_for(lambda: CP in central.connected(), what="cp-1 reconnected")
    record = central.backend.transaction(tx)
    arrived = [t for tx_id, t in central.backend.arrivals if tx_id == tx]
    assert arrived == sorted(arrived) == [START + k * QUARTER for k in range(13)]
    assert record.energy_wh == sim.register_wh == 3 * EV_W
    assert central.backend.duplicates == 0 and sim.queued == 0
    sim.advance(QUARTER)
    sim.stop_transaction()
    assert central.backend.transaction(tx).energy_wh == sim.register_wh == 3 * EV_W + EV_W // 4


def test_a_resent_message_is_counted_once(central, sim):
    tx = sim.start_transaction(TAG)
    sim.advance(QUARTER)
    sim.drop_next_reply()  # the central system will handle the next MeterValues, its answer is lost
    sim.advance(QUARTER)
    assert not sim.online and sim.queued == 1
    assert central.backend.energy_wh(tx) == EV_W // 2  # handled before its reply was lost
    sim.advance(QUARTER)
    assert sim.reconnect() == 2  # the unacknowledged one again, then the new one
    record = central.backend.transaction(tx)
    assert central.backend.duplicates == 1 and central.backend.conflicts == []
    assert [s.timestamp for s in record.samples] == [START + k * QUARTER for k in range(4)]
    assert record.energy_wh == sim.register_wh == 3 * EV_W // 4


def test_stop_transaction_while_offline_is_delivered_after_reconnect(central, sim):
    tx = sim.start_transaction(TAG)
    sim.advance(2 * QUARTER)
    sim.disconnect()
    sim.advance(QUARTER + 450)  # stop between two boundaries
    meter_stop = sim.stop_transaction("Local")
    assert sim.queued == 2  # one MeterValues, the StopTransaction
    assert central.backend.transaction(tx).open
    with pytest.raises(OfflineError):  # a new transaction needs its id from the central system
        sim.start_transaction(TAG)
    with pytest.raises(OfflineError):  # no local authorization list
        sim.authorize(TAG)
    assert sim.reconnect() == 2
    record = central.backend.transaction(tx)
    assert not record.open
    assert (record.meter_stop_wh, record.stop_timestamp) == (meter_stop, START + 3 * QUARTER + 450)
    assert record.energy_wh == meter_stop == EV_W * 3_150 // 3_600
    assert record.samples[-1].context == "Transaction.End"
    central.wait_for(lambda: central.backend.statuses[(CP, 1)] == "Available", what="status Available")


def test_signed_readings_reach_the_backend(central):
    def signer(reading) -> str:
        return f"sig:{reading.timestamp}:{reading.register_wh}"

    with ChargePointSim("cp-signed", central.url, START, 11_000, meter_interval_s=600, signer=signer) as sim:
        sim.connect()
        tx = sim.start_transaction(TAG)
        sim.advance(1_800)
        sim.stop_transaction()
    record = central.backend.transaction(tx)
    assert [s.signed_data for s in record.samples] == [f"sig:{s.timestamp}:{s.register_wh}" for s in record.samples]
    assert [s.timestamp - START for s in record.samples] == [0, 600, 1_200, 1_800, 1_800]  # periodic, then End
    assert record.samples[-1].context == "Transaction.End"
    assert record.energy_wh == 5_500


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"period": {"startPeriod": 0, "limit": -100}}, "chargingSchedulePeriod[0].limit"),
        ({"period": {"startPeriod": 60, "limit": 100}}, "chargingSchedulePeriod[0].startPeriod"),
        ({"chargingProfilePurpose": "ChargePointMaxProfile"}, "chargingProfilePurpose"),
        ({"chargingProfilePurpose": "TxProfile", "transactionId": 999}, "transactionId"),
        ({"chargingProfileKind": "Recurring", "recurrencyKind": "Daily"}, "chargingProfileKind"),
        ({"validTo": "2030-01-01T00:00:00Z"}, "validTo"),
    ],
)
def test_malformed_charging_profiles_are_rejected(central, sim, overrides, field):
    tx = sim.start_transaction(TAG)
    assert central.send_charging_profile(CP, 1, profile_dict(**overrides)) == "Rejected"
    assert sim.limit_w is None
    assert field in sim.rejected_profiles[-1]
    sim.advance(3_600)
    assert central.backend.energy_wh(tx) == EV_W  # nothing changed


def test_charging_profiles_refused_before_they_reach_the_charge_point(central, sim):
    two_periods = profile_dict()
    two_periods["chargingSchedule"]["chargingSchedulePeriod"].append({"startPeriod": 600, "limit": 1000})
    assert central.send_charging_profile(CP, 1, two_periods) == "Rejected"
    assert central.send_charging_profile(CP, 1, profile_dict(chargingProfilePurpose="TxProfile")) == "Rejected"
    assert "without a transaction" in sim.rejected_profiles[-1]
    with pytest.raises(OCPPError):  # not even the schema: the charge point answers with a CallError
        central.send_charging_profile(
            CP, 1, profile_dict(period={"startPeriod": 0, "limit": "lots"}), validate_schema=False
        )
    with pytest.raises(InputError, match="limit_w: -1 is below 0"):
        central.set_charging_profile(CP, 1, -1)
    with pytest.raises(LookupError, match="cp_id: 'cp-9' is not connected"):
        central.set_charging_profile("cp-9", 1, 1_000)
    assert sim.limit_w is None
    # amperes are converted at the simulator's 230 V, 3 phases (or the period's numberPhases)
    assert (
        central.send_charging_profile(CP, 1, profile_dict(unit="A", period={"startPeriod": 0, "limit": 16}))
        == "Accepted"
    )
    assert sim.limit_w == 16 * 230 * 3
    single = profile_dict(unit="A", period={"startPeriod": 0, "limit": 10.5, "numberPhases": 1})
    assert central.send_charging_profile(CP, 1, single) == "Accepted"
    assert sim.limit_w == 2_415


def test_the_server_stops_cleanly():
    before = set(threading.enumerate())
    central = CentralSystem(RecordingBackend([TAG])).start()
    url = central.url
    sim = ChargePointSim(CP, url, START, EV_W)
    sim.connect()
    sim.start_transaction(TAG)
    central.stop()  # closes the open connection too
    assert central._loop is None
    sim.advance(QUARTER)  # the charge point is offline now: the reading waits
    assert not sim.online and sim.queued == 1
    with pytest.raises(OSError):
        sim.reconnect()  # nobody listens any more
    sim.close()
    assert set(threading.enumerate()) == before


def test_bad_simulator_input_names_the_field(central):
    with pytest.raises(InputError, match="cp_id"):
        ChargePointSim("a/b", central.url, START, EV_W)
    with pytest.raises(InputError, match="ev_max_power_w: -1 is below 0"):
        ChargePointSim(CP, central.url, START, -1)
    with pytest.raises(InputError, match="meter_interval_s: 0 is below 1"):
        ChargePointSim(CP, central.url, START, EV_W, meter_interval_s=0)
    with ChargePointSim(CP, central.url, START, EV_W) as sim:
        with pytest.raises(InputError, match="seconds: -5 is below 0"):
            sim.advance(-5)
        with pytest.raises(InputError, match="reason"):
            sim.stop_transaction("Bored")
        with pytest.raises(InputError, match="id_tag"):
            sim.authorize("x" * 21)


# --------------------------------------------------------------------------------------------- without network


class Pipe:
    """One end of an in-memory, message-preserving connection: what one end sends the other receives."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[str] = asyncio.Queue()
        self.peer: Pipe | None = None

    async def send(self, message: str) -> None:
        await self.peer.inbox.put(message)

    async def recv(self) -> str:
        return await self.inbox.get()


def test_the_protocol_without_network():
    backend = RecordingBackend([TAG])
    profiles: list[tuple[int, dict]] = []

    def on_profile(connector_id: int, profile: dict) -> str:
        profiles.append((connector_id, profile))
        return "Accepted"

    def meter_values(tx: int, t: int, wh: int, value: str | None = None) -> call.MeterValues:
        sampled = [
            {"value": value or str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
        ]
        return call.MeterValues(
            connector_id=1, transaction_id=tx, meter_value=[{"timestamp": iso_utc(t), "sampledValue": sampled}]
        )

    async def exchange() -> None:
        a, b = Pipe(), Pipe()
        a.peer, b.peer = b, a
        server = CentralChargePoint("cp-mem", a, backend, clock=lambda: START)
        client = ChargePointProtocol("cp-mem", b, on_profile)
        tasks = [asyncio.create_task(server.start()), asyncio.create_task(client.start())]
        boot = await client.call(call.BootNotification(charge_point_model="m", charge_point_vendor="v"))
        assert (boot.status, boot.current_time) == ("Accepted", iso_utc(START))
        start = await client.call(
            call.StartTransaction(connector_id=1, id_tag=TAG, meter_start=1_000, timestamp=iso_utc(START))
        )
        tx = start.transaction_id
        again = await client.call(
            call.StartTransaction(connector_id=1, id_tag=TAG, meter_start=1_000, timestamp=iso_utc(START))
        )
        assert again.transaction_id == tx  # a resent StartTransaction opens nothing new
        await client.call(meter_values(tx, START + 900, 2_850))
        await client.call(meter_values(tx, START + 900, 2_850))  # resent: ignored
        # not a number: the message is refused whole, naming the field, and kept apart as an anomaly
        with pytest.raises(PropertyConstraintViolationError) as refused:
            await client.call(meter_values(tx, START + 1_800, 0, value="abc"), suppress=False)
        assert refused.value.description == "meterValue[0].sampledValue[0].value: 'abc' is not a decimal number"
        status = await server.call(
            call.SetChargingProfile(
                connector_id=1, cs_charging_profiles=charging_profile(3_700, profile_id=1, transaction_id=tx)
            )
        )
        assert status.status == "Accepted"
        await client.call(call.StopTransaction(meter_stop=4_000, timestamp=iso_utc(START + 1_800), transaction_id=tx))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(exchange())
    record = backend.transaction(1)
    assert record.samples == (MeterSample(START + 900, 2_850, 7_400),)  # OCPP's default context: Sample.Periodic
    assert (record.energy_wh, backend.duplicates) == (3_000, 1)
    [bad] = record.anomalies
    assert (bad.kind, bad.detail) == ("bad value", "meterValue[0].sampledValue[0].value: 'abc' is not a decimal number")
    [(connector_id, profile)] = profiles
    assert connector_id == 1
    assert profile["charging_profile_purpose"] == "TxProfile" and profile["transaction_id"] == 1
    assert profile["charging_schedule"]["charging_rate_unit"] == "W"
    assert profile["charging_schedule"]["charging_schedule_period"] == [{"start_period": 0, "limit": 3_700}]


def test_clock_aligned_readings_fall_on_interval_boundaries(central):
    start = START + 450  # mid-interval
    with ChargePointSim("cp-clock", central.url, start, 7_400, meter_interval_s=900, clock_aligned=True) as sim:
        sim.connect()
        tx = sim.start_transaction(TAG)
        sim.advance(2_000)
        sim.stop_transaction()
    record = central.backend.transaction(tx)
    periodic = [s for s in record.samples if s.context == "Sample.Clock"]
    assert [s.timestamp % 900 for s in periodic] == [0, 0] and periodic[0].timestamp == (start // 900 + 1) * 900
    assert record.energy_wh == 7_400 * 2_000 // 3_600


def test_a_central_system_gone_away_is_retried_with_backoff_until_the_queue_is_delivered(central, sim):
    tx = sim.start_transaction(TAG)
    port, backend = central.port, central.backend
    central.stop()  # the central system went away (the test's fixture stops it again: a no-op)
    sim.advance(2 * QUARTER)
    sim.stop_transaction()
    assert sim.queued == 3 and not sim.online
    pauses, restarted = [], []

    def sleep(pause_s: float) -> None:  # the central system is back after the second pause
        pauses.append(pause_s)
        if len(pauses) == 2:
            restarted.append(CentralSystem(backend, port=port).start())

    try:
        assert sim.deliver_with_backoff(30, first_s=0.01, sleep=sleep) == 3
    finally:
        for again in restarted:
            again.stop()
    assert pauses == [0.01, 0.02] and sim.queued == 0 and not backend.transaction(tx).open
    sim.disconnect()  # and gone for good: the deadline ends the retries
    with pytest.raises(OfflineError, match="undelivered"):
        sim.deliver_with_backoff(0.05, first_s=0.01, sleep=lambda _: None)


def test_requests_a_restarted_central_system_did_not_answer_are_sent_again_after_reconnect(central):
    """Boot while the central system is down, then StartTransaction across a restart (its answer lost): each is
    retried with backoff over a new link, and the resent start gets the same transaction id."""
    port, backend, url = central.port, central.backend, central.url
    central.stop()
    restarted = []

    def back_after_two_pauses(pause_s: float) -> None:
        if len(restarted) == 0 and pause_s >= 0.02:
            restarted.append(CentralSystem(backend, port=port).start())

    with ChargePointSim(CP, url, START, EV_W) as sim:
        try:
            assert sim.call_with_backoff(sim.connect, 30, first_s=0.01, sleep=back_after_two_pauses) == "Accepted"
            tx = sim.call_with_backoff(lambda: sim.start_transaction(TAG), 30, sleep=lambda _: None)
            sim.disconnect()
            sim.meter.transaction_id = None  # as if the StartTransaction's answer had been lost with the link
            again = sim.call_with_backoff(lambda: sim.start_transaction(TAG), 30, sleep=lambda _: None)
        finally:
            for server in restarted:
                server.stop()
        assert again == tx and len(backend.transactions()) == 1
        with pytest.raises(OfflineError, match="no answer from the central system within"):
            sim.call_with_backoff(sim.heartbeat, 0.05, first_s=0.01, sleep=lambda _: None)


def test_a_refused_request_is_not_retried(central, sim):
    calls = []

    def refused() -> None:
        calls.append(1)
        sim.start_transaction("TAG-NOBODY")

    with pytest.raises(RefusedError):
        sim.call_with_backoff(refused, 30, sleep=lambda _: None)
    assert calls == [1]
