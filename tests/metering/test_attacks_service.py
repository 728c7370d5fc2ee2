"""Attacks on the host's roaming station (services/roaming.py; issue 14, hole 9, and hole 6 at admission), over
real OCPP 1.6 (the central system and a simulated charge point on 127.0.0.1) and the embedded chain.

Hole 9: the station kept one signed start per id tag, so an EV that plugged in again before its last session
settled overwrote that start, and the first session could never be settled (its reading names the first start's
session id, the station paired it with the second). Every signed start is now kept, by session id, until its
session settles, and a transaction is bound to its start by the session id the meter signed.
"""

from __future__ import annotations

import pytest
from eth_account import Account

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.crypto import eip712
from gridchain.metering import model as m
from gridchain.metering.client import MeteringClient
from gridchain.metering.parties import (
    ChargePointMeter,
    SmartMeter,
    encode_signed_data,
    sign_session_start,
)
from gridchain.metering.service import RoamingRefused, RoamingStation, id_tag_of
from gridchain.ocpp.backend import RecordingBackend
from gridchain.ocpp.central import CentralSystem
from gridchain.ocpp.charge_point import ChargePointSim
from gridchain.ocpp.messages.meter_values import MeterSample

I = m.INTERVAL_S  # noqa: E741
MAX_COST = 10**16  # [wei] each start's signed maximum
MINUTE = 60


class Site:
    """A host's charge point (its meter registered to the host) on the embedded chain, an EV and its owner."""

    def __init__(self) -> None:
        self.gateway = BoaGateway(accounts=3)
        self.utility, self.host, self.owner = self.gateway.accounts
        self.client, _ = MeteringClient.deploy(self.gateway, self.utility, 3600)
        self.domain = self.client.domain()
        self.cp = SmartMeter(Account.create().key, self.domain)
        self.ev_key = Account.create().key
        self.ev = Account.from_key(self.ev_key).address
        self.client.register_meter(self.utility, self.cp.address, self.host, 1, 1)
        self.client.register_ev(self.utility, self.ev, self.owner)
        boundary = (self.gateway.now() // I + 1) * I
        self.client.set_tariff(self.utility, 1, boundary, [10**14] * 24)
        self.gateway.advance_time(boundary - self.gateway.now())
        self.client.deposit(self.owner, 3 * MAX_COST)
        self.backend = RecordingBackend()
        self.station = RoamingStation(self.client, self.host, self.backend, self.cp.address, 10**15)
        self.signer = ChargePointMeter(self.cp)

    def plug_in(self, cp: ChargePointSim, minutes: int) -> tuple[int, bytes]:
        """The EV signs a start at the charge point's time (the chain's clock set to it), the station reserves and
        admits it, and it charges `minutes`; the transaction id and the session id."""
        self.gateway.advance_time(cp.now - self.gateway.now())
        start, signature = sign_session_start(self.ev_key, self.domain, self.cp.address, cp.now, MAX_COST)
        tag = self.station.announce(start, signature)
        sid = eip712.digest(self.domain, start)
        self.signer.expect(sid, start.start)
        assert cp.authorize(tag)
        tx = cp.start_transaction(tag)
        for _ in range(minutes):
            cp.advance(MINUTE)
        cp.stop_transaction()
        return tx, sid


@pytest.fixture
def site():
    return Site()


def test_hole9_a_second_plug_in_before_settlement_leaves_both_sessions_billable(site):
    """The same EV charges twice at the host before the station settles; both settle, in either order."""
    with (
        CentralSystem(site.backend) as central,
        ChargePointSim(
            "host-cp", central.url, site.gateway.now() + 5 * MINUTE, 7_400, signer=site.signer, clock_aligned=True
        ) as cp,
    ):
        cp.connect()
        first, sid1 = site.plug_in(cp, 50)
        cp.advance(70 * MINUTE)  # the EV leaves and comes back two hours after it first plugged in
        second, sid2 = site.plug_in(cp, 43)  # not ending on a 15-minute boundary: hole 8 is the OCPP side's
    assert sid1 != sid2 and set(site.station.pending) == {sid1, sid2}
    assert site.backend.transaction(first).id_tag == site.backend.transaction(second).id_tag == id_tag_of(site.ev)
    site.gateway.advance_time(2 * 3600)
    late = site.station.settle(second)  # the later one first: the earlier stays billable (hole 7)
    early = site.station.settle(first)
    assert (early.session, late.session) == (sid1, sid2)
    for settled, tx in ((early, first), (late, second)):
        assert settled.energy_wh == site.backend.transaction(tx).energy_wh > 0
        assert settled.paid_wei == settled.cost_wei > 0 and site.client.reserved(settled.session) == 0
    assert site.client.credit(site.host) == early.paid_wei + late.paid_wei
    assert site.client.escrow(site.owner) == 3 * MAX_COST - early.paid_wei - late.paid_wei
    assert not site.station.pending
    with pytest.raises(ValueError, match="no signed session reading of a pending session"):
        site.station.signed_session(first)  # settled: its start is forgotten, nothing settles twice


def test_hole9_a_transaction_is_bound_to_its_own_start_by_the_meters_signed_session(site):
    """A session reading that names another pending start than the transaction's id tag is refused."""
    other_key = Account.create().key
    other = Account.from_key(other_key).address
    site.client.register_ev(site.utility, other, site.owner)
    now = site.gateway.now()
    mine, my_sig = sign_session_start(site.ev_key, site.domain, site.cp.address, now, MAX_COST)
    theirs, their_sig = sign_session_start(other_key, site.domain, site.cp.address, now, MAX_COST)
    site.station.announce(mine, my_sig)
    site.station.announce(theirs, their_sig)
    their_sid = eip712.digest(site.domain, theirs)
    reading = m.SessionReading(their_sid, now // I, (500,))
    signed = encode_signed_data(
        "session",
        {
            "session": "0x" + their_sid.hex(),
            "firstInterval": now // I,
            "energyWh": [500],
            "signature": "0x" + site.cp.sign_session(reading).hex(),
        },
    )
    tx = site.backend.start_transaction("cp", 1, id_tag_of(site.ev), 0, now)  # my id tag, their session
    end = MeterSample(timestamp=now + 600, register_wh=500, signed_data=signed, context="Transaction.End")
    site.backend.stop_transaction("cp", tx, 500, now + 600, "Local", [end])
    with pytest.raises(ValueError, match="names the start of id tag"):
        site.station.signed_session(tx)


def test_hole9_the_session_reading_is_found_in_any_sample_and_a_forged_one_is_ignored(site):
    """Whatever context carries the meter's signed session reading, the station finds it; a reading signed by
    another key, or for a session it does not hold, is not its to settle."""
    now = site.gateway.now()
    start, sig = sign_session_start(site.ev_key, site.domain, site.cp.address, now, MAX_COST)
    site.station.announce(start, sig)
    sid = eip712.digest(site.domain, start)
    reading = m.SessionReading(sid, now // I, (700,))

    def session_data(signer: SmartMeter, session: bytes) -> str:
        r = m.SessionReading(session, now // I, (700,))
        return encode_signed_data(
            "session",
            {
                "session": "0x" + session.hex(),
                "firstInterval": now // I,
                "energyWh": [700],
                "signature": "0x" + signer.sign_session(r).hex(),
            },
        )

    forger = SmartMeter(Account.create().key, site.domain)
    tx = site.backend.start_transaction("cp", 1, id_tag_of(site.ev), 0, now)
    site.backend.meter_values(
        "cp",
        tx,
        [
            MeterSample(timestamp=now + 100, register_wh=100, signed_data=session_data(forger, sid)),
            MeterSample(timestamp=now + 200, register_wh=200, signed_data=session_data(site.cp, b"\x07" * 32)),
            MeterSample(timestamp=now + 300, register_wh=300, signed_data="not json"),
            MeterSample(
                timestamp=now + 900, register_wh=700, signed_data=session_data(site.cp, sid), context="Sample.Clock"
            ),
        ],
    )
    site.backend.stop_transaction("cp", tx, 700, now + 900, "Local", [])
    session = site.station.signed_session(tx)
    assert session.reading == reading and session.start == start
    assert site.station.interval_readings() == []  # no interval readings here; the malformed one is skipped


def test_hole6_the_station_admits_an_ev_only_once_its_max_cost_is_reserved(site):
    """Two sessions' worth of free escrow: a third start is refused before the EV may charge, not after."""
    site.client.deposit(site.owner, 1)  # 3 * MAX_COST + 1 in escrow
    site.client.request_withdrawal(site.owner, MAX_COST)  # under notice: cannot be reserved
    now = site.gateway.now()
    tags = set()
    for k in range(2):
        start, sig = sign_session_start(site.ev_key, site.domain, site.cp.address, now + k, MAX_COST)
        tags.add(site.station.announce(start, sig))
    third, sig3 = sign_session_start(site.ev_key, site.domain, site.cp.address, now + 2, MAX_COST)
    with pytest.raises(RoamingRefused, match="reservation: metering: escrow too low"):
        site.station.announce(third, sig3)
    assert len(site.station.pending) == 2 and site.client.available_escrow(site.owner) == 1
