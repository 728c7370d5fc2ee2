"""The numpy path (`fast`, on a `SlotTable`) against the reference (on the equal `Slot`): identical schedules,
every field, for greedy and FCFS, on hostile values (Hypothesis)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.coordination.model import ChargingRequest, Slot, fast, get_policy
from gridchain.coordination.model.priority import priority_order
from gridchain.coordination.model.table import ScheduleTable, SlotTable
from gridchain.errors import InputError
from tests.coordination.model.strategies import slots

TOP = 2**64 - 1
ids = st.one_of(st.sampled_from(["a", "b", "a\x00", "\x00", "é", "B", "aa"]), st.text(min_size=1, max_size=4))
huge = st.integers(TOP - 2**20, TOP)


@st.composite
def hostile_slots(draw, max_requests: int = 40) -> Slot:
    """Huge demands, equal ratios (demand = m x (1000 - soc) with beta1 = 1000), ties on all but arrival or id."""
    n = draw(st.integers(0, max_requests))
    beta1 = draw(st.sampled_from([0, 1000, 500]) | st.integers(0, 1000))
    m = draw(st.integers(1, 2**20))
    names = draw(st.lists(ids, min_size=n, max_size=n, unique=True))
    requests = []
    for i in range(n):
        soc = draw(st.sampled_from([0, 1, 500, 999]) | st.integers(0, 999))
        demand = draw(
            st.one_of(
                st.integers(1, 8),
                huge,
                st.just(min(TOP, m * (1000 - soc))),
                st.just(min(TOP, (m << 40) * (1000 - soc))),
                st.integers(1, TOP),
            )
        )
        requests.append(
            ChargingRequest(
                names[i], demand, soc, draw(st.integers(1, 4)), draw(st.sampled_from([0, 1, TOP]) | st.integers(0, 3))
            )
        )
    total = sum(r.demand_w for r in requests)
    capacity = draw(st.one_of(st.just(0), st.integers(0, min(max(total, 1), TOP)), st.integers(0, TOP)))
    return Slot(capacity, tuple(requests), beta1)


def assert_same(slot: Slot, name: str) -> None:
    policy = get_policy(name)
    table = SlotTable.of(slot)
    out = policy.schedule(table)
    assert isinstance(out, ScheduleTable)
    ref = policy.reference(slot)
    assert out.to_schedule() == ref
    assert out.to_dict() == ref.to_dict()
    assert out.to_json() == json.dumps(ref.to_dict())
    assert table.to_slot() == slot


@settings(max_examples=300)
@given(hostile_slots(), st.sampled_from(["greedy", "fcfs"]))
def test_fast_equals_reference_on_hostile_slots(slot, name):
    assert_same(slot, name)


@given(slots(max_requests=30), st.sampled_from(["greedy", "fcfs"]))
def test_fast_equals_reference_on_the_property_slots(slot, name):
    assert_same(slot, name)


@given(hostile_slots())
def test_fast_order_equals_the_reference_order(slot):
    table = SlotTable.of(slot)
    u = fast.priorities(table)
    assert fast.greedy_order(table, u).tolist() == priority_order(slot.requests, u.tolist())


def test_float_keys_that_merge_distinct_ratios_are_repaired():
    # 2**64 - 1 and 2**64 - 2 are the same float64; the smaller demand has the larger ratio and must come first
    slot = Slot(TOP, (ChargingRequest("x", TOP, 0, 1, 0), ChargingRequest("y", TOP - 1, 0, 1, 1)))
    table = SlotTable.of(slot)
    assert fast.greedy_order(table, fast.priorities(table)).tolist() == [1, 0]
    assert_same(slot, "greedy")


def test_demands_that_could_overflow_int64_take_the_python_walk():
    demand = np.array([2**62, 2**62], dtype=np.uint64)
    assert fast.greedy_walk(demand, np.arange(2), 2**63) is None
    assert_same(Slot(2**63 + 5, (ChargingRequest("a", 2**63, 0, 1, 0), ChargingRequest("b", 2**63, 0, 1, 1))), "fcfs")


def many_rounds_slot(n: int) -> Slot:
    """FCFS walk where every round schedules one request and skips the next: capacity shrinks by halves."""
    requests = []
    for i in range(n):
        requests.append(ChargingRequest(f"fit{i}", 2 ** (n - i), 0, 1, 2 * i))
        requests.append(ChargingRequest(f"skip{i}", 2 ** (n - i) + 1, 0, 1, 2 * i + 1))
    return Slot(2 ** (n + 1) - 1, tuple(requests))


@pytest.mark.parametrize("rounds", [1, 3, fast.WALK_ROUNDS])
def test_the_walk_after_its_rounds_finishes_in_python(monkeypatch, rounds):
    monkeypatch.setattr(fast, "WALK_ROUNDS", rounds)
    for name in ("greedy", "fcfs"):
        assert_same(many_rounds_slot(40), name)


def test_a_large_slot_with_many_ties():
    rng = np.random.default_rng(7)
    n = 5000
    soc = rng.integers(0, 1000, n)
    demand = (1000 - soc) * rng.integers(1, 4, n)
    requests = tuple(
        ChargingRequest(f"r{i:05d}", int(demand[i]), int(soc[i]), int(rng.integers(1, 4)), int(rng.integers(0, 50)))
        for i in range(n)
    )
    slot = Slot(int(demand.sum()) // 3, requests, 1000)
    for name in ("greedy", "fcfs"):
        assert_same(slot, name)


@pytest.mark.parametrize(
    "columns, message",
    [
        ({"demand_w": [0]}, "requests[0].demand_w: 0 is outside 1..18446744073709551615"),
        ({"demand_w": [2**64]}, "requests[0].demand_w: 18446744073709551616 is outside 1..18446744073709551615"),
        ({"soc_pm": [True]}, "requests[0].soc_pm: true is not an integer"),
        ({"tcc": [1.0]}, "requests[0].tcc: 1.0 is not an integer"),
        ({"arrival": [-1]}, "requests[0].arrival: -1 is outside 0..18446744073709551615"),
        ({"ids": [""]}, 'requests[0].id: "" must have 1..64 characters'),
        ({"ids": [7]}, "requests[0].id: 7 is not a string"),
        ({"capacity_w": -1}, "capacity_w: -1 is outside 0..18446744073709551615"),
        ({"remaining_w": [0]}, "requests[0].remaining_w: 0 is outside 5..340282366920938463463374607431768211455"),
    ],
)
def test_a_table_refuses_what_a_slot_refuses_with_the_same_error(columns, message):
    args = {"capacity_w": 10, "ids": ["a"], "demand_w": [5], "soc_pm": [0], "tcc": [1], "arrival": [0]} | columns
    with pytest.raises(InputError) as e:
        SlotTable(**args)
    assert str(e.value) == message


def test_a_table_refuses_duplicate_ids_as_a_slot_does():
    with pytest.raises(InputError, match=r'requests\[1\].id: "a" is already the id of requests\[0\]'):
        SlotTable(10, ["a", "a"], [1, 1], [0, 0], [1, 1])
