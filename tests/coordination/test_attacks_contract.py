"""Attacks on the charging coordinator (issue 14, holes 1-3), each through the interface that existed before
the fix, each asserting the harm it would do: a request denied, a slot locked, a keeper shut out, a member
ahead of its turn; and on the ring of submit chains (issue 22): a chain overwritten before its close, a close
that lists another slot's requests. docs/security.md ("Charging coordinator") explains how each class is excluded.

Attacker accounts come from the `attacker` fixture; attacker contracts from `hostile(...)`:
`paged_closer` runs a whole paged close (begin, pages, finish) in one transaction, `request_flooder` is a member
that submits many requests in one transaction. An honest keeper here computes its calldata from what it knows
(the model twin, which follows only verified closes) and sends it from the owner's account.
"""

from __future__ import annotations

import boa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridchain.coordination.model.coordinator import (
    FIELD,
    RING,
    CoordinatorError,
    chain,
    close,
    close_calldata,
    pack,
    paged_calldata,
)
from tests.support.community import BETA1_PM, SLOT_LENGTH, Community
from tests.support.events import logs
from tests.support.mirrored import fresh_traces

PAGE = 1024  # the most one call takes


def attempt(sender, call) -> str | None:
    """Send `call` from `sender`: None if it went through, else the revert (as text)."""
    try:
        with boa.env.prank(sender):
            call()
    except Exception as e:  # boa's revert error, whatever its class
        return _reason(e)
    return None


def _reason(e: Exception) -> str:
    """The revert reason of boa's error (its full text cannot always be made: titanoboa 0.2.8 fails to decode
    a child call's input in the call tree when the caller passed a smaller DynArray bound)."""
    frame = getattr(getattr(e, "stack_trace", None), "last_frame", None)
    for text in (lambda: frame.pretty_vm_reason, lambda: str(e)):
        try:
            return str(text())
        except Exception:
            continue
    return type(e).__name__


def keeper_close(community: Community, slot: int, keeper=None, page: int | None = None) -> str | None:
    """The honest keeper: close `slot` with calldata computed from the model (in one call, or in pages of
    `page`); None if it closed, else the revert. On success the model closes the slot too."""
    pending = community.model.pending(slot)
    c = community.c

    def run():
        if page is None or len(pending) <= page:
            c.close_slot(slot, *close_calldata(pending, community.model.beta1_pm))
            return
        paged = paged_calldata(pending, community.model.beta1_pm, page)
        c.begin_close(slot, paged.n, paged.sorted_hash)
        for chunk in paged.sorted_pages:
            c.close_sorted_page(chunk)
        for chunk in paged.pending_pages:
            c.close_pending_page(chunk)
        c.finish_close()

    reason = attempt(keeper or community.owner, run)
    if reason is None:
        community.model.close_slot(community.now, slot)
    return reason


def one_victim(community: Community, capacity_w: int = 100_000) -> int:
    """Slot 0 holds one request that the capacity covers (tcc 2: it would be carried, not expired); the slot
    has ended. Returns the victim's packed request."""
    community.post(0, capacity_w)
    community.submit(0, 10_000, 500, 2)
    community.to_end_of(0)
    [victim] = community.model.pending(0)
    return victim


# -- hole 1: forged paged closes ----------------------------------------------------------------------------
def test_hole1_forged_paged_close_in_one_transaction_denies_a_request(community, attacker, hostile):
    """The attacker's contract lists `victim + FIELD` instead of the victim: the same value modulo the field, so
    the products agree, but the walk reads another request (a huge demand, junk soc/tcc/arrival) that takes
    the whole capacity. Begin, pages and finish in one transaction: there is nothing to supersede."""
    victim = one_victim(community)
    alias = victim + FIELD
    closer = hostile("paged_closer", community.c.address)
    forged = attempt(attacker.address, lambda: closer.close_in_pages(0, 1, chain([alias]), [[alias]], [[victim]], True))
    if forged is None:
        [closed] = logs(closer, "SlotClosed")
    else:
        assert "coordinator: listed request out of range" in forged
        assert keeper_close(community, 0) is None
        [closed] = logs(community.c, "SlotClosed")
    honest = close(0, [victim], 100_000, BETA1_PM)
    assert honest.scheduled == 1  # the capacity covers the victim
    assert {k: v for k, v in closed.items() if k != "address"} == honest.event(), "slot 0 closed against the rule"
    assert community.c.carry_hash() == honest.carry_hash and community.c.carry_count() == 0


def test_hole1_forged_carry_cannot_lock_later_slots(community, attacker, hostile):
    """Had the forged close gone through, its junk request would be carried (its junk high bits kept) and no
    keeper, knowing only the verified requests, could ever close slot 1 again."""
    victim = one_victim(community)
    alias = victim + FIELD
    closer = hostile("paged_closer", community.c.address)
    forged = attempt(attacker.address, lambda: closer.close_in_pages(0, 1, chain([alias]), [[alias]], [[victim]], True))
    if forged is None:
        community.model.close_slot(community.now, 0)  # what the keeper recomputes from the verified requests
    else:
        assert keeper_close(community, 0) is None
    community.submit(1, 5_000, 100, 1)
    community.to_end_of(1)
    reason = keeper_close(community, 1)
    assert reason is None, f"the keeper cannot close slot 1: {reason}"
    community.to_end_of(2)
    assert keeper_close(community, 2) is None and community.c.next_slot_to_close() == 3


def test_hole1_abandoned_paged_close_logs_no_expiry(community, attacker, hostile):
    """Pages walk before anything is verified. An attacker's paged close that is never finished lists two
    made-up requests; the second one settles as an expiry of the victim's arrival number. A reader of events
    (the verifier) would count that fake expiry: the pages must log nothing."""
    victim = one_victim(community, capacity_w=1)
    arrival = victim >> 112
    held, expiring = pack(2_000, 0, 1, arrival + 1), pack(3_000, 0, 1, arrival)  # sorted: 1e6/2000 > 1e6/3000
    closer = hostile("paged_closer", community.c.address)
    reason = attempt(
        attacker.address, lambda: closer.close_in_pages(0, 2, chain([held, expiring]), [[held, expiring]], [], False)
    )
    expiries = [e for e in logs(closer, "RequestExpired")] if reason is None else []
    assert expiries == [], f"an unfinished paged close logged {expiries}"
    assert keeper_close(community, 0) is None  # the victim is carried (tcc 2), not expired
    assert community.c.carry_count() == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_hole1_listed_values_from_the_whole_range_agree_with_the_twin(data):
    """Any value a sorted page lists, from the whole uint256 range (aliases x + k FIELD of the pending
    requests included): the contract and the twin accept it or refuse it with the same reason, and if the
    close then finishes, its result is the rule's."""
    with boa.env.anchor():
        fresh_traces()  # each example deploys at the same address: its snapshots read only its own slots
        community = Community(members=2)
        community.post(0, 15_000)
        community.submit(0, 10_000, 500, 2)
        community.submit(1, 8_000, 100, 1)
        community.to_end_of(0)
        pending = community.model.pending(0)
        honest = paged_calldata(pending, BETA1_PM, 1)
        word = data.draw(
            st.one_of(
                st.integers(0, 2**256 - 1),
                st.sampled_from(pending).flatmap(
                    lambda x: st.integers(1, (2**256 - 1 - x) // FIELD).map(lambda k: x + k * FIELD)
                ),  # the pending requests' aliases modulo the field
                st.integers(0, 2**176 - 1),
            ),
            label="listed",
        )
        listing = data.draw(st.sampled_from([[word, honest.sorted_pages[1][0]], [honest.sorted_pages[0][0], word]]))
        community.begin_close(0, 2, chain(listing))  # the owner's (model first, then the contract: `mirror`)
        for chunk in ([listing[0]], [listing[1]]):
            if not community.attempt(lambda chunk=chunk: community.close_sorted_page(chunk), "sorted page").ok:
                return
        community.close_pending_page(pending)
        finished = community.attempt(community.finish_close, "finish")
        if not finished.ok:
            return
        result = finished.value  # its SlotClosed event is the model's (Community.finish_close)
        assert result.event() == close(0, pending, 15_000, BETA1_PM).event()


# -- hole 2: a stranger holding the one paged close -----------------------------------------------------------
@pytest.mark.slow
def test_hole2_stranger_cannot_lock_a_slot_of_more_than_1024_requests(attacker):
    """1,025 members submit one request each: the slot can close only in pages. A stranger begins a paged
    close first (and would begin again before any take-over window ends): the keeper must still close the slot
    in its own transactions, at once."""
    with boa.env.anchor():
        community = Community(members=PAGE + 1)
        for m in range(PAGE + 1):
            community.submit(m, 1_000 + m, m % 1000, 1 + m % 3)
        community.to_end_of(0)
        assert attempt(attacker.address, lambda: community.c.begin_close(0, PAGE + 1, b"\x01" * 32)) is None
        reason = keeper_close(community, 0, page=PAGE)
        assert reason is None, f"the stranger's paged close locked the slot: {reason}"
        assert community.c.next_slot_to_close() == 1


def test_hole2_stranger_cannot_block_the_capacity(community, attacker):
    """A stranger's paged close of slot 0 must not stop the utility from posting slot 0's capacity."""
    victim = one_victim(community, capacity_w=5_000)  # too little for the victim
    assert attempt(attacker.address, lambda: community.c.begin_close(0, 1, chain([victim]))) is None
    posted = attempt(community.owner, lambda: community.c.post_capacity(0, 20_000))
    assert posted is None, f"the utility could not post the capacity: {posted}"
    community.model.post_capacity(str(community.owner), 0, 20_000)
    assert keeper_close(community, 0) is None
    assert community.c.last_capacity_w() == 20_000 and community.c.carry_count() == 0  # the victim was served


def test_hole2_a_slow_keeper_is_not_taken_over(community, attacker):
    """The keeper's paged close stalls for a slot length (a congested node): a stranger who begins then must not
    void the keeper's pages."""
    community.post(0, 100_000)
    for m in range(4):
        community.submit(m, 10_000 + m, 100 * m, 2)
    community.to_end_of(0)
    paged = paged_calldata(community.model.pending(0), BETA1_PM, 2)
    c = community.c
    c.begin_close(0, paged.n, paged.sorted_hash)
    c.close_sorted_page(paged.sorted_pages[0])
    boa.env.time_travel(seconds=SLOT_LENGTH)
    attempt(attacker.address, lambda: c.begin_close(0, paged.n, b"\x02" * 32))
    steps = [lambda: c.close_sorted_page(paged.sorted_pages[1])]
    steps += [lambda chunk=chunk: c.close_pending_page(chunk) for chunk in paged.pending_pages]
    steps += [c.finish_close]
    for step in steps:
        reason = attempt(community.owner, step)
        assert reason is None, f"the keeper's paged close was taken over: {reason}"
    community.model.close_slot(community.now, 0)
    assert c.next_slot_to_close() == 1 and c.carry_hash() == community.model.closes[-1].carry_hash


def test_hole2_keepers_page_in_parallel_and_the_first_to_finish_closes(community, hostile):
    """A keeper is paging; another keeper (a contract, all in one transaction) closes the slot meanwhile: nobody
    waits for anybody, and the first keeper's remaining pages are refused (its close is void, not harmful)."""
    community.post(0, 25_000)
    for m in range(4):
        community.submit(m, 10_000 + m, 100 * m, 1 + m % 2)
    community.to_end_of(0)
    pending = community.model.pending(0)
    paged = paged_calldata(pending, BETA1_PM, 2)
    community.c.begin_close(0, paged.n, paged.sorted_hash)
    community.c.close_sorted_page(paged.sorted_pages[0])
    closer = hostile("paged_closer", community.c.address)
    reason = attempt(
        boa.env.generate_address(),
        lambda: closer.close_in_pages(0, paged.n, paged.sorted_hash, paged.sorted_pages, paged.pending_pages, True),
    )
    assert reason is None, f"the second keeper was blocked: {reason}"
    [closed] = logs(closer, "SlotClosed")
    assert {k: v for k, v in closed.items() if k != "address"} == close(0, pending, 25_000, BETA1_PM).event()
    assert attempt(community.owner, lambda: community.c.close_sorted_page(paged.sorted_pages[1])) is not None


# -- hole 3: a member splitting its demand, or flooding a slot ----------------------------------------------
def test_hole3_splitting_demand_does_not_jump_the_queue(community):
    """Two members want 100 W each at the same priority; 110 W are available. One splits its 100 W into ten
    requests of 10 W: each has ten times the U / demand, so the walk would serve all ten first and leave the
    honest member 10 W. One request per member per slot: the splitter gets its first 10 W, the honest member
    its 100 W."""
    splitter, honest = community.members[:2]
    community.post(0, 110)
    recorded = []
    for sender, demand_w in [(splitter, 10)] * 10 + [(honest, 100)]:
        if attempt(sender, lambda: community.c.submit_request(demand_w, 500, 3)) is None:
            recorded += [e["request"] for e in logs(community.c, "RequestSubmitted")]
    community.to_end_of(0)
    community.c.close_slot(0, *close_calldata(recorded, BETA1_PM))  # the chain agrees these are the slot's requests
    result = close(0, recorded, 110, BETA1_PM)  # allocations, recomputed from the verified requests
    assert result.schedule.allocations[-1].granted_w == 100, "the splitter took the honest member's turn"


def test_hole3_one_member_cannot_flood_a_slot(community, hostile):
    """A member contract submits 200 requests in one transaction (enough members like it push any slot into
    pages): only its limit is recorded."""
    flooder = hostile("request_flooder", community.c.address)
    community.c.set_member(flooder.address, True)
    recorded = flooder.flood(200, 1_000, 500, 3)
    count = int.from_bytes(community.c.submit_hash(0)[28:], "big")  # the slot's submissions (low 32 bits)
    assert recorded == count
    assert count <= 1, f"one member recorded {count} requests in one slot"


def test_hole3_a_member_cannot_raise_its_own_limit_nor_change_anothers(community, attacker):
    """The limit is the owner's to set: a member that raises its own limit to split its demand again, or an
    attacker that sets a member's limit, is refused and changes no member's word; the owner's own hostile
    limits (0, above 2**32, the whole range) are refused with their reasons, as in the twin."""
    c, member, victim = community.c, *community.members[:2]
    words = {a: c.member_state(a) for a in (member, victim)}
    for sender, who, limit in [(member, member, 1_000), (attacker.address, victim, 2), (attacker.address, member, 0)]:
        assert attempt(sender, lambda: c.set_request_limit(who, limit)) == "coordinator: caller is not the owner"
    assert {a: c.member_state(a) for a in words} == words
    for limit in (0, 2**32 + 1, 2**256 - 1):  # the twin first: the contract must revert with its reason
        with pytest.raises(CoordinatorError):
            community.set_request_limit(member, limit)
    assert c.member_state(member) == words[member] and c.request_limit(member) == 1
    assert attempt(member, lambda: c.submit_request(10, 500, 3)) is None
    assert attempt(member, lambda: c.submit_request(10, 500, 3)) == "coordinator: request limit reached"


# -- the ring of submit chains (issue 22): RING words, slot s's chain in word s % RING -------------------------
def test_ring_a_submission_cannot_overwrite_an_unclosed_slots_chain(community, attacker):
    """The keepers idle for RING slots and more. Members (one a made-up attacker) submit into the slots that
    share slot 0's word, hoping to start their chain over slot 0's and so erase the victim's request: each is
    refused, and the victim is still scheduled when slot 0 closes."""
    victim = one_victim(community)
    c, chain0 = community.c, community.c.submit_hash(0)
    c.set_member(attacker.address, True)
    for slot in (RING, 2 * RING, 3 * RING):
        community.travel_to(community.model.slot_end(slot - 1))
        for sender in (attacker.address, community.members[1]):
            assert attempt(sender, lambda: c.submit_request(1, 999, 1)) == "coordinator: too many slots not closed"
        assert c.submit_hash(0) == chain0 and c.submit_hash(slot) == b"\x00" * 32
    # another word of the ring is free: the slot after goes on
    community.travel_to(community.model.slot_end(3 * RING))
    assert attempt(attacker.address, lambda: c.submit_request(1, 999, 1)) is None
    assert keeper_close(community, 0) is None
    [closed] = logs(c, "SlotClosed")
    assert closed["granted_w"] == 10_000 and closed["requests"] == 1, "the victim's request was lost"
    assert community.model.closes[-1].schedule.allocations[0].granted_w == victim & (2**64 - 1)


def test_ring_a_close_cannot_list_a_stale_slots_requests(community, attacker):
    """Slot 0's request is granted and closed; slot RING, which shares its word, has no submission. A closer
    lists slot 0's request again for slot RING (to have it granted twice), or lists slot RING empty once a
    member has submitted into it: both are refused, the freed word is no chain of slot RING."""
    victim = one_victim(community)
    community.travel_to(community.model.slot_end(RING))
    for slot in range(RING):
        assert keeper_close(community, slot) is None
    c = community.c
    assert c.submit_hash(RING) == b"\x00" * 32
    replay = close_calldata([victim], BETA1_PM)
    assert attempt(attacker.address, lambda: c.close_slot(RING, *replay)) == "coordinator: submitted chain mismatch"
    assert keeper_close(community, RING) is None  # empty, as it is
    community.travel_to(community.model.slot_end(2 * RING - 1))  # slot 2 RING, same word
    for slot in range(RING + 1, 2 * RING):
        assert keeper_close(community, slot) is None
    community.submit(1, 7_000, 300, 1)
    community.to_end_of(2 * RING)
    for listing in ([], [victim], replay[0]):
        call = close_calldata(listing, BETA1_PM)
        assert (
            attempt(attacker.address, lambda: c.close_slot(2 * RING, *call)) == "coordinator: submitted chain mismatch"
        )
    assert keeper_close(community, 2 * RING) is None
    assert c.submit_hash(2 * RING) == b"\x00" * 32  # freed by its close


def test_ring_wraps_many_times_with_every_chain_intact(community):
    """Submissions into slots 0, RING - 1, RING, 2 RING - 1, 2 RING, ... (each word used again and again),
    closed as they end: every close takes exactly its slot's requests, in one call or in pages."""
    for lap in range(4):
        for slot in (lap * RING, lap * RING + RING - 1):
            community.travel_to(max(community.now, community.model.slot_end(slot - 1) if slot else community.now))
            while community.model.next_slot_to_close < slot:
                assert keeper_close(community, community.model.next_slot_to_close) is None
            for m in range(3):
                community.submit(m, 1_000 + 10 * m + lap, 100 * m, 1)
            assert int.from_bytes(community.c.submit_hash(slot)[24:], "big") == (slot << 32) | 3
            community.to_end_of(slot)
            assert keeper_close(community, slot, page=2 if lap % 2 else None) is None
            [closed] = logs(community.c, "SlotClosed")
            assert closed["requests"] == 3


def test_ring_a_close_cannot_take_a_later_slots_requests(community, attacker):
    """Slot 0 has no submission and the keepers idle; slot RING, in the same word (free), takes a request. A
    closer lists it for slot 0 (to settle it before its slot, or have it carried and granted twice): refused;
    slot 0 closes empty and leaves slot RING's chain alone, which then closes with its request."""
    community.travel_to(community.model.slot_end(RING - 1))
    community.submit(0, 5_000, 200, 1)
    [request] = community.model.pending(RING)
    c, chain_ring = community.c, community.c.submit_hash(RING)
    steal = close_calldata([request], BETA1_PM)
    assert attempt(attacker.address, lambda: c.close_slot(0, *steal)) == "coordinator: submitted chain mismatch"
    assert keeper_close(community, 0) is None
    assert c.submit_hash(RING) == chain_ring
    community.to_end_of(RING)
    for slot in range(1, RING + 1):
        assert keeper_close(community, slot) is None
    [closed] = logs(c, "SlotClosed")
    assert (closed["slot"], closed["requests"], closed["granted_w"]) == (RING, 1, 5_000)
