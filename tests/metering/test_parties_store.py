"""Metering's state in the store (both backends): a station's sessions from intent to settlement and a gateway's
readings and anchors survive a restart, and every intent a killed run left is checked on chain, so a session
settles once and a day is anchored once (the embedded chain)."""

from __future__ import annotations

import pytest

from gridchain.metering import model as m
from gridchain.metering.parties import ChargePointMeter, MeterGateway, sign_session_start
from gridchain.metering.parties_store import MeteringStore
from gridchain.metering.service import PendingSession, RoamingStation, id_tag_of
from gridchain.ocpp.backend import RecordingBackend
from gridchain.ocpp.messages.meter_values import MeterSample
from gridchain.ocpp.meter import Reading
from gridchain.ocpp.store import OcppStore
from tests.metering.test_parties import Net

I = m.INTERVAL_S  # noqa: E741
MAX_COST = 10**15


@pytest.fixture
def site(store):
    net = Net()
    net.client.deposit(net.owner, 3 * MAX_COST)
    return net, MeteringStore.open(store), OcppStore.open(store)


def _station(net, sessions, ocpp_store) -> RoamingStation:
    backend = RecordingBackend(store=ocpp_store)
    return RoamingStation(net.client, net.host, backend, net.cp.address, MAX_COST, sessions)


def _charge(net, station, start) -> int:
    """One finished transaction of the admitted start, with the meter's signed session reading; its id."""
    cpm = ChargePointMeter(net.cp)
    cpm.expect(net.client.session_id(start), start.start)
    t = start.start
    tag = station.pending[net.client.session_id(start)].id_tag
    tx = station.backend.start_transaction("CP1", 1, tag, 0, t)
    cpm(Reading(t, 0, None, "Transaction.Begin"))
    signed = cpm(Reading(t + 600, 1000, None, "Transaction.End"))
    sample = MeterSample(t + 600, 1000, None, signed, "Transaction.End")
    station.backend.stop_transaction("CP1", tx, 1000, t + 600, "Local", [sample])
    net.gateway.advance_time(2 * I)
    return tx


def test_a_session_settles_once_across_restarts(site):
    net, sessions, ocpp_store = site
    station = _station(net, sessions, ocpp_store)
    start, sig = sign_session_start(net.ev_key, net.client.domain(), net.cp.address, net.gateway.now(), MAX_COST)
    tag = station.announce(start, sig)
    sid = net.client.session_id(start)
    assert sessions.session(sid).state == "pending"

    restarted = _station(net, sessions, ocpp_store)
    assert restarted.restore() == {"pending": 1} and list(restarted.pending) == [sid]
    assert restarted.backend.authorize("CP1", tag)
    tx = _charge(net, restarted, start)
    settled = restarted.settle(tx)
    row = sessions.session(sid)
    assert (row.state, row.transaction_id) == ("settled", tx) and row.tx_hash.startswith("0x")
    assert settled.energy_wh == 1000

    after = _station(net, sessions, ocpp_store)
    assert after.restore() == {} and not after.pending
    with pytest.raises(Exception, match="settled already"):
        after.announce(start, sig)


def test_a_settlement_killed_after_sending_is_found_on_chain(site):
    net, sessions, ocpp_store = site
    station = _station(net, sessions, ocpp_store)
    start, sig = sign_session_start(net.ev_key, net.client.domain(), net.cp.address, net.gateway.now(), MAX_COST)
    station.announce(start, sig)
    tx = _charge(net, station, start)
    session = station.signed_session(tx)
    pending = station.pending[session.reading.session]
    station._save(pending, "settling", transaction_id=tx)  # the intent was written ...
    _, receipt = net.client.settle_session(net.host, session)  # ... the transaction sent, then SIGKILL

    restarted = _station(net, sessions, ocpp_store)
    assert restarted.restore() == {"settled": 1} and not restarted.pending
    row = sessions.session(session.reading.session)
    assert (row.state, row.tx_hash, row.transaction_id) == ("settled", receipt.tx_hash, tx)


def test_a_settlement_killed_before_sending_is_pending_again(site):
    net, sessions, ocpp_store = site
    station = _station(net, sessions, ocpp_store)
    start, sig = sign_session_start(net.ev_key, net.client.domain(), net.cp.address, net.gateway.now(), MAX_COST)
    station.announce(start, sig)
    tx = _charge(net, station, start)
    station._save(station.pending[net.client.session_id(start)], "settling", transaction_id=tx)

    restarted = _station(net, sessions, ocpp_store)
    assert restarted.restore() == {"pending": 1}
    assert restarted.settle(tx).energy_wh == 1000 and sessions.session(net.client.session_id(start)).state == "settled"


def test_a_reservation_killed_mid_way_is_resolved_by_the_chain(site):
    net, sessions, ocpp_store = site
    station = _station(net, sessions, ocpp_store)
    domain, now = net.client.domain(), net.gateway.now()
    sent, sent_sig = sign_session_start(net.ev_key, domain, net.cp.address, now, MAX_COST)
    lost, lost_sig = sign_session_start(net.ev_key, domain, net.cp.address, now + 1, MAX_COST)
    for start, sig in ((sent, sent_sig), (lost, lost_sig)):
        sid = net.client.session_id(start)
        station._save(PendingSession(sid, start, sig, id_tag_of(start.ev)), "reserving")
    net.client.reserve(net.host, sent, sent_sig)  # the first one's reservation was sent before the kill

    restarted = _station(net, sessions, ocpp_store)
    assert restarted.restore() == {"pending": 1, "abandoned": 1}
    assert list(restarted.pending) == [net.client.session_id(sent)]
    assert sessions.session(net.client.session_id(lost)).state == "abandoned"
    assert restarted.announce(lost, lost_sig)  # an abandoned start may be announced again


def test_a_start_resent_after_a_restart_is_admitted_again_and_reserved_once(site):
    """The central system killed after it reserved (the charge point never got the answer), or while the
    reservation was on its way (it landed after the restart looked): the charge point's resent start gets the id
    tag, and the chain holds one reservation."""
    net, sessions, ocpp_store = site
    station = _station(net, sessions, ocpp_store)
    domain, now = net.client.domain(), net.gateway.now()
    answered, answered_sig = sign_session_start(net.ev_key, domain, net.cp.address, now, MAX_COST)
    late, late_sig = sign_session_start(net.ev_key, domain, net.cp.address, now + 1, MAX_COST)
    tag = station.announce(answered, answered_sig)
    late_id = net.client.session_id(late)
    station._save(PendingSession(late_id, late, late_sig, id_tag_of(late.ev)), "reserving")

    restarted = _station(net, sessions, ocpp_store)
    assert restarted.restore() == {"pending": 1, "abandoned": 1}
    net.client.reserve(net.host, late, late_sig)  # the reservation sent before the kill lands now
    assert restarted.announce(answered, answered_sig) == tag
    assert restarted.announce(late, late_sig) == tag  # not reserved again ("session already reserved")
    assert sessions.session(late_id).state == "pending" and set(restarted.pending) == {
        net.client.session_id(answered),
        late_id,
    }
    assert net.client.escrow(net.owner) == MAX_COST  # 3 deposited, 2 reserved: each once
    assert restarted.backend.authorize("CP1", tag)


def test_the_gateway_proves_after_a_restart_and_never_anchors_a_day_twice(site):
    net, sessions, _ = site
    day = net.day0 // m.PERIOD_S
    readings = [net.meter.sign_reading(net.day0 + i * I, 100 + i) for i in range(4)]
    gateway = MeterGateway(net.client, net.ami, sessions)
    assert gateway.collect(readings) == 4
    net.gateway.advance_time(net.day0 + m.PERIOD_S - net.gateway.now())
    receipt = gateway.anchor(net.meter.address, day)

    restarted = MeterGateway(net.client, net.ami, sessions)
    assert restarted.restore() == 1
    assert restarted.anchored[(net.meter.address.lower(), day)][1] == receipt.tx_hash
    proof = restarted.proof(net.meter.address, net.day0 + 2 * I)
    assert net.client.verify_reading(proof.signed, proof.proof)
    with pytest.raises(ValueError, match="already anchored"):
        restarted.collect(readings[:1])


def test_an_anchor_killed_before_sending_is_forgotten_and_one_sent_is_kept(site):
    net, sessions, _ = site
    day = net.day0 // m.PERIOD_S
    readings = [net.meter.sign_reading(net.day0 + i * I, 100 + i) for i in range(3)]
    gateway = MeterGateway(net.client, net.ami, sessions)
    gateway.collect(readings)
    root = m.merkle_root([net.client.digest(s.reading) for s in readings])
    sessions.put_anchor(net.meter.address, day, root, 3, "anchoring", None)
    assert MeterGateway(net.client, net.ami, sessions).restore() == 0  # not on chain: forgotten
    assert sessions.anchors() == []
    net.gateway.advance_time(net.day0 + m.PERIOD_S - net.gateway.now())
    sessions.put_anchor(net.meter.address, day, root, 3, "anchoring", None)
    net.client.anchor_root(net.ami, net.meter.address, day, root, 3)  # sent, then SIGKILL
    assert MeterGateway(net.client, net.ami, sessions).restore() == 1
    assert [a[4] for a in sessions.anchors()] == ["anchored"]
