"""Attacks on contracts/metering.vy (issue 14, holes 6, 7, 11, 12 and 13; hole 9 is the roaming station's:
tests/metering/test_attacks_service.py). Each test is named after the hole it shows and asserts the harm the
attack did before the fix: money lost or stuck, a session unbillable, a meter-day unprovable.

Attackers are fixtures (tests/support/attackers.py): `attacker` / `attackers(n)` are funded accounts with keys,
`hostile("name")` deploys tests/support/fixtures/<name>.vy: `costly_wallet` (a contract wallet whose receive
hook needs more than 2,300 gas) and `reentrant_wallet` (calls back into the contract from inside a payment).
Most tests drive the contract and its twin together through the harness (tests/metering/harness.py, a
`Mirrored`), which compares every account, reservation and billed interval after each call; the tests marked "raw"
use only functions that existed before the fix, so that they also run, and fail on the harm, against the old
contract.
"""

from __future__ import annotations

import boa
import pytest
from eth_account import Account

from gridchain.crypto import eip712
from gridchain.crypto.keys import compact, sign_digest
from gridchain.metering import model as m
from tests.metering.harness import COMMUNITY, MAX_COST, NOTICE, PEAK, Metering, deployer, refused

I = m.INTERVAL_S  # noqa: E741


@pytest.fixture
def net():
    return Metering()


def held(c) -> None:
    """The raw tests' invariant: the contract holds exactly its escrow, reservations and credit."""
    assert boa.env.get_balance(str(c.address)) == c.total_held()


# -- hole 6: escrow reserved per session; settlement never all-or-nothing ----------------------------------------
def test_hole6_two_hosts_each_reserve_at_admission_and_are_paid_while_the_owner_withdraws_the_rest(net):
    """The owner's escrow passes both stations' checks; it charges at two hosts, then withdraws all it can.
    Before: the second host's settlement reverted ("escrow too low") and it got nothing."""
    owner = net.ev_owners[0].address
    host_a, host_b = net.hosts[0].address, net.hosts[1].address
    net.deposit(owner, 2 * MAX_COST + 10**15)
    start = net.now
    a = net.session(0, 0, start, start // I, [1850] * 8)
    b = net.session(0, 1, start + 60, start // I, [1850] * 8)
    net.reserve(host_a, a[0], a[1])
    net.reserve(host_b, b[0], b[1])
    net.request_withdrawal(owner, net.c.escrow(owner))  # everything not reserved: 10**15
    with refused("amount exceeds the escrow"):
        net.request_withdrawal(owner, 10**15 + 1)  # a reserved wei cannot be announced for withdrawal
    net.travel_to(start + NOTICE)
    assert net.withdraw_escrow(owner) == 10**15
    paid = [net.settle(host, *s) for host, s in ((host_a, a), (host_b, b))]
    assert all(s.paid_wei == s.cost_wei > 0 for s in paid)
    assert net.c.credit(host_a) == paid[0].cost_wei and net.c.credit(host_b) == paid[1].cost_wei
    assert net.c.escrow(owner) == 2 * MAX_COST - paid[0].cost_wei - paid[1].cost_wei  # the rest came back


def test_hole6_a_third_station_is_refused_at_admission_not_after_charging(net, attackers):
    """Once the reservations took the escrow, a third station learns it before the EV charges."""
    owner = net.ev_owners[0].address
    net.deposit(owner, 2 * MAX_COST)
    start = net.now
    for meter in (0, 1):
        s, sig = net.session(0, meter, start, start // I, [1])[:2]
        net.reserve(net.hosts[meter].address, s, sig)
    (third,) = attackers(1)
    meter3 = Account.create()
    net.meters.append(meter3)
    net.register_meter(meter3.address, third.address, COMMUNITY, 3)
    s, sig = net.session(0, 2, start, start // I, [1])[:2]
    with refused("escrow too low"):
        net.reserve(third.address, s, sig)


def test_hole6_an_underfunded_settlement_pays_what_is_there_instead_of_reverting(net):
    """Before: all or nothing, so a session that the escrow covered all but one wei paid the host nothing."""
    owner = net.ev_owners[0].address
    start = net.now
    net.travel_to(start + 4 * I)
    session = net.session(0, 0, start, start // I, [1850] * 4)
    cost = m.energy_cost(net.model.tariffs[COMMUNITY], start // I, [1850] * 4)
    net.deposit(owner, cost - 1)
    s = net.settle(net.hosts[0].address, *session)
    assert (s.paid_wei, s.unpaid_wei) == (cost - 1, 1) and net.c.credit(net.hosts[0].address) == cost - 1


def test_hole6_a_withdrawal_racing_a_reservation_never_takes_it(net):
    owner, host = net.ev_owners[0].address, net.hosts[0].address
    net.deposit(owner, MAX_COST)
    start = net.now
    s, sig, reading, meter_sig = net.session(0, 0, start, start // I, [1850] * 4)
    net.request_withdrawal(owner, 1)  # announced first: the reservation may not count on that wei
    with refused("escrow too low"):
        net.reserve(host, s, sig)
    net.request_withdrawal(owner, MAX_COST // 2)
    cheaper, cheaper_sig, reading, meter_sig = net.session(0, 0, start, start // I, [1850] * 4, max_cost=MAX_COST // 2)
    net.reserve(host, cheaper, cheaper_sig)
    with refused("amount exceeds the escrow"):
        net.request_withdrawal(owner, MAX_COST // 2 + 1)
    net.travel_to(start + NOTICE)
    assert net.withdraw_escrow(owner) == MAX_COST // 2
    settled = net.settle(host, cheaper, cheaper_sig, reading, meter_sig)
    assert settled.paid_wei == settled.cost_wei and net.c.escrow(owner) == MAX_COST // 2 - settled.cost_wei


def test_hole6_an_unsettled_reservation_returns_after_the_time_out_only(net, attacker):
    owner, host = net.ev_owners[0].address, net.hosts[0].address
    net.deposit(owner, MAX_COST)
    start = net.now
    s, sig = net.session(0, 0, start, start // I, [1])[:2]
    net.reserve(host, s, sig)
    net.track(attacker.address)
    net.travel_to(start + m.RESERVATION_S - 1)
    with refused("reservation not expired"):  # a stranger cannot strip a host of its guarantee early
        net.release(attacker.address, s)
    net.travel_to(start + m.RESERVATION_S)
    assert net.release(attacker.address, s) == MAX_COST and net.c.escrow(owner) == MAX_COST
    with refused("no reservation"):  # nor release twice
        net.release(attacker.address, s)


def test_hole6_a_host_cannot_lock_more_than_the_ev_signed_nor_twice_nor_for_another_meter(net, attacker):
    """A rogue host holding an EV's signed start: the amount, the meter and the once are all in the signature."""
    owner, host = net.ev_owners[0].address, net.hosts[0].address
    net.deposit(owner, 10 * MAX_COST)
    start = net.now
    s, sig = net.session(0, 0, start, start // I, [1])[:2]
    inflated = m.SessionStart(s.ev, s.meter, s.start, 10 * MAX_COST)
    with refused("session not signed by the EV"):
        net.reserve(host, inflated, sig)
    other_meter = m.SessionStart(s.ev, net.meters[1].address, s.start, s.max_cost_wei)
    with refused("session not signed by the EV"):
        net.reserve(net.hosts[1].address, other_meter, sig)
    with refused("caller is not the meter's owner"):
        net.reserve(attacker.address, s, sig)
    forged = net.session(0, 0, start, start // I, [1], ev_key=attacker.account)[:2]
    with refused("session not signed by the EV"):
        net.reserve(host, *forged)
    net.reserve(host, s, sig)
    with refused("session already reserved"):
        net.reserve(host, s, sig)
    assert net.c.escrow(owner) == 9 * MAX_COST


def test_hole6_hostile_amounts_and_times_neither_overflow_nor_lock(net):
    owner, host = net.ev_owners[0].address, net.hosts[0].address
    net.deposit(owner, MAX_COST)
    start = net.now
    for max_cost, at, reason in (
        (2**256 - 1, start, "escrow too low"),
        (MAX_COST, 2**256 - 1, "start too far ahead"),
        (MAX_COST, 0, "reservation would be expired"),
    ):
        s, sig = net.session(0, 0, at, at // I, [1], max_cost=max_cost)[:2]
        with refused(reason):
            net.reserve(host, s, sig)


# -- hole 7: out-of-order settlement neither loses nor double-bills ------------------------------------------
def test_hole7_settling_a_later_session_first_keeps_the_earlier_ones_billable(net):
    """Three sessions on one meter, settled last first. Before: billed_until jumped to the end of the last,
    and both earlier sessions were refused ("intervals already billed") for good."""
    for owner in net.ev_owners:
        net.deposit(owner.address, 10 * MAX_COST)
    host = net.hosts[0].address
    day = net.now
    starts = (day, day + 2 * 3600, day + 5 * 3600)
    sessions = [net.session(i % 2, 0, t, t // I, [1850] * 4) for i, t in enumerate(starts)]
    net.travel_to(day + 6 * 3600)
    paid = [net.settle(net.gateway, *s) for s in reversed(sessions)]
    assert all(s.paid_wei == s.cost_wei > 0 for s in paid)
    assert net.c.credit(host) == sum(s.cost_wei for s in paid)
    for s in sessions:  # and none twice
        with refused("intervals already billed"):
            net.settle(net.gateway, *s)


def test_hole7_an_overlapping_session_is_refused_whatever_the_order(net, attacker):
    """A meter that signs a second session over billed intervals (or a host replaying one) bills nothing twice."""
    net.deposit(net.ev_owners[0].address, 10 * MAX_COST)
    net.deposit(net.ev_owners[1].address, 10 * MAX_COST)
    day = net.now
    late = net.session(0, 0, day + 4 * I, day // I + 4, [1000] * 4)  # intervals 4..7
    net.travel_to(day + 12 * I)
    net.settle(attacker.address, *late)
    with refused("intervals already billed"):  # 2..5 overlaps 4..5
        net.settle(attacker.address, *net.session(1, 0, day + 2 * I, day // I + 2, [1000] * 4))
    with refused("intervals already billed"):  # 7..9 overlaps 7
        net.settle(attacker.address, *net.session(1, 0, day + 7 * I, day // I + 7, [1000] * 3))
    net.settle(attacker.address, *net.session(1, 0, day, day // I, [1000] * 4))  # 0..3 fits before
    net.settle(attacker.address, *net.session(1, 0, day + 8 * I, day // I + 8, [1000] * 4))  # 8..11 after


def test_hole7_sessions_across_a_bitmap_word_boundary(net):
    """Intervals 256 k - 2 .. 256 k + 1 span two words of the meter's billed bitmap."""
    net.deposit(net.ev_owners[0].address, 10 * MAX_COST)
    net.deposit(net.ev_owners[1].address, 10 * MAX_COST)
    boundary = (net.now // I // 256 + 1) * 256  # an interval index that starts a word
    net.travel_to((boundary + 8) * I)
    net.settle(net.gateway, *net.session(0, 0, (boundary - 2) * I, boundary - 2, [500] * 4))
    assert [net.c.is_billed(net.meters[0].address, i) for i in range(boundary - 3, boundary + 3)] == [
        False,
        True,
        True,
        True,
        True,
        False,
    ]
    for first, n in ((boundary - 3, 2), (boundary + 1, 1), (boundary - 6, 96)):
        with refused("intervals already billed"):
            net.settle(net.gateway, *net.session(1, 0, first * I, first, [1] * n))
    net.settle(net.gateway, *net.session(1, 0, (boundary - 3) * I, boundary - 3, [1]))
    net.settle(net.gateway, *net.session(1, 0, (boundary + 2) * I, boundary + 2, [1] * 6))


# -- hole 11: payouts to contract wallets ----------------------------------------------------------------------
def raw_metering():
    """A bare contract (no harness): only functions that existed before the fix."""
    return deployer().deploy(NOTICE)


def funded(wallet, wei: int = 10**18):
    """A contract wallet holding `wei` of its own (it pays from its balance, as a Safe does)."""
    boa.env.set_balance(str(wallet.address), wei)
    return wallet


def wallet_deposit_and_notice(c, wallet, amount: int) -> None:
    wallet.execute(c.address, c.deposit.prepare_calldata(), amount)
    wallet.execute(c.address, c.request_withdrawal.prepare_calldata(amount), 0)
    boa.env.time_travel(seconds=NOTICE)


def test_hole11_a_contract_wallet_with_a_costly_receive_withdraws_its_escrow(hostile):
    """raw. Before: `send` forwarded 2,300 gas, the wallet's receive hook ran out, and the escrow was stuck."""
    c = raw_metering()
    wallet = funded(hostile("costly_wallet"), 10**17)
    wallet_deposit_and_notice(c, wallet, 10**17)
    assert boa.env.get_balance(str(wallet.address)) == 0
    wallet.execute(c.address, c.withdraw_escrow.prepare_calldata(), 0)
    assert wallet.received_wei() == 10**17 and wallet.receipts() == 1
    assert boa.env.get_balance(str(wallet.address)) == 10**17 and c.escrow(wallet.address) == 0
    held(c)


def test_hole11_a_wallet_reentering_withdraw_escrow_is_refused_and_paid_once(hostile):
    """raw. A wallet that calls withdraw_escrow again from inside the payment: the lock refuses it."""
    c = raw_metering()
    wallet = funded(hostile("reentrant_wallet"), 2 * 10**17)
    wallet_deposit_and_notice(c, wallet, 10**17)
    wallet.execute(c.address, c.deposit.prepare_calldata(), 10**16)  # more escrow, for a second payout
    wallet.arm(c.address, c.withdraw_escrow.prepare_calldata())
    wallet.execute(c.address, c.withdraw_escrow.prepare_calldata(), 0)
    assert (wallet.reentry_tried(), wallet.reentry_succeeded()) == (1, 0)
    assert wallet.received_wei() == 10**17 and c.escrow(wallet.address) == 10**16
    held(c)


def wallet_host(net: Metering, wallet) -> m.Settled:
    """`wallet` owns a third meter (a host) and earns credit from one settled session there."""
    net.track(str(wallet.address), 10**18)
    meter = Account.create()
    net.meters.append(meter)
    net.register_meter(meter.address, str(wallet.address), COMMUNITY, 9)
    net.assign_gateway(meter.address, net.gateway)
    net.deposit(net.ev_owners[0].address, 10 * MAX_COST)
    start = net.now
    net.travel_to(start + 4 * I)
    return net.settle(net.gateway, *net.session(0, 2, start, start // I, [1850] * 4))


def wallet_call(net: Metering, wallet, model_call, calldata: bytes, value: int = 0):
    """The wallet's owner has the wallet call the contract, sending `value` of the wallet's ether; the twin does
    the same as the wallet, first (`mirror`). A payout the twin returns is the wallet's."""
    result, _ = net.mirror(net.owner, model_call, lambda: wallet.execute(net.c.address, calldata, value))
    net.sent[net.track(wallet.address)] += value
    if isinstance(result, int):
        net.paid[net.track(wallet.address)] += result
    net.check()
    return result


def start_args(start: m.SessionStart) -> list:
    """A SessionStart as the contract's leading arguments (defined here, not imported, so that the raw tests
    also run against the contract before the fix)."""
    return [start.ev, start.meter, start.start, start.max_cost_wei]


def settle_args(start: m.SessionStart, ev_sig: bytes, reading: m.SessionReading, meter_sig: bytes) -> list:
    return [*start_args(start), *compact(ev_sig), reading.first_interval, list(reading.energy_wh), *compact(meter_sig)]


def test_hole11_a_contract_wallet_host_withdraws_its_credit(net, hostile):
    wallet = hostile("costly_wallet")
    settled = wallet_host(net, wallet)
    w = str(wallet.address)
    assert (
        wallet_call(net, wallet, lambda: net.model.withdraw_credit(w), net.c.withdraw_credit.prepare_calldata())
        == settled.paid_wei
        > 0
    )
    assert wallet.received_wei() == settled.paid_wei and net.c.credit(w) == 0


@pytest.mark.parametrize("reentry", ["withdraw_credit", "withdraw_escrow", "settle_session", "reserve"])
def test_hole11_a_host_wallet_reentering_from_its_payout_is_refused_and_paid_once(net, hostile, reentry):
    """The wallet's credit is paid out; from inside the payment it calls back. Each call but withdraw_credit
    (whose credit is zero before the payment) is valid on its own, as making it afterwards shows: only the
    lock refuses it, and the payout happens once."""
    wallet = hostile("reentrant_wallet")
    w = str(wallet.address)
    settled = wallet_host(net, wallet)
    wallet_call(net, wallet, lambda: net.model.deposit(w, MAX_COST), net.c.deposit.prepare_calldata(), MAX_COST)
    wallet_call(
        net, wallet, lambda: net.model.request_withdrawal(w, net.now, 1), net.c.request_withdrawal.prepare_calldata(1)
    )
    net.deposit(net.ev_owners[1].address, MAX_COST)
    start = net.now
    pending = net.session(1, 0, start - 4 * I, start // I - 4, [100] * 2)  # another host's session, over
    own, own_sig = net.session(0, 2, start, start // I, [1])[:2]  # an EV at the wallet's meter (reservable for 3 days)
    own_id = eip712.digest(net.domain, own)
    net.travel_to(start + NOTICE)
    calls = {
        "withdraw_credit": (net.c.withdraw_credit.prepare_calldata(), None),
        "withdraw_escrow": (
            net.c.withdraw_escrow.prepare_calldata(),
            lambda c: wallet_call(net, wallet, lambda: net.model.withdraw_escrow(w, net.now), c),
        ),
        "settle_session": (
            net.c.settle_session.prepare_calldata(*settle_args(*pending)),
            lambda c: net.settle(net.gateway, *pending),
        ),
        "reserve": (
            net.c.reserve.prepare_calldata(*start_args(own), *compact(own_sig)),
            lambda c: wallet_call(net, wallet, lambda: net.model.reserve(w, net.now, own, own_id, own.ev), c),
        ),
    }
    calldata, afterwards = calls[reentry]
    wallet.arm(net.c.address, calldata)
    paid = wallet_call(net, wallet, lambda: net.model.withdraw_credit(w), net.c.withdraw_credit.prepare_calldata())
    assert paid == settled.paid_wei == wallet.received_wei()
    assert (wallet.reentry_tried(), wallet.reentry_succeeded()) == (1, 0)
    wallet.arm(net.c.address, b"")
    if afterwards is not None:
        afterwards(calldata)  # not from inside a payment, the same call goes through


# -- hole 12: gateways scoped to their meters; a wrong root has a remedy ---------------------------------------
def test_hole12_a_gateway_cannot_anchor_a_day_of_a_meter_it_does_not_serve(attackers):
    """raw. Before: any allowed gateway anchored any meter's day first, and the day was taken for good."""
    c = raw_metering()
    good, rogue, host = attackers(3)
    meter = Account.create().address
    c.register_meter(meter, host.address, COMMUNITY, 1)
    c.set_gateway(good.address, True)
    c.set_gateway(rogue.address, True)  # a gateway in good standing, for other meters
    period = boa.env.evm.patch.timestamp // m.PERIOD_S
    boa.env.time_travel(seconds=m.PERIOD_S)
    with boa.env.prank(rogue.address), boa.reverts("metering: caller is not the meter's gateway"):
        c.anchor_root(meter, period, b"\x66" * 32, 96)
    assert bytes(c.root(meter, period)) == b"\x00" * 32


def test_hole12_only_the_meters_signed_root_replaces_a_wrong_one(net, attacker):
    period = net.now // m.PERIOD_S
    readings, sigs, leaves = net.signed_readings(0, period)
    net.travel_to((period + 1) * m.PERIOD_S)
    meter = net.meters[0].address
    net.anchor(meter, period, b"\x66" * 32, 96)  # the meter's own gateway anchors a wrong root
    assert not net.verify(readings[5], sigs[5], m.merkle_proof(leaves, 5))
    net.track(attacker.address)
    with refused("period already anchored"):  # the gateway cannot fix it, nor change it again
        net.anchor(meter, period, m.merkle_root(leaves), 96)
    with refused("root not signed by the meter"):  # a stranger (or the gateway) signing as the meter
        forged = net.signed_root(0, period, b"\x67" * 32, 96, 1, key=attacker.account)
        net.anchor_signed(*forged, sender=attacker.address)
    right = net.signed_root(0, period, m.merkle_root(leaves), 96, 1)
    net.anchor_signed(*right, sender=attacker.address)  # anyone may deliver the meter's word
    assert net.verify(readings[5], sigs[5], m.merkle_proof(leaves, 5))
    with refused("root version not newer"):  # replaying it, or switching back, is refused
        net.anchor_signed(*right, sender=attacker.address)
    with refused("period already anchored"):
        net.anchor(meter, period, b"\x66" * 32, 96)


def test_hole12_a_revoked_gateway_anchors_nothing_even_for_its_meters(net):
    period = net.now // m.PERIOD_S
    net.travel_to((period + 1) * m.PERIOD_S)
    net.set_gateway(net.gateway, False)
    with refused("caller is not a gateway"):
        net.anchor(net.meters[0].address, period, b"\x01" * 32, 1)


def test_hole12_a_gateway_cannot_assign_itself_a_meter(net, attacker):
    """The assignment is the new lever: a rogue gateway (or a stranger) that names itself a meter's gateway to
    anchor its days first is refused, and the meter's own gateway keeps it."""
    meter = net.meters[0].address
    net.track(attacker.address)
    net.set_gateway(attacker.address, True)  # a gateway in good standing, for other meters
    for sender in (attacker.address, net.gateway):
        with refused("caller is not the owner"):
            net.assign_gateway(meter, attacker.address, sender=sender)
    assert net.c.gateway_of(meter) == net.gateway
    period = net.now // m.PERIOD_S
    net.travel_to((period + 1) * m.PERIOD_S)
    with refused("caller is not the meter's gateway"):
        net.anchor(meter, period, b"\x66" * 32, 96, sender=attacker.address)


# -- hole 13: any tariff version is found --------------------------------------------------------------------
VERSIONS = 260  # hourly tariffs for 11 days: more than the 256 the old lookup looked back


def hourly_tariffs(c, start: int) -> list[m.Tariff]:
    """Version 0 (PEAK) from `start`, then VERSIONS hourly versions, each a flat price of its number."""
    tariffs = [m.Tariff(start, PEAK)]
    c.set_tariff(COMMUNITY, start, list(PEAK))
    for v in range(1, VERSIONS + 1):
        c.set_tariff(COMMUNITY, start + v * 3600, [v] * 24)
        tariffs.append(m.Tariff(start + v * 3600, (v,) * 24))
    return tariffs


def test_hole13_a_tariff_260_versions_old_is_found_and_a_session_under_it_settles(attackers):
    """raw up to the price checks. Before: `_version_at` looked back 256 versions, then "no tariff in force":
    with hourly tariffs, sessions older than 11 days could no longer be priced or settled."""
    c = raw_metering()
    start = (boa.env.evm.patch.timestamp // 3600 + 1) * 3600
    tariffs = hourly_tariffs(c, start)
    boa.env.time_travel(seconds=start + (VERSIONS + 1) * 3600 - boa.env.evm.patch.timestamp)
    for t in (start, start + 3600 - 1):  # version 0, 260 versions back
        assert c.price_at(COMMUNITY, t) == m.tariff_in_force(tariffs, t).price_at(t) == PEAK[(t % 86400) // 3600]
    for v in [*range(1, VERSIONS + 1, 17), VERSIONS - 1, VERSIONS]:  # versions at their first and last second
        for t in (start + v * 3600, start + (v + 1) * 3600 - 1):
            assert c.price_at(COMMUNITY, t) == m.tariff_in_force(tariffs, t).price_at(t) == v
    with boa.reverts("metering: no tariff in force"):
        c.price_at(COMMUNITY, start - 1)
    # a session across versions 0 and 1, settled 260 versions later, at the twin's price
    host, owner = attackers(2)
    meter, ev = Account.create(), Account.create()
    c.register_meter(meter.address, host.address, COMMUNITY, 1)
    c.register_ev(ev.address, owner.address)
    with boa.env.prank(owner.address):
        c.deposit(value=MAX_COST)
    domain = m.domain(c.eip712Domain()[3], str(c.address))
    session_start = m.SessionStart(ev.address, meter.address, start + 3600 - 2 * I, MAX_COST)
    sid = eip712.digest(domain, session_start)
    reading = m.SessionReading(sid, session_start.start // I, (1000,) * 4)
    ev_sig = sign_digest(ev.key, sid)
    meter_sig = sign_digest(meter.key, eip712.digest(domain, reading))
    paid = c.settle_session(*settle_args(session_start, ev_sig, reading, meter_sig))
    assert paid == c.credit(host.address) == m.energy_cost(tariffs, reading.first_interval, reading.energy_wh) > 0
    held(c)
