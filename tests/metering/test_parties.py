"""The meter, the charge point's meter, the gateway and the roaming station (actors/meter.py,
services/roaming.py) on the embedded chain."""

from __future__ import annotations

import pytest
from eth_account import Account

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.crypto import eip712
from gridchain.metering import model as m
from gridchain.metering.client import MeteringClient, SignedReading
from gridchain.metering.parties import (
    ChargePointMeter,
    MeterGateway,
    SmartMeter,
    decode_signed_data,
    session_from_signed_data,
    sign_session_start,
)
from gridchain.metering.service import RoamingRefused, RoamingStation, id_tag_of
from gridchain.ocpp.backend import RecordingBackend

I = m.INTERVAL_S  # noqa: E741


class Net:
    def __init__(self):
        self.gateway = BoaGateway(accounts=4)
        self.utility, self.ami, self.host, self.owner = self.gateway.accounts
        self.client, _ = MeteringClient.deploy(self.gateway, self.utility, 3600)
        domain = self.client.domain()
        self.meter = SmartMeter(Account.create().key, domain)
        self.cp = SmartMeter(Account.create().key, domain)
        self.ev_key = Account.create().key
        self.ev = Account.from_key(self.ev_key).address
        self.client.register_meter(self.utility, self.meter.address, self.host, 1, 1)
        self.client.register_meter(self.utility, self.cp.address, self.host, 1, 1)
        self.client.register_ev(self.utility, self.ev, self.owner)
        self.client.set_gateway(self.utility, self.ami)
        for meter in (self.meter, self.cp):
            self.client.assign_gateway(self.utility, meter.address, self.ami)
        self.day0 = (self.gateway.now() // 86400 + 1) * 86400
        boundary = (self.gateway.now() // I + 1) * I
        self.client.set_tariff(self.utility, 1, boundary, [10**14] * 24)
        self.gateway.advance_time(boundary - self.gateway.now())  # a tariff is in force: sessions can be reserved


@pytest.fixture
def net():
    return Net()


def test_the_gateway_keeps_only_readings_signed_by_their_meter_and_anchors_once(net):
    honest = [net.meter.sign_reading(net.day0 + i * I, 100 + i) for i in range(5)]
    forged_by = SmartMeter(Account.create().key, net.client.domain())
    forged = forged_by.sign_reading(net.day0 + 5 * I, 1)
    impostor = SignedReading(m.Reading(net.meter.address, net.day0 + 6 * I, 1, 0), forged.signature)
    gw = MeterGateway(net.client, net.ami)
    assert gw.collect([*honest, impostor]) == 5
    net.gateway.advance_time(net.day0 + 86400 - net.gateway.now())
    gw.anchor(net.meter.address, net.day0 // 86400)
    proof = gw.proof(net.meter.address, net.day0 + 2 * I)
    assert net.client.verify_reading(proof.signed, proof.proof)
    with pytest.raises(ValueError, match="already anchored"):
        gw.collect([net.meter.sign_reading(net.day0 + 7 * I, 5)])
    with pytest.raises(ValueError, match="no reading"):
        gw.proof(net.meter.address, net.day0 + 9 * I)
    with pytest.raises(ValueError, match="not anchored"):
        gw.proof(net.meter.address, net.day0 + 86400)
    with pytest.raises(ValueError, match="interval_start"):
        net.meter.sign_reading(net.day0 + 1, 5)


def test_the_charge_point_meter_signs_readings_and_the_session_from_its_register(net):
    from gridchain.ocpp.meter import Reading

    cpm = ChargePointMeter(net.cp)
    start, _ = sign_session_start(net.ev_key, net.client.domain(), net.cp.address, net.day0 + 300, 10**15)
    sid = eip712.digest(net.client.domain(), start)
    cpm.expect(sid, start.start)
    assert decode_signed_data(cpm(Reading(net.day0 + 300, 1000, None, "Transaction.Begin")))["kind"] == "begin"
    first = decode_signed_data(cpm(Reading(net.day0 + I, 2200, 7200, "Sample.Clock")))
    assert first["kind"] == "reading" and first["activeWh"] == 1200 and first["intervalStart"] == net.day0
    cpm(Reading(net.day0 + 2 * I, 4000, 7200, "Sample.Clock"))
    reading, signature = session_from_signed_data(
        decode_signed_data(cpm(Reading(net.day0 + 2 * I + 100, 4200, None, "Transaction.End")))
    )
    assert reading == m.SessionReading(sid, net.day0 // I, (1200, 1800, 200))
    assert signature == net.cp.sign_session(reading)
    with pytest.raises(RuntimeError, match="outside a transaction"):
        cpm(Reading(net.day0 + 3 * I, 4200, 0, "Sample.Clock"))


def test_the_station_admits_only_a_registered_ev_whose_max_cost_it_reserved_and_its_own_signature(net):
    station = RoamingStation(net.client, net.host, RecordingBackend(), net.cp.address, min_escrow_wei=10**15)
    domain = net.client.domain()
    now = net.gateway.now()
    start, sig = sign_session_start(net.ev_key, domain, net.cp.address, now, 10**15)
    with pytest.raises(RoamingRefused, match="reservation: metering: escrow too low"):
        station.announce(start, sig)
    assert not station.pending
    net.client.deposit(net.owner, 3 * 10**15)
    assert station.announce(start, sig) == id_tag_of(net.ev) and len(id_tag_of(net.ev)) == 20
    sid = net.client.session_id(start)
    assert net.client.reserved(sid) == 10**15 and net.client.available_escrow(net.owner) == 2 * 10**15
    assert station.announce(start, sig) == id_tag_of(net.ev)  # the same start resent: the same tag, reserved once
    assert net.client.reserved(sid) == 10**15 and net.client.available_escrow(net.owner) == 2 * 10**15
    cheap, sig_cheap = sign_session_start(net.ev_key, domain, net.cp.address, now + 1, 10**15 - 1)
    with pytest.raises(RoamingRefused, match="max_cost_wei"):
        station.announce(cheap, sig_cheap)
    elsewhere, sig2 = sign_session_start(net.ev_key, domain, net.meter.address, now, 10**15)
    with pytest.raises(RoamingRefused, match="meter"):
        station.announce(elsewhere, sig2)
    stranger = Account.create().key
    s3, sig3 = sign_session_start(stranger, domain, net.cp.address, now, 10**15)
    with pytest.raises(RoamingRefused, match="not registered"):
        station.announce(s3, sig3)
    with pytest.raises(RoamingRefused, match="not signed by the EV"):
        station.announce(start, sig3)
    net.client.request_withdrawal(net.owner, 10**15 + 1)  # escrow under notice cannot be reserved
    again, sig4 = sign_session_start(net.ev_key, domain, net.cp.address, now + 2, 10**15)
    with pytest.raises(RoamingRefused, match="escrow too low"):
        station.announce(again, sig4)
    assert list(station.pending) == [sid]
    assert station.release(sid) == 10**15 and not station.pending  # the EV never charged: the host gives it back
    assert net.client.escrow(net.owner) == 3 * 10**15


def test_sign_session_start_refuses_a_max_cost_of_zero(net):
    with pytest.raises(ValueError, match="max_cost_wei: 0"):
        sign_session_start(net.ev_key, net.client.domain(), net.cp.address, net.day0, 0)


def test_a_wrong_anchored_day_is_corrected_with_the_meters_signed_root(net):
    day = net.day0 // 86400
    honest = [net.meter.sign_reading(net.day0 + i * I, 100 + i) for i in range(6)]
    gw = MeterGateway(net.client, net.ami)
    gw.collect(honest[:5])  # the gateway lost a reading and anchors a root without it
    net.gateway.advance_time(net.day0 + 86400 - net.gateway.now())
    gw.anchor(net.meter.address, day)
    day_root, signature = net.meter.sign_day_root(honest, 1)
    with pytest.raises(ValueError, match="day_root"):
        gw.correct(net.meter.address, day, honest[:5], day_root, signature)  # not the root of these readings
    gw.correct(net.meter.address, day, honest, day_root, signature)
    assert net.client.root(net.meter.address, day) == day_root.root
    assert net.client.root_version(net.meter.address, day) == 1
    proof = gw.proof(net.meter.address, net.day0 + 5 * I)
    assert net.client.verify_reading(proof.signed, proof.proof)
    with pytest.raises(ValueError, match="readings"):
        net.meter.sign_day_root([*honest, net.meter.sign_reading(net.day0 + 86400, 1)], 2)


def test_a_transaction_beginning_intervals_after_the_signed_start_pads_zeros(net):
    from gridchain.ocpp.meter import Reading

    cpm = ChargePointMeter(net.cp)
    cpm.expect(b"\x01" * 32, net.day0 + 100)
    cpm(Reading(net.day0 + 2 * I + 10, 500, None, "Transaction.Begin"))
    reading, _ = session_from_signed_data(
        decode_signed_data(cpm(Reading(net.day0 + 2 * I + 610, 1500, None, "Transaction.End")))
    )
    assert reading.first_interval == net.day0 // I and reading.energy_wh == (0, 0, 1000)
    cpm.expect(b"\x02" * 32, net.day0 + 5 * I)
    cpm(Reading(net.day0 + 4 * I, 1500, None, "Transaction.Begin"))
    with pytest.raises(RuntimeError, match="before the EV's signed start"):
        cpm(Reading(net.day0 + 4 * I + 60, 1600, None, "Transaction.End"))
