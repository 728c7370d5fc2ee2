"""Properties every policy must have, on random slots (Hypothesis)."""

import itertools
import random
from functools import cmp_to_key

from hypothesis import given
from hypothesis import strategies as st

from gridchain.coordination.model import POLICIES, Slot, Status
from gridchain.coordination.model.priority import precedes, priority, priority_order
from tests.coordination.model.strategies import slots

policies = st.sampled_from(sorted(POLICIES))


def reference_order(slot: Slot) -> list[int]:
    us = [priority(r, slot.beta1_pm) for r in slot.requests]

    def cmp(i: int, j: int) -> int:
        a, b = slot.requests[i], slot.requests[j]
        return -1 if precedes(a, us[i], b, us[j]) else (1 if precedes(b, us[j], a, us[i]) else 0)

    return sorted(range(len(slot.requests)), key=cmp_to_key(cmp))


@given(slots(max_requests=30))
def test_fast_order_equals_reference_comparison(slot):
    us = [priority(r, slot.beta1_pm) for r in slot.requests]
    assert priority_order(slot.requests, us) == reference_order(slot)


@given(slots(), policies)
def test_grants_respect_capacity_and_demand(slot, name):
    out = POLICIES[name].schedule(slot)
    assert [a.id for a in out.allocations] == [r.id for r in slot.requests]
    assert sum(a.granted_w for a in out.allocations) + out.unused_w == slot.capacity_w
    assert out.unused_w >= 0
    for a, r in zip(out.allocations, slot.requests):
        assert 0 <= a.granted_w <= r.demand_w
        if a.status is Status.SCHEDULED:
            assert a.granted_w == r.demand_w
        elif a.status is Status.PARTIAL:
            assert 0 < a.granted_w < r.demand_w
        else:
            assert a.granted_w == 0
    assert sum(a.status is Status.PARTIAL for a in out.allocations) <= 1


@given(slots(), policies)
def test_no_capacity_idles_while_someone_waits(slot, name):
    out = POLICIES[name].schedule(slot)
    if any(a.status is not Status.SCHEDULED for a in out.allocations):
        assert out.unused_w == 0


@given(slots(), policies, st.randoms(use_true_random=False))
def test_deterministic_and_independent_of_input_order(slot, name, rnd):
    policy = POLICIES[name]
    first = policy.schedule(slot)
    assert policy.schedule(slot) == first
    shuffled = list(slot.requests)
    rnd.shuffle(shuffled)
    again = policy.schedule(Slot(slot.capacity_w, tuple(shuffled), slot.beta1_pm))
    assert {a.id: a for a in again.allocations} == {a.id: a for a in first.allocations}


def scheduled_value(out) -> int:
    return sum(a.priority for a in out.allocations if a.status is Status.SCHEDULED)


@given(slots())
def test_optimal_objective_at_least_greedy_and_fcfs(slot):
    best = scheduled_value(POLICIES["optimal"].schedule(slot))
    assert best >= scheduled_value(POLICIES["greedy"].schedule(slot))
    assert best >= scheduled_value(POLICIES["fcfs"].schedule(slot))


@given(slots(max_requests=9))
def test_optimal_objective_equals_brute_force(slot):
    reqs = slot.requests
    us = [priority(r, slot.beta1_pm) for r in reqs]
    best = 0
    for mask in itertools.product((0, 1), repeat=len(reqs)):
        if sum(r.demand_w for r, m in zip(reqs, mask) if m) <= slot.capacity_w:
            best = max(best, sum(u for u, m in zip(us, mask) if m))
    assert scheduled_value(POLICIES["optimal"].schedule(slot)) == best


def test_large_slot_sanity():
    rnd = random.Random(7)
    from gridchain.coordination.model import ChargingRequest

    reqs = tuple(
        ChargingRequest(f"r{i}", rnd.randint(1, 200_000), rnd.randint(0, 999), rnd.randint(1, 8), i)
        for i in range(2000)
    )
    out = POLICIES["greedy"].schedule(Slot(10_000_000, reqs))
    assert out.unused_w == 0 and sum(a.granted_w for a in out.allocations) == 10_000_000
