"""Unit tests of contracts/charging_coordinator.vy: each external function, each revert reason, boundaries."""

import boa
import pytest
from eth_utils import keccak

from gridchain.coordination.model.coordinator import (
    RING,
    pack,
    pack_indices,
    submit_chain,
)
from tests.support.community import SLOT_LENGTH, Community, deployer, refused
from tests.support.events import logs


def test_deploy_sets_owner_clock_and_weights(community):
    c = community.c
    assert c.owner() == community.owner
    assert c.START_TIME() == community.start and c.SLOT_LENGTH() == SLOT_LENGTH and c.BETA1_PM() == 500
    assert c.current_slot() == 0 and c.slot_end(0) == community.start + SLOT_LENGTH
    assert c.next_slot_to_close() == 0 and c.last_capacity_w() == 100_000


@pytest.mark.parametrize(
    "args, reason",
    [
        ((0, 0, 500, 1), "coordinator: slot length is 0"),
        ((0, 1, 1001, 1), "coordinator: beta1_pm above 1000"),
        ((0, 1, 500, 2**64), "coordinator: capacity out of range"),
    ],
)
def test_deploy_rejects_bad_parameters(args, reason):
    with boa.reverts(reason):
        deployer().deploy(*args)


def test_before_start_nothing_is_open():
    with boa.env.anchor():
        c = deployer().deploy(boa.env.evm.patch.timestamp + 100, SLOT_LENGTH, 500, 1)
        with boa.reverts("coordinator: not started"):
            c.current_slot()


def test_members_owner_only(community):
    stranger = boa.env.generate_address()
    with refused("coordinator: caller is not the owner"):
        community.set_member(stranger, True, sender=stranger)
    community.set_member(stranger, True)
    assert logs(community.c, "MemberChanged")[0]["allowed"] is True
    assert community.c.members(stranger) and community.c.request_limit(stranger) == 1
    community.set_member(stranger, False)
    assert not community.c.members(stranger)


def test_request_limit_owner_only_and_bounds(community):
    member = community.members[0]
    with refused("coordinator: caller is not the owner"):
        community.set_request_limit(member, 2, sender=member)
    too_large = "coordinator: request limit out of range"
    for limit, reason in ((0, "coordinator: request limit is 0"), (2**32 + 1, too_large), (2**256 - 1, too_large)):
        with refused(reason):
            community.set_request_limit(member, limit)
    for limit in (1, 2**32, 3):  # both ends pass
        community.limit_requests(limit, [member])
        assert logs(community.c, "RequestLimitChanged") == [
            {"address": community.c.address, "member": member, "limit": limit}
        ]
        assert community.c.request_limit(member) == community.model.request_limit(str(member)) == limit
    assert community.c.members(member)  # the limit leaves the member flag alone


def test_a_member_submits_up_to_its_limit_per_slot(community):
    community.limit_requests(2, community.members[:1])
    community.submit(0, 10, 0, 1)
    community.submit(0, 10, 0, 1)  # the limit passes
    with refused("coordinator: request limit reached"):
        community.submit(0, 10, 0, 1)  # one more reverts, in the contract and in the twin
    assert community.c.member_requests(community.members[0], 0) == 2
    community.submit(1, 10, 0, 1)  # other members have their own count (default limit 1)
    with refused("coordinator: request limit reached"):
        community.submit(1, 10, 0, 1)
    community.to_end_of(0)
    community.submit(0, 10, 0, 1)  # a new slot, a new count
    assert community.c.member_requests(community.members[0], 1) == 1
    assert community.c.member_requests(community.members[0], 0) == 0  # the word counts the last slot only


def test_removing_and_admitting_again_keeps_the_count_and_limit(community):
    member = community.members[0]
    community.limit_requests(2, [member])
    community.submit(0, 10, 0, 1)
    community.submit(0, 10, 0, 1)
    for allowed in (False, True):
        community.set_member(member, allowed)
    assert community.c.request_limit(member) == 2 and community.c.member_requests(member, 0) == 2
    with refused("coordinator: request limit reached"):
        community.submit(0, 10, 0, 1)


def test_a_lower_limit_applies_to_the_next_submission(community):
    member = community.members[0]
    community.limit_requests(3, [member])
    community.submit(0, 10, 0, 1)
    community.submit(0, 10, 0, 1)
    community.limit_requests(1, [member])
    with refused("coordinator: request limit reached"):
        community.submit(0, 10, 0, 1)


def test_submit_records_packed_request_and_chain(community):
    a0 = community.submit(0, 60_000, 250, 2)
    event = logs(community.c, "RequestSubmitted")[0]
    assert event["slot"] == 0 and event["sender"] == community.members[0]
    assert event["request"] == pack(60_000, 250, 2, a0)
    a1 = community.submit(1, 1, 999, 2**32 - 1)
    assert (a0, a1) == (1, 2)  # slot 0's first and second
    h = community.c.submit_hash(0)
    assert h == submit_chain([pack(60_000, 250, 2, 1), pack(1, 999, 2**32 - 1, 2)])
    assert (
        h[:24]
        == keccak(
            keccak(b"\x00" * 32 + pack(60_000, 250, 2, 1).to_bytes(32, "big"))[:24]
            + (1).to_bytes(8, "big")
            + pack(1, 999, 2**32 - 1, 2).to_bytes(32, "big")
        )[:24]
    )
    assert int.from_bytes(h[24:], "big") == 2  # slot 0, the count


def test_the_ring_keeps_an_unclosed_slots_chain(community):
    """A slot's chain holds its ring word until its close: the slot RING later, same word, waits for it."""
    assert all(community.c.submit_hash(s) == b"\x00" * 32 for s in (0, 1, RING - 1, RING, 2**32 - 1))  # all free
    community.submit(0, 500, 100, 2)
    chain0 = community.c.submit_hash(0)
    community.travel_to(community.model.slot_end(RING - 1))  # slot RING: slot 0's word, slot 0 not closed
    assert community.c.current_slot() == RING and community.c.submit_hash(RING) == b"\x00" * 32
    with refused("coordinator: too many slots not closed"):
        community.submit(1, 700, 200, 3)
    assert community.c.submit_hash(0) == chain0  # untouched
    for slot in range(RING):  # slot 0's close frees the word; the empty slots after it change nothing
        community.close(slot)
    assert community.c.submit_hash(0) == b"\x00" * 32  # closed
    assert community.submit(1, 700, 200, 3) == (RING << 32) | 1  # slot RING's chain starts afresh
    assert community.c.submit_hash(RING) == submit_chain([pack(700, 200, 3, (RING << 32) | 1)])
    assert community.submit(2, 800, 300, 1) == (RING << 32) | 2  # and continues
    community.travel_to(community.model.slot_end(RING))  # slot RING + 1: its word is free, RING's stays
    assert community.submit(3, 900, 400, 1) == ((RING + 1) << 32) | 1
    assert int.from_bytes(community.c.submit_hash(RING)[24:], "big") == (RING << 32) | 2


@pytest.mark.parametrize(
    "demand_w, soc_pm, tcc, reason",
    [
        (0, 0, 1, "coordinator: demand is 0"),
        (2**64, 0, 1, "coordinator: demand out of range"),
        (1, 1000, 1, "coordinator: soc_pm above 999"),
        (1, 0, 0, "coordinator: tcc is 0"),
        (1, 0, 2**32, "coordinator: tcc out of range"),
    ],
)
def test_submit_boundaries(community, demand_w, soc_pm, tcc, reason):
    with refused(reason):
        community.submit(0, demand_w, soc_pm, tcc)
    assert community.c.submit_hash(0) == b"\x00" * 32


def test_submit_largest_values_pass(community):
    community.submit(0, 2**64 - 1, 999, 2**32 - 1)


def test_submit_unauthorised(community):
    with refused("coordinator: sender not authorised"):
        community.submit_as(boa.env.generate_address(), 1, 0, 1)
    community.set_member(community.members[0], False)
    with refused("coordinator: sender not authorised"):
        community.submit(0, 1, 0, 1)


def test_submit_to_a_named_slot(community):
    assert community.submit_as(community.members[0], 1, 0, 1, slot=0) == 1
    with refused("coordinator: slot not open"):
        community.submit_as(community.members[0], 1, 0, 1, slot=1)
    community.to_end_of(0)
    with refused("coordinator: slot closed"):
        community.submit_as(community.members[0], 1, 0, 1, slot=0)


def test_submit_after_a_slot_ends_goes_to_the_next(community):
    community.to_end_of(0)
    community.submit(0, 5, 0, 1)
    assert logs(community.c, "RequestSubmitted")[0]["slot"] == 1


def test_post_capacity(community):
    community.post(3, 42)
    assert logs(community.c, "CapacityPosted")[0] == {"address": community.c.address, "slot": 3, "capacity_w": 42}
    assert community.c.posted_capacity(3) == 43
    community.post(0, 0)  # zero is a real capacity
    with refused("coordinator: caller is not the owner or poster"):
        community.post(1, 5, sender=community.members[0])
    with refused("coordinator: capacity out of range"):
        community.post(1, 2**64)
    community.post(1, 2**64 - 1)


def test_post_capacity_to_closed_slot(community):
    community.to_end_of(0)
    community.close(0)
    with refused("coordinator: slot already closed"):
        community.post(0, 5)
    community.post(1, 5)


def test_close_early_twice_and_out_of_turn(community):
    with refused("coordinator: slot not ended"):
        community.close_slot(0, [], [])
    community.to_end_of(1)
    with refused("coordinator: earlier slot not closed"):
        community.close_slot(1, [], [])
    community.close(0)
    with refused("coordinator: slot already closed"):
        community.close_slot(0, [], [])
    community.close(1)


def test_close_exactly_at_slot_end(community):
    boa.env.time_travel(seconds=community.model.slot_end(0) - community.now - 1)
    with refused("coordinator: slot not ended"):
        community.close_slot(0, [], [])
    boa.env.time_travel(seconds=1)
    community.close(0)


def filled(community):
    """Three requests in slot 0 (the README example, in kW); the slot has ended."""
    community.post(0, 100_000)
    for m, (d, s, t) in enumerate([(80_000, 0, 1), (50_000, 500, 1), (20_000, 900, 3)]):
        community.submit(m, d, s, t)
    community.to_end_of(0)
    return [pack(80_000, 0, 1, 1), pack(50_000, 500, 1, 2), pack(20_000, 900, 3, 3)]


def test_close_schedules_like_the_readme_example(community):
    filled(community)
    result = community.close(0)
    assert [(a.granted_w, str(a.status)) for a in result.schedule.allocations] == [
        (30_000, "partial"),
        (50_000, "scheduled"),
        (20_000, "scheduled"),
    ]
    # a had tcc 1 and got 30 of 80 kW: it expires; nothing is carried
    assert [(e.arrival, e.remaining_w) for e in result.expired] == [(1, 50_000)]  # events equal these
    assert result.carried == ()


@pytest.mark.parametrize(
    "listing, positions, reason",
    [
        ([0, 1, 2], [0, 1, 2], "coordinator: order not sorted"),  # the right order is b, a, c
        ([1, 0, 2], [0, 1, 2], "coordinator: submitted chain mismatch"),  # wrong positions
        ([1, 1, 2], [1, 0, 2], "coordinator: submitted chain mismatch"),  # b twice, a missing
        ([1, 0, 2], [1, 0, 3], "coordinator: position out of range"),
    ],
)
def test_close_rejects_a_wrong_order(community, listing, positions, reason):
    requests = filled(community)
    with refused(reason):  # the twin checks the calldata alike
        community.close_slot(0, [requests[i] for i in listing], pack_indices(positions))
    community.close(0)  # the right order still closes


def test_close_rejects_wrong_or_incomplete_requests(community):
    requests = filled(community)
    for bad in (requests[:2], requests + [pack(1, 0, 1, 4)], [pack(80_001, 0, 1, 1)] + requests[1:], requests[::-1]):
        with refused("coordinator: submitted chain mismatch"):
            community.close_slot(0, bad, pack_indices(range(len(bad))))
    right = [requests[i] for i in (1, 0, 2)]
    for positions in (pack_indices([1, 0, 2]) + [0], []):
        with refused("coordinator: positions have the wrong length"):
            community.close_slot(0, right, positions)


def carried_and_submitted(community):
    """Slot 1 with two requests carried from slot 0 and one submitted into it; the slot has ended. Returns its
    pending requests in canonical order (the carried ones, then the submitted one)."""
    community.post(0, 60)
    community.submit(0, 60, 0, 1)  # fits
    community.submit(1, 100, 0, 3)  # carried
    community.submit(2, 90, 0, 3)  # carried
    community.to_end_of(0)
    community.close(0)
    community.submit(3, 10, 300, 1)
    community.to_end_of(1)
    pending = community.model.pending(1)
    assert len(pending) == 3 and community.c.carry_count() == 2
    return pending


@pytest.mark.parametrize(
    "listing, reason",
    [
        ([0], "coordinator: fewer requests than carried"),  # one of the two carried requests only
        ([1, 0, 2], "coordinator: carried chain mismatch"),  # the carried part in the wrong order
        ([0, 1], "coordinator: submitted chain mismatch"),  # the carried part, without the submitted one
    ],
)
def test_close_checks_the_carried_then_the_submitted_chain(community, listing, reason):
    """Each chain has its own reason: listed through the positions in canonical order, the requests must be the
    carried chain, then the submitted chain (here the positions are the identity: the order check comes later)."""
    pending = carried_and_submitted(community)
    bad = [pending[i] for i in listing]
    with refused(reason):
        community.close_slot(1, bad, pack_indices(range(len(bad))))
    community.close(1)  # the right calldata still closes


def test_carry_over_into_next_slot(community):
    community.post(0, 60)
    community.submit(0, 60, 0, 1)  # u 1_000_000 / 60: first, fits
    community.submit(1, 100, 0, 3)  # u 500_000 / 100: does not fit, carried with tcc 2
    community.to_end_of(0)
    first = community.close(0)
    assert [pack(100, 0, 2, 2)] == list(first.carried)
    community.submit(2, 10, 300, 1)  # slot 1
    community.to_end_of(1)
    community.post(1, 50)
    second = community.close(1)
    # carried (100 W, tcc 2) and new (10 W, tcc 1): the new one first (850_000 / 10), then the carried one
    # does not fit in 40: it gets the leftover 40 and is carried again with 60 W and tcc 1
    assert [(a.id, a.granted_w) for a in second.schedule.allocations] == [("#0.2", 40), ("#1.1", 10)]
    assert list(second.carried) == [pack(60, 0, 1, 2)]
    community.to_end_of(2)
    third = community.close(2)  # capacity of slot 1 (50) carries forward; 60 W does not fit, 50 partial
    assert third.schedule.capacity_w == 50 and third.partial_w == 50
    assert [(e.arrival, e.remaining_w) for e in third.expired] == [(2, 10)]


def test_empty_slots_close_and_keep_capacity(community):
    community.post(0, 7)
    for slot in range(3):
        community.to_end_of(slot)
        result = community.close(slot)
        assert result.schedule.capacity_w == 7 and result.schedule.unused_w == 7
    assert community.c.last_capacity_w() == 7


def test_many_requests_in_one_close():
    with boa.env.anchor():
        community = Community(members=1, request_limit=300)  # one account submits the whole slot
        community.post(0, 5_000_000)
        for i in range(300):
            community.submit(0, 10_000 + 97 * i, (i * 37) % 1000, 1 + i % 5)
        community.to_end_of(0)
        result = community.close(0)
        assert result.schedule.granted_w == 5_000_000


def test_transfer_ownership(community):
    new_owner = community.members[3]
    with boa.env.prank(community.members[0]), boa.reverts("ownable: caller is not the owner"):
        community.c.transfer_ownership(new_owner)
    community.c.transfer_ownership(new_owner)
    assert community.c.owner() == new_owner
    with boa.reverts("coordinator: caller is not the owner or poster"):
        community.c.post_capacity(0, 1)  # the old owner no longer posts
    with boa.env.prank(new_owner):
        community.c.post_capacity(0, 1)
