import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridchain.coordination.model import POLICIES
from gridchain.coordination.model.multislot import EsuArrival, capacity_at, simulate
from gridchain.errors import InputError

greedy = POLICIES["greedy"]


def test_hand_worked_two_slots():
    # slot 0: a (u 1_000_000 / 60) then b (u 750_000 / 100): a gets 60, b the leftover 40.
    # slot 1: b asks for its remaining 60 with SoC raised by 40/1000 and TCC 1, and gets it.
    arrivals = [[EsuArrival("a", 1000, 0, 60, 1), EsuArrival("b", 1000, 0, 100, 2)]]
    seen = []
    result = simulate(arrivals, [100], greedy, keep_schedules=True, on_slot=lambda t, s: seen.append(t))
    assert seen == [0, 1]
    slot0, slot1 = result.schedules
    assert [(a.id, a.granted_w, str(a.status)) for a in slot0.allocations] == [
        ("a", 60, "scheduled"),
        ("b", 40, "partial"),
    ]
    assert [(a.id, a.granted_w) for a in slot1.allocations] == [("b", 60)]
    assert slot1.allocations[0].priority == 500 * (1000 - 40) + 500 * 1000  # soc 40 per-mille, tcc 1
    assert [(o.id, o.departure_slot, o.received_wh) for o in result.outcomes] == [("a", 0, 60), ("b", 1, 100)]
    assert result.charging_index == 1.0 and result.energy_delivered == 1.0 and result.fully_served == 1.0


def test_esu_leaves_when_tcc_runs_out():
    # capacity 0 in slots 0-1 then plenty: an ESU with tcc 2 leaves unserved before capacity comes.
    arrivals = [[EsuArrival("a", 1000, 500, 100, 2)]]
    result = simulate(arrivals, [0, 0, 10_000], greedy)
    assert [(o.departure_slot, o.received_wh) for o in result.outcomes] == [(1, 0)]
    assert result.charging_index == 0.0 and result.fully_served == 0.0


def test_empty_slots_between_arrivals_and_later_capacity():
    arrivals = [[], [EsuArrival("a", 100, 0, 50, 1)], [], [EsuArrival("b", 100, 0, 80, 1)]]
    result = simulate(arrivals, [10, 50, 10, 70], greedy, keep_schedules=True)
    assert len(result.schedules) == 4
    assert {o.id: o.received_wh for o in result.outcomes} == {"a": 50, "b": 70}
    assert result.energy_delivered == 120 / 130
    assert result.charging_index == pytest.approx((1 + 70 / 80) / 2)


def test_capacity_past_the_list_repeats_the_last():
    assert [capacity_at([5, 7], t) for t in range(4)] == [5, 7, 7, 7]


def test_soc_rises_with_grants():
    arrivals = [[EsuArrival("a", 1000, 0, 999, 3)]]
    result = simulate(arrivals, [300], POLICIES["fcfs"], keep_schedules=True)
    # soc 0, then 300, then 600 per-mille; the rest (99 Wh) after three slots is lost when tcc hits 0
    assert [s.allocations[0].priority for s in result.schedules] == [
        500 * 1000 + 0,
        500 * 700 + 500 * 500,
        500 * 400 + 500 * 1000,
    ]
    assert result.outcomes[0].received_wh == 900


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"energy_wh": 1000}, "energy_wh"),
        ({"required_wh": 0}, "required_wh"),
        ({"required_wh": 1001}, "required_wh"),
        ({"tcc": 0}, "tcc"),
        ({"battery_wh": 0}, "battery_wh"),
    ],
)
def test_bad_arrival_is_rejected(kwargs, field):
    base = {"id": "a", "battery_wh": 1000, "energy_wh": 0, "required_wh": 10, "tcc": 1}
    with pytest.raises(InputError) as e:
        EsuArrival(**(base | kwargs))
    assert e.value.field == field


def test_bad_simulation_input():
    with pytest.raises(InputError, match="capacities"):
        simulate([], [], greedy)
    with pytest.raises(InputError, match="unique"):
        simulate([[EsuArrival("a", 10, 0, 1, 1)], [EsuArrival("a", 10, 0, 1, 1)]], [5], greedy)


esus = st.builds(
    lambda i, battery, soc, share, tcc: EsuArrival(
        f"e{i}", battery, battery * soc // 1000, max(1, (battery - battery * soc // 1000) * share // 100), tcc
    ),
    st.integers(0, 10**6),  # the id is renamed below; unbounded, it could exceed the 64 characters an id may have
    st.integers(1000, 200_000),
    st.integers(0, 999),
    st.integers(1, 100),
    st.integers(1, 6),
)


@given(
    st.lists(st.lists(esus, max_size=6), max_size=6),
    st.lists(st.integers(0, 300_000), min_size=1, max_size=8),
    st.sampled_from(sorted(POLICIES)),
)
def test_energy_conservation(arrivals, capacities, name):
    n = 0
    for batch in arrivals:
        for k, e in enumerate(batch):
            batch[k] = EsuArrival(f"e{n}", e.battery_wh, e.energy_wh, e.required_wh, e.tcc)
            n += 1
    result = simulate(arrivals, capacities, POLICIES[name], keep_schedules=True)
    assert len(result.outcomes) == n
    for o in result.outcomes:
        assert 0 <= o.received_wh <= o.required_wh
        assert o.arrival_slot <= o.departure_slot
    delivered = sum(o.received_wh for o in result.outcomes)
    assert delivered == sum(s.granted_w for s in result.schedules)
    for t, s in enumerate(result.schedules):
        assert s.capacity_w == capacity_at(capacities, t) and s.granted_w <= s.capacity_w
    assert 0.0 <= result.charging_index <= 1.0


def test_a_charger_caps_each_slot_and_the_request_carries_the_rest():
    # 25 Wh wanted through a 10 W charger, plenty of capacity: 10, 10, 5; the first request says 25 remain
    seen = []
    result = simulate(
        [[EsuArrival("ev", 100, 0, 25, 4, max_w=10)]],
        [1_000],
        POLICIES["greedy"],
        on_slot=lambda t, s: seen.append(s.allocations[0].granted_w),
    )
    assert seen == [10, 10, 5] and result.outcomes[0].received_wh == 25
    with pytest.raises(InputError, match="max_w: 0 is outside"):
        EsuArrival("ev", 100, 0, 25, 4, max_w=0)
