"""Random multi-slot histories through the contract and through core give identical results (Hypothesis).

Every close compares the SlotClosed event (capacity, granted, counts, partial grant, and the allocations
commitment: a hash over every request's arrival and grant in the verified order), the expiry events and the
carry chain with `core.coordinator` (whose schedule is the `greedy` policy of core). The keeper's order comes
from core; the contract verifies it independently, so a disagreement on the order is a revert here.
"""

import boa
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.core.coordinator import close, pack
from gridchain.core.policies import POLICIES
from gridchain.core.request import ChargingRequest, Slot

from .conftest import Community

# few distinct values, so that ties in ratio and priority are common
demand = st.one_of(st.sampled_from([10, 20, 30, 50, 60, 100]), st.integers(1, 200))
request = st.tuples(st.integers(0, 3), demand, st.sampled_from([0, 100, 500, 900, 999]), st.integers(1, 4))
slot_plan = st.tuples(
    st.one_of(st.none(), st.sampled_from([0, 50, 100, 250]), st.integers(0, 400)),  # capacity posted, or not
    st.lists(request, max_size=8),
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([0, 250, 500, 1000]), st.lists(slot_plan, min_size=1, max_size=5),
       st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=5, max_size=5))  # fmt: skip
def test_contract_equals_core_over_slots(beta1_pm, plan, pages):
    """Each slot closes in one call (None) or in pages of 1..5 requests: always the model's result."""
    with boa.env.anchor():
        community = Community(beta1_pm=beta1_pm, capacity_w=120, request_limit=8)  # up to 8 a slot from a member
        for slot, (capacity, requests) in enumerate(plan):
            if capacity is not None:
                community.post(slot, capacity)
            for member, d, s, t in requests:
                community.submit(member, d, s, t)
            community.to_end_of(slot)
            community.close(slot, pages[slot])  # asserts the chain's events and carry chain equal the model's
        assert community.c.next_slot_to_close() == len(plan)


def test_twin_uses_the_core_policy():
    # the twin's close is exactly POLICIES["greedy"] on the unpacked requests
    words = [pack(80, 0, 1, 0), pack(50, 500, 1, 1), pack(20, 900, 3, 2)]
    result = close(0, words, 100, 500)
    direct = POLICIES["greedy"].schedule(
        Slot(100, (ChargingRequest("#0.0", 80, 0, 1, 0), ChargingRequest("#0.1", 50, 500, 1, 1),
                   ChargingRequest("#0.2", 20, 900, 3, 2)))  # fmt: skip
    )
    assert result.schedule == direct
