"""The host's central system as a service (RoamingBackend, RoamingCentral): the EV's signed start over OCPP
DataTransfer, each refusal answered with its reason, the allocation seam, and the sessions handed to settlement
(round trip through their JSON), over real OCPP 1.6 on 127.0.0.1 and the embedded chain."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.metering import model as m
from gridchain.metering.client import MeteringClient
from gridchain.metering.parties import (
    SESSION_START,
    VENDOR_ID,
    ChargePointMeter,
    SmartMeter,
    decode_session_start,
    encode_session_start,
    session_id,
    sign_session_start,
)
from gridchain.metering.service import (
    RoamingBackend,
    RoamingCentral,
    RoamingStation,
    reading_from_json,
    signed_session_from_json,
)
from gridchain.ocpp.central import CentralSystem
from gridchain.ocpp.charge_point import ChargePointSim

I = m.INTERVAL_S  # noqa: E741
MAX_COST = 10**16


@pytest.fixture
def site(tmp_path):
    gateway = BoaGateway(accounts=3)
    utility, host, owner = gateway.accounts
    client, _ = MeteringClient.deploy(gateway, utility, 3600)
    meter = SmartMeter(Account.create().key, client.domain())
    ev_key = Account.create().key
    client.register_meter(utility, meter.address, host, 1, 1)
    client.register_ev(utility, Account.from_key(ev_key).address, owner)
    t0 = (gateway.now() // I + 1) * I
    client.set_tariff(utility, 1, t0, [10**14] * 24)
    gateway.advance_time(t0 - gateway.now())
    client.deposit(owner, 3 * MAX_COST)
    log = []
    backend = RoamingBackend(lambda action, fields: log.append(action))
    with CentralSystem(backend) as central:
        service = RoamingCentral(central, backend)
        service.add_station("CP1", RoamingStation(client, host, backend, meter.address, 10**15))
        chain = {"gateway": gateway, "client": client, "meter": meter, "ev_key": ev_key, "t0": t0}
        yield chain | {"log": log, "service": service, "central": central, "path": tmp_path / "sessions.json"}


def test_a_session_start_round_trips_through_data_transfer_data():
    key = Account.create().key
    domain = m.domain(31337, "0x" + "11" * 20)
    start, signature = sign_session_start(key, domain, "0x" + "22" * 20, 900, 5)
    assert decode_session_start(encode_session_start(start, signature)) == (start, signature)
    for bad in (None, "", "[]", '{"ev": 1}', json.dumps({**start.message(), "signature": "0x12"})):
        with pytest.raises(ValueError):
            decode_session_start(bad)


def test_the_central_system_admits_a_signed_start_and_hands_the_session_to_settlement(site):
    t0, domain = site["t0"], site["client"].domain()
    start, sig = sign_session_start(site["ev_key"], domain, site["meter"].address, t0, MAX_COST)
    signer = ChargePointMeter(site["meter"])
    service, path = site["service"], site["path"]
    assert not service.save(path) and not path.exists()  # nothing yet: an earlier run's file would be kept
    with ChargePointSim("CP1", site["central"].url, t0, 7_400, I, signer, clock_aligned=True) as cp:
        cp.connect()
        assert cp.data_transfer(VENDOR_ID, "Other") == ("UnknownMessageId", None)
        assert cp.data_transfer("com.other", SESSION_START) == ("UnknownVendorId", None)
        status, reason = cp.data_transfer(VENDOR_ID, SESSION_START, "{}")
        assert status == "Rejected" and reason.startswith("data: not a signed session start")
        status, tag = cp.data_transfer(VENDOR_ID, SESSION_START, encode_session_start(start, sig))
        assert status == "Accepted" and site["client"].reserved(session_id(domain, start)) == MAX_COST
        again = cp.data_transfer(VENDOR_ID, SESSION_START, encode_session_start(start, sig))
        assert again == ("Accepted", tag) and site["client"].reserved(session_id(domain, start)) == MAX_COST
        signer.expect(session_id(domain, start), t0)
        tx = cp.start_transaction(tag)
        assert service.push_allocation("CP1", 3_700) == "Accepted" and cp.limit_w == 3_700
        cp.advance(2 * I)
        cp.stop_transaction()
    site["central"].wait_for(lambda: not site["service"].backend.transaction(tx).open, what="the stop")
    assert service.save(path) and not service.save(path)  # written once per change
    data = json.loads(path.read_text())
    (entry,) = data["sessions"]
    station = service.backend.stations["CP1"]
    assert entry["transaction_id"] == tx and signed_session_from_json(entry) == station.signed_session(tx)
    assert [reading_from_json(r) for r in data["readings"]] == station.interval_readings()
    assert entry["energy_wh"] == sum(signed_session_from_json(entry).reading.energy_wh) == 3_700 * 2 * I // 3600
    assert site["log"].count("session admitted") == 2 and site["log"].count("session refused") == 1


def test_a_charge_point_of_no_station_is_refused(site):
    with ChargePointSim("CP9", site["central"].url, site["t0"], 7_400) as cp:
        cp.connect()
        status, reason = cp.data_transfer(VENDOR_ID, SESSION_START, "{}")
    assert status == "Rejected" and reason == "cp_id: 'CP9' is no charge point of this operator"
