"""contracts/metering.vy against its twin (gridchain.metering.model), through the harness: one positive and one
negative test per function and revert reason, boundary tables, Merkle proofs on chain, tariffs, reservations and
money. The attacks of issue 14 (holes 6, 7, 11-13) are in test_attacks_metering.py."""

from __future__ import annotations

import boa
import pytest
from eth_account import Account

from gridchain.metering import model as m
from tests.metering.harness import COMMUNITY, MAX_COST, NOTICE, PEAK, Metering, deployer, refused

I = m.INTERVAL_S  # noqa: E741
ETH = 10**18


@pytest.fixture
def net():
    return Metering()


def test_constructor_notice_bounds():
    deployer().deploy(m.MAX_NOTICE_S)
    with boa.reverts("metering: notice_s out of range"):
        deployer().deploy(m.MAX_NOTICE_S + 1)


# -- the registry ----------------------------------------------------------------------------------------
def test_registered_meter_and_ev_read_back(net):
    host = net.hosts[0].address
    assert net.c.meter(net.meters[0].address) == (host, COMMUNITY, 1000)
    assert str(net.c.ev_owner(net.evs[0].address)).lower() == net.ev_owners[0].address.lower()


@pytest.mark.parametrize(
    "args, reason",
    [
        (lambda n: (m.ZERO, n.hosts[0].address, 1, 1), "meter is the zero address"),
        (lambda n: (Account.create().address, m.ZERO, 1, 1), "owner is the zero address"),
        (lambda n: (Account.create().address, n.hosts[0].address, m.MAX_COMMUNITY + 1, 1), "community out of range"),
        (lambda n: (Account.create().address, n.hosts[0].address, 1, m.MAX_PREMISES + 1), "premises out of range"),
        (lambda n: (n.meters[0].address, n.hosts[0].address, 1, 1), "meter already registered"),
    ],
)
def test_register_meter_refusals(net, args, reason):
    with refused(reason):
        net.register_meter(*args(net))


def test_register_meter_boundaries(net):
    net.register_meter(Account.create().address, net.hosts[0].address, m.MAX_COMMUNITY, m.MAX_PREMISES)


def test_only_the_utility_registers(net):
    stranger = net.new_account().address
    with refused("caller is not the owner"):
        net.register_meter(Account.create().address, stranger, 1, 1, sender=stranger)
    with refused("caller is not the owner"):
        net.register_ev(Account.create().address, stranger, sender=stranger)
    with refused("caller is not the owner"):
        net.set_gateway(stranger, True, sender=stranger)
    with refused("caller is not the owner"):
        net.set_tariff(COMMUNITY, net.now + I, PEAK, sender=stranger)


def test_register_ev_refusals(net):
    with refused("ev is the zero address"):
        net.register_ev(m.ZERO, net.ev_owners[0].address)
    with refused("owner is the zero address"):
        net.register_ev(Account.create().address, m.ZERO)
    with refused("EV already registered"):
        net.register_ev(net.evs[0].address, net.ev_owners[1].address)


def test_gateways_can_be_revoked(net):
    net.set_gateway(net.gateway, False)
    with refused("gateway is the zero address"):
        net.set_gateway(m.ZERO, True)


# -- tariffs ---------------------------------------------------------------------------------------------
def test_set_tariff_rules(net):
    with refused("tariff would start in the past"):
        net.set_tariff(COMMUNITY, net.now - I, PEAK)
    with refused("effective_from not on an interval boundary"):
        net.set_tariff(COMMUNITY, net.now + I + 1, PEAK)
    with refused("tariff must start after the last one"):
        net.set_tariff(COMMUNITY, net.now, PEAK)  # the first version starts now already
    with refused("price out of range"):
        net.set_tariff(COMMUNITY, net.now + I, (m.MAX_PRICE + 1,) + PEAK[1:])
    with refused("community out of range"):
        net.set_tariff(m.MAX_COMMUNITY + 1, net.now + I, PEAK)
    net.set_tariff(COMMUNITY, net.now + I, (m.MAX_PRICE,) * 24)
    assert net.events["TariffSet"] == [
        {"community": COMMUNITY, "version": 1, "effective_from": net.now + I, "prices_wei_per_kwh": [m.MAX_PRICE] * 24}
    ]


@pytest.mark.parametrize("hour", range(24))
def test_price_at_each_hour_matches_the_twin(net, hour):
    t = net.now + hour * 3600
    assert net.c.price_at(COMMUNITY, t) == m.tariff_in_force(net.model.tariffs[COMMUNITY], t).price_at(t) == PEAK[hour]


def test_price_at_a_version_boundary(net):
    later = net.now + 2 * 86400
    net.set_tariff(COMMUNITY, later, (5,) * 24)
    assert net.c.price_at(COMMUNITY, later - 1) == PEAK[23]
    assert net.c.price_at(COMMUNITY, later) == 5
    with boa.reverts("metering: no tariff in force"):
        net.c.price_at(COMMUNITY + 1, later)
    with boa.reverts("metering: no tariff in force"):
        net.c.price_at(COMMUNITY, net.now - 1)


# -- anchoring and proving readings ----------------------------------------------------------------------
def test_a_day_of_readings_anchors_and_each_proves(net):
    period = net.now // m.PERIOD_S
    readings, sigs, leaves = net.signed_readings(0, period)
    root = m.merkle_root(leaves)
    net.travel_to((period + 1) * m.PERIOD_S)
    net.anchor(net.meters[0].address, period, root, len(readings))  # the harness checks the event
    for i in (0, 1, 47, 95):
        assert net.verify(readings[i], sigs[i], m.merkle_proof(leaves, i))


def test_tampered_forged_or_unanchored_readings_do_not_prove(net):
    period = net.now // m.PERIOD_S
    readings, sigs, leaves = net.signed_readings(0, period, 10)
    net.travel_to((period + 1) * m.PERIOD_S)
    net.anchor(net.meters[0].address, period, m.merkle_root(leaves), 10)
    proof = m.merkle_proof(leaves, 3)
    r = readings[3]
    tampered = m.Reading(r.meter, r.interval_start, r.active_wh + 1, r.reactive_varh)
    assert not net.verify(tampered, sigs[3], proof)  # changed energy: another leaf
    assert not net.verify(r, sigs[4], proof)  # another reading's signature
    forger = Account.create()
    forged_sig = bytes(Account.unsafe_sign_hash(leaves[3], forger.key).signature)
    assert not net.verify(r, forged_sig, proof)  # the right leaf, signed by someone else
    assert not net.verify(r, sigs[3], m.merkle_proof(leaves, 4))  # a wrong path
    other_day = m.Reading(r.meter, r.interval_start + m.PERIOD_S, r.active_wh, r.reactive_varh)
    assert not net.verify(other_day, sigs[3], proof)  # no root for that day
    assert net.verify(r, sigs[3], proof)


def test_a_root_from_another_meter_does_not_prove(net):
    period = net.now // m.PERIOD_S
    readings, sigs, leaves = net.signed_readings(0, period, 4)
    net.travel_to((period + 1) * m.PERIOD_S)
    net.anchor(net.meters[1].address, period, m.merkle_root(leaves), 4)  # anchored under meter 1
    assert not net.verify(readings[0], sigs[0], m.merkle_proof(leaves, 0))


def test_anchor_refusals_and_boundaries(net):
    period = net.now // m.PERIOD_S
    meter = net.meters[0].address
    root = b"\x01" * 32
    with refused("period not over"):
        net.anchor(meter, period, root, 96)
    net.travel_to((period + 1) * m.PERIOD_S - 1)
    with refused("period not over"):
        net.anchor(meter, period, root, 96)
    net.travel_to((period + 1) * m.PERIOD_S)
    with refused("caller is not a gateway"):
        net.anchor(meter, period, root, 96, sender=net.hosts[0].address)
    with refused("meter not registered"):
        net.anchor(Account.create().address, period, root, 96)
    other = net.new_account().address
    net.set_gateway(other, True)
    with refused("caller is not the meter's gateway"):  # allowed, but not assigned to this meter
        net.anchor(meter, period, root, 96, sender=other)
    with refused("period not over"):  # (period + 1) * 86400 would overflow: no revert without a reason
        net.anchor(meter, 2**256 - 1, root, 96)
    with refused("empty root"):
        net.anchor(meter, period, b"\x00" * 32, 96)
    with refused("count out of range"):
        net.anchor(meter, period, root, 0)
    with refused("count out of range"):
        net.anchor(meter, period, root, 97)
    net.anchor(meter, period, root, 96)
    with refused("period already anchored"):
        net.anchor(meter, period, b"\x02" * 32, 96)
    net.anchor(net.meters[1].address, period, root, 1)


def test_assign_gateway_rules(net):
    meter, stranger = net.meters[0].address, net.new_account().address
    with refused("caller is not the owner"):
        net.assign_gateway(meter, stranger, sender=stranger)
    with refused("meter not registered"):
        net.assign_gateway(Account.create().address, net.gateway)
    net.assign_gateway(meter, m.ZERO)  # no gateway anchors it now
    period = net.now // m.PERIOD_S
    net.travel_to((period + 1) * m.PERIOD_S)
    with refused("caller is not the meter's gateway"):
        net.anchor(meter, period, b"\x01" * 32, 1)
    net.assign_gateway(meter, net.gateway)
    net.anchor(meter, period, b"\x01" * 32, 1)


def test_a_meter_signed_root_replaces_the_gateways_and_only_a_newer_one_replaces_it(net):
    period = net.now // m.PERIOD_S
    readings, sigs, leaves = net.signed_readings(0, period, 8)
    net.travel_to((period + 1) * m.PERIOD_S)
    net.anchor(net.meters[0].address, period, b"\x0b" * 32, 8)  # the gateway's root is wrong
    assert not net.verify(readings[2], sigs[2], m.merkle_proof(leaves, 2))
    root = m.merkle_root(leaves)
    stranger = net.new_account().address
    net.anchor_signed(*net.signed_root(0, period, root, 8, 1), sender=stranger)  # anyone may submit it
    assert net.verify(readings[2], sigs[2], m.merkle_proof(leaves, 2))
    with refused("root version not newer"):  # the same signature again, or the gateway's version
        net.anchor_signed(*net.signed_root(0, period, root, 8, 1))
    with refused("period already anchored"):
        net.anchor(net.meters[0].address, period, b"\x0c" * 32, 8)
    net.anchor_signed(*net.signed_root(0, period, b"\x0d" * 32, 8, 2**256 - 1))
    with refused("root version not newer"):
        net.anchor_signed(*net.signed_root(0, period, root, 8, 1))


def test_anchor_signed_root_refusals(net):
    period = net.now // m.PERIOD_S
    root = b"\x0e" * 32
    with refused("period not over"):
        net.anchor_signed(*net.signed_root(0, period, root, 1, 1))
    net.travel_to((period + 1) * m.PERIOD_S)
    with refused("root not signed by the meter"):  # another meter's key
        net.anchor_signed(*net.signed_root(0, period, root, 1, 1, key=net.meters[1]))
    with refused("root not signed by the meter"):  # the gateway cannot sign for the meter
        net.anchor_signed(*net.signed_root(0, period, root, 1, 1, key=Account.create()))
    with refused("root version not newer"):
        net.anchor_signed(*net.signed_root(0, period, root, 1, 0))
    with refused("empty root"):
        net.anchor_signed(*net.signed_root(0, period, b"\x00" * 32, 1, 1))
    with refused("count out of range"):
        net.anchor_signed(*net.signed_root(0, period, root, 97, 1))
    day_root, sig = net.signed_root(0, period, root, 1, 1)
    with refused("meter not registered"):
        net.anchor_signed(m.DayRoot(Account.create().address, period, root, 1, 1), sig)
    with refused("root not signed by the meter"):  # a signed root for another day
        net.anchor_signed(m.DayRoot(day_root.meter, period - 1, root, 1, 1), sig)
    net.anchor_signed(day_root, sig)


# -- the escrow ------------------------------------------------------------------------------------------
def test_escrow_deposit_notice_and_withdrawal(net):
    owner = net.ev_owners[0].address
    with refused("nothing to deposit"):
        net.deposit(owner, 0)
    net.deposit(owner, ETH)
    with refused("no withdrawal requested"):
        net.withdraw_escrow(owner)
    with refused("amount exceeds the escrow"):
        net.request_withdrawal(owner, ETH + 1)
    with refused("amount is 0"):
        net.request_withdrawal(owner, 0)
    net.request_withdrawal(owner, ETH // 4)
    assert net.c.available_escrow(owner) == ETH - ETH // 4
    net.travel_to(net.now + NOTICE - 1)
    with refused("notice period not over"):
        net.withdraw_escrow(owner)
    net.travel_to(net.now + 1)
    assert net.withdraw_escrow(owner) == ETH // 4
    with refused("no withdrawal requested"):
        net.withdraw_escrow(owner)


def test_a_session_settled_during_the_notice_is_paid_first(net):
    owner = net.ev_owners[0].address
    net.deposit(owner, 10**15)
    net.request_withdrawal(owner, 10**15)
    start = net.now
    net.travel_to(start + 4 * I)
    settled = net.settle(net.hosts[0].address, *net.session(0, 0, start, start // I, [1850] * 4))
    net.travel_to(start + NOTICE)
    assert net.withdraw_escrow(owner) == 10**15 - settled.cost_wei


def test_credit_withdrawal(net):
    with refused("no credit"):
        net.withdraw_credit(net.hosts[0].address)


# -- roaming settlement ----------------------------------------------------------------------------------
def funded(net, wei: int = ETH) -> Metering:
    for owner in net.ev_owners:
        net.deposit(owner.address, wei)
    return net


def test_a_session_is_billed_to_the_ev_owner_and_credited_to_the_host(net):
    funded(net)
    start = net.now + 17 * 3600 - 1800  # 16:30: two intervals off-peak, two at peak
    net.travel_to(start + 4 * I)
    s = net.settle(net.ev_owners[1].address, *net.session(0, 1, start, start // I, [1850] * 4))
    assert s.payer == net.ev_owners[0].address.lower() and s.host == net.hosts[1].address.lower()
    assert s.energy_wh == 7400 and s.cost_wei == (2 * 1850 * PEAK[16] + 2 * 1850 * PEAK[17]) // 1000
    assert net.c.credit(net.hosts[1].address) == s.cost_wei
    assert net.withdraw_credit(net.hosts[1].address) == s.cost_wei


def test_nothing_is_billed_twice(net):
    funded(net)
    start = net.now
    net.travel_to(start + 8 * I)
    session = net.session(0, 0, start, start // I, [1000] * 4)
    net.settle(net.hosts[0].address, *session)
    with refused("intervals already billed"):
        net.settle(net.hosts[0].address, *session)  # the same session again
    with refused("intervals already billed"):  # another EV's session overlapping the billed intervals
        net.settle(net.hosts[0].address, *net.session(1, 0, start + 3 * I, start // I + 3, [1000]))
    net.settle(net.hosts[0].address, *net.session(1, 0, start + 4 * I, start // I + 4, [1000]))  # right after
    net.settle(net.hosts[1].address, *net.session(0, 1, start, start // I, [1000]))  # another meter: fine


def test_an_old_signed_start_cannot_bill_the_ev_owner_again(net):
    """The charge point keeps the EV's signed start and later signs more energy for it: refused."""
    funded(net)
    start = net.now
    net.travel_to(start + 8 * I)
    net.settle(net.gateway, *net.session(0, 0, start, start // I, [1000, 1000]))
    with refused("intervals already billed"):  # the same start, any reading that begins in its interval
        net.settle(net.gateway, *net.session(0, 0, start, start // I, [1000, 1000, 1000, 1000]))
    with refused("reading does not begin at the session's start"):  # the same start, later intervals
        net.settle(net.gateway, *net.session(0, 0, start, start // I + 4, [1000]))


def test_unsigned_foreign_or_mismatched_signatures_are_refused(net):
    funded(net)
    start = net.now
    net.travel_to(start + 4 * I)
    stranger = Account.create()
    first = start // I
    with refused("session not signed by the EV"):
        net.settle(net.gateway, *net.session(0, 0, start, first, [500], ev_key=stranger))
    with refused("session not signed by the EV"):  # EV 1's key for EV 0's session: another EV's signature
        net.settle(net.gateway, *net.session(0, 0, start, first, [500], ev_key=net.evs[1]))
    with refused("reading not signed by the meter"):  # a foreign meter's signature
        net.settle(net.gateway, *net.session(0, 0, start, first, [500], meter_key=net.meters[1]))
    with refused("reading not signed by the meter"):
        net.settle(net.gateway, *net.session(0, 0, start, first, [500], meter_key=stranger))
    with refused("reading not signed by the meter"):  # a reading signed for another session
        net.settle(net.gateway, *net.session(0, 0, start, first, [500], session_id=b"\x09" * 32))
    s, ev_sig, reading, meter_sig = net.session(0, 0, start, first, [500])
    inflated = m.SessionReading(reading.session, reading.first_interval, (5000,))
    with refused("reading not signed by the meter"):  # the energy changed after the meter signed
        net.settle(net.gateway, s, ev_sig, inflated, meter_sig)


def test_unregistered_parties_are_refused(net):
    funded(net)
    start = net.now
    net.travel_to(start + I)
    s, ev_sig, reading, meter_sig = net.session(0, 0, start, start // I, [100])
    with refused("EV not registered"):
        net.settle(
            net.gateway,
            m.SessionStart(Account.create().address, s.meter, s.start, s.max_cost_wei),
            ev_sig,
            reading,
            meter_sig,
        )
    with refused("meter not registered"):
        net.settle(
            net.gateway,
            m.SessionStart(s.ev, Account.create().address, s.start, s.max_cost_wei),
            ev_sig,
            reading,
            meter_sig,
        )


def test_settlement_timing_and_size_boundaries(net):
    funded(net)
    start = net.now + I // 2  # mid-interval: the session's first interval is the one containing its start
    first = start // I
    net.travel_to(first * I + 2 * I - 1)
    with refused("session not over"):
        net.settle(net.gateway, *net.session(0, 0, start, first, [10, 10]))
    net.travel_to(first * I + 2 * I)
    with refused("reading does not begin at the session's start"):
        net.settle(net.gateway, *net.session(0, 0, start, first - 1, [10, 10]))
    with refused("reading does not begin at the session's start"):
        net.settle(net.gateway, *net.session(0, 0, start, first + 1, [10]))
    with refused("interval count out of range"):
        net.settle(net.gateway, *net.session(0, 0, start, first, []))
    with refused("interval energy out of range"):
        net.settle(net.gateway, *net.session(0, 0, start, first, [10, m.MAX_INTERVAL_WH + 1]))
    net.settle(net.gateway, *net.session(0, 0, start, first, [m.MAX_INTERVAL_WH, 0]))


def test_ninety_six_intervals_settle_and_ninety_seven_do_not(net):
    funded(net, 10**20)
    start = net.now
    net.travel_to(start + 97 * I)
    net.settle(net.gateway, *net.session(0, 0, start, start // I, [1000] * 96))
    s, ev_sig, reading, meter_sig = net.session(1, 1, start, start // I, [1000] * 97)
    with boa.reverts():  # the ABI decoder refuses a 97-element array before any of our checks
        net.c.settle_session(
            s.ev,
            s.meter,
            s.start,
            s.max_cost_wei,
            *m_compact(ev_sig),
            reading.first_interval,
            list(reading.energy_wh),
            *m_compact(meter_sig),
        )


def m_compact(sig: bytes):
    from gridchain.crypto.keys import compact

    return compact(sig)


def test_an_unreserved_session_is_paid_up_to_the_free_escrow_and_the_rest_is_logged_unpaid(net):
    owner = net.ev_owners[0].address
    start = net.now
    net.travel_to(start + 2 * I)
    cost = 1000 * PEAK[(start % 86400) // 3600] // 1000
    net.deposit(owner, cost - 1)
    s = net.settle(net.gateway, *net.session(0, 0, start, start // I, [1000]))
    assert (s.cost_wei, s.paid_wei, s.unpaid_wei) == (cost, cost - 1, 1) and net.c.escrow(owner) == 0
    nothing = net.settle(net.gateway, *net.session(0, 0, start + I, start // I + 1, [1000]))
    assert (nothing.paid_wei, nothing.unpaid_wei) == (0, cost)  # billed (the intervals are marked), unpaid
    assert net.c.is_billed(net.meters[0].address, start // I + 1)


def test_the_signed_max_cost_caps_what_the_host_is_paid(net):
    funded(net)
    start = net.now
    net.travel_to(start + I)
    cost = 1000 * PEAK[(start % 86400) // 3600] // 1000
    s = net.settle(net.gateway, *net.session(0, 0, start, start // I, [1000], max_cost=cost - 7))
    assert (s.cost_wei, s.paid_wei) == (cost, cost - 7)
    s = net.settle(net.gateway, *net.session(1, 1, start, start // I, [1000], max_cost=cost))
    assert (s.cost_wei, s.paid_wei) == (cost, cost)


# -- reservations ----------------------------------------------------------------------------------------
def test_a_reserved_session_is_paid_from_its_reservation_and_the_rest_returns(net):
    owner, host = net.ev_owners[0].address, net.hosts[0].address
    net.deposit(owner, MAX_COST + 5)
    start = net.now
    s, ev_sig, reading, meter_sig = net.session(0, 0, start, start // I, [1850] * 4)
    sid = net.reserve(host, s, ev_sig)
    assert net.c.reserved(sid) == MAX_COST and net.c.escrow(owner) == 5 and net.c.available_escrow(owner) == 5
    assert bytes(net.c.session_id(s.ev, s.meter, s.start, s.max_cost_wei)) == sid
    net.travel_to(start + 4 * I)
    settled = net.settle(net.gateway, s, ev_sig, reading, meter_sig)
    assert settled.paid_wei == settled.cost_wei < MAX_COST
    assert net.c.reserved(sid) == 0 and net.c.escrow(owner) == MAX_COST + 5 - settled.cost_wei
    with refused("no reservation"):
        net.release(host, s)


@pytest.mark.parametrize(
    "case, reason",
    [
        ("unregistered ev", "EV not registered"),
        ("unregistered meter", "meter not registered"),
        ("not the host", "caller is not the meter's owner"),
        ("another EV's signature", "session not signed by the EV"),
        ("zero max cost", "max cost is zero"),
        ("start ahead", "start too far ahead"),
        ("start too old", "reservation would be expired"),
        ("twice", "session already reserved"),
        ("billed start", "start interval already billed"),
        ("escrow short by one", "escrow too low"),
        ("escrow under notice", "escrow too low"),
    ],
)
def test_reserve_refusals(net, case, reason):
    owner, host = net.ev_owners[0].address, net.hosts[0].address
    net.deposit(owner, MAX_COST)
    start = net.now
    s, ev_sig, reading, meter_sig = net.session(0, 0, start, start // I, [100])
    sender = host
    if case == "unregistered ev":
        s = m.SessionStart(Account.create().address, s.meter, s.start, s.max_cost_wei)
    elif case == "unregistered meter":
        s = m.SessionStart(s.ev, Account.create().address, s.start, s.max_cost_wei)
    elif case == "not the host":
        sender = net.hosts[1].address
    elif case == "another EV's signature":
        s, ev_sig = net.session(0, 0, start, start // I, [100], ev_key=net.evs[1])[:2]
    elif case == "zero max cost":
        s, ev_sig = net.session(0, 0, start, start // I, [100], max_cost=0)[:2]
    elif case == "start ahead":
        s, ev_sig = net.session(0, 0, start + I + 1, (start + I + 1) // I, [100])[:2]
    elif case == "start too old":
        net.travel_to(start + m.RESERVATION_S)
    elif case == "twice":
        net.deposit(owner, MAX_COST)
        net.reserve(host, s, ev_sig)
    elif case == "billed start":
        net.travel_to(start + I)
        net.settle(net.gateway, *net.session(1, 0, start + 1, start // I, [100]))  # another EV, same interval
    elif case == "escrow short by one":
        s, ev_sig = net.session(0, 0, start, start // I, [100], max_cost=MAX_COST + 1)[:2]
    elif case == "escrow under notice":
        net.request_withdrawal(owner, 1)
    with refused(reason):
        net.reserve(sender, s, ev_sig)


def test_reserve_boundaries(net):
    owner, host = net.ev_owners[0].address, net.hosts[0].address
    net.deposit(owner, 3 * MAX_COST)
    net.request_withdrawal(owner, MAX_COST)
    start = net.now
    s, ev_sig = net.session(0, 0, start, start // I, [1], max_cost=2 * MAX_COST)[:2]  # all that is not noticed
    net.travel_to(start + m.RESERVATION_S - 1)  # the last second before the time-out
    net.reserve(host, s, ev_sig)
    assert net.c.available_escrow(owner) == 0 and net.c.escrow(owner) == MAX_COST
    net.request_withdrawal(owner, 1)
    ahead = net.now + I  # one interval of clock skew: the latest start a reservation takes
    s, ev_sig = net.session(0, 0, ahead, ahead // I, [1], max_cost=MAX_COST - 1)[:2]
    net.reserve(host, s, ev_sig)
    s, ev_sig = net.session(1, 0, 2**256 - 1, (2**256 - 1) // I, [1], max_cost=1)[:2]  # no overflow on the way
    with refused("start too far ahead"):
        net.reserve(host, s, ev_sig)


def test_no_tariff_at_the_start_refuses_a_reservation():
    net = Metering(tariff=False)
    net.deposit(net.ev_owners[0].address, MAX_COST)
    s, ev_sig = net.session(0, 0, net.now, net.now // I, [1])[:2]
    with refused("no tariff in force"):
        net.reserve(net.hosts[0].address, s, ev_sig)


def test_release_after_the_time_out_by_anyone_and_by_the_host_at_any_time(net):
    owner, host = net.ev_owners[0].address, net.hosts[0].address
    net.deposit(owner, 2 * MAX_COST)
    start = net.now
    s0, sig0 = net.session(0, 0, start, start // I, [1])[:2]
    s1, sig1 = net.session(0, 1, start, start // I, [1])[:2]
    net.reserve(host, s0, sig0)
    net.reserve(net.hosts[1].address, s1, sig1)
    stranger = net.new_account().address
    with refused("no reservation"):
        net.release(stranger, net.session(1, 0, start, start // I, [1])[0])
    net.travel_to(start + m.RESERVATION_S - 1)
    with refused("reservation not expired"):
        net.release(stranger, s0)
    with refused("reservation not expired"):  # another meter's owner is a stranger to this session
        net.release(net.hosts[1].address, s0)
    assert net.release(net.hosts[1].address, s1) == MAX_COST  # its own meter's: at any time
    net.travel_to(start + m.RESERVATION_S)
    assert net.release(stranger, s0) == MAX_COST
    assert net.c.escrow(owner) == 2 * MAX_COST
    with refused("no reservation"):
        net.release(stranger, s0)


def test_no_tariff_in_force_refuses_settlement():
    net = Metering(tariff=False)
    funded(net)
    start = net.now
    net.travel_to(start + I)
    with refused("no tariff in force"):
        net.settle(net.gateway, *net.session(0, 0, start, start // I, [10]))


def test_a_session_across_a_tariff_version_prices_each_interval_by_its_version(net):
    funded(net)
    change = net.now + 2 * 3600
    net.set_tariff(COMMUNITY, change, (7 * 10**14,) * 24)
    start = change - 2 * I
    net.travel_to(change + 2 * I)
    s = net.settle(net.gateway, *net.session(0, 0, start, start // I, [1000] * 4))
    hour = (start % 86400) // 3600
    assert s.cost_wei == (2 * 1000 * PEAK[hour] + 2 * 1000 * 7 * 10**14) // 1000


def test_an_ev_owner_charging_at_home_pays_itself(net):
    """A registered EV at its own owner's meter: the escrow pays the owner's credit; nothing is lost."""
    funded(net)
    net.register_ev(Account.create().address, net.hosts[0].address)
    start = net.now
    net.travel_to(start + I)
    s = net.settle(net.gateway, *net.session(0, 0, start, start // I, [100]))
    assert s.cost_wei > 0
