"""Random multi-slot histories through the contract and through core give identical results (Hypothesis).

Every close compares the SlotClosed event (capacity, granted, counts, partial grant, and the allocations
commitment: a hash over every request's arrival and grant in the verified order), the expiry events and the
carry chain with `core.coordinator` (whose schedule is the `greedy` policy of core). The keeper's order comes
from core; the contract verifies it independently, so a disagreement on the order is a revert here. Before a
slot's close a stranger may interfere: begin its own paged close and list values from the whole uint256 range
(aliases modulo the field of the real requests included), then leave it; or race the keeper with an honest paged
close that the keeper's close overtakes. Each of its calls goes to the twin first (`Mirrored.mirror`: same
outcome, same reason, nothing changed by a refusal), and the keeper's close is the rule's all the same.
"""

import boa
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.coordination.model.coordinator import (
    FIELD,
    chain,
    close,
    pack,
    paged_calldata,
)
from gridchain.coordination.model.policies import POLICIES
from gridchain.coordination.model.request import ChargingRequest, Slot
from tests.support.community import Community
from tests.support.mirrored import fresh_traces

# few distinct values, so that ties in ratio and priority are common
demand = st.one_of(st.sampled_from([10, 20, 30, 50, 60, 100]), st.integers(1, 200))
request = st.tuples(st.integers(0, 3), demand, st.sampled_from([0, 100, 500, 900, 999]), st.integers(1, 4))
# a stranger's interference before the keeper's close: none, an abandoned paged close listing hostile values
# (k picks the real request whose alias k * FIELD may be listed), or an honest paged close the keeper overtakes
listed = st.one_of(
    st.integers(0, 2**256 - 1), st.integers(0, 2**176 - 1), st.tuples(st.integers(0, 7), st.integers(1, 5))
)
interference = st.one_of(
    st.none(),
    st.tuples(st.just("abandon"), st.lists(listed, min_size=1, max_size=3), st.booleans()),
    st.tuples(st.just("race"), st.integers(1, 3), st.booleans()),
)
slot_plan = st.tuples(
    st.one_of(st.none(), st.sampled_from([0, 50, 100, 250]), st.integers(0, 400)),  # capacity posted, or not
    st.lists(request, max_size=8),
    interference,
)


def interfere(community, slot, how, stranger) -> None:
    """The stranger's calls, each through the twin first: both go through or both refuse with one reason."""
    c, m = community, community.model
    pending = m.pending(slot)
    if how is None or not pending:
        return
    paged = paged_calldata(pending, m.beta1_pm, how[1] if how[0] == "race" else 2)
    if how[0] == "abandon":
        _, values, sorted_side = how
        words = [v if isinstance(v, int) else pending[v[0] % len(pending)] + v[1] * FIELD for v in values]
        if not c.attempt(lambda: c.begin_close(slot, paged.n, chain(words), stranger), "abandon: begin").ok:
            return
        page = c.close_sorted_page if sorted_side else c.close_pending_page
        c.attempt(lambda: page(words, stranger), "abandon: page")
        return
    _, _, sorted_first = how  # race: an honest paged close, a page in, then overtaken by the keeper
    c.begin_close(slot, paged.n, paged.sorted_hash, stranger)
    if sorted_first:
        c.close_sorted_page(paged.sorted_pages[0], stranger)
    else:
        c.close_pending_page(paged.pending_pages[0], stranger)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([0, 250, 500, 1000]),
    st.lists(slot_plan, min_size=1, max_size=5),
    st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=5, max_size=5),
)
def test_contract_equals_core_over_slots(beta1_pm, plan, pages):
    """Each slot closes in one call (None) or in pages of 1..5 requests, whatever a stranger did first: always
    the model's result, and the stranger's paged close is void afterwards."""
    with boa.env.anchor():
        fresh_traces()  # each example deploys at the same address: its snapshots read only its own slots
        community = Community(beta1_pm=beta1_pm, capacity_w=120, request_limit=8)  # up to 8 a slot from a member
        stranger = boa.env.generate_address()
        for slot, (capacity, requests, how) in enumerate(plan):
            if capacity is not None:
                community.post(slot, capacity)
            for member, d, s, t in requests:
                community.submit(member, d, s, t)
            community.to_end_of(slot)
            interfere(community, slot, how, stranger)
            community.close(slot, pages[slot])  # asserts the chain's events and carry chain equal the model's
            assert community.model.paging_of(str(stranger)) is None
            assert not community.attempt(lambda: community.finish_close(stranger), "stranger finishes").ok
        assert community.c.next_slot_to_close() == len(plan)


def test_twin_uses_the_core_policy():
    # the twin's close is exactly POLICIES["greedy"] on the unpacked requests
    words = [pack(80, 0, 1, 0), pack(50, 500, 1, 1), pack(20, 900, 3, 2)]
    result = close(0, words, 100, 500)
    direct = POLICIES["greedy"].schedule(
        Slot(
            100,
            (
                ChargingRequest("#0.0", 80, 0, 1, 0),
                ChargingRequest("#0.1", 50, 500, 1, 1),
                ChargingRequest("#0.2", 20, 900, 3, 2),
            ),
        )
    )
    assert result.schedule == direct
