"""Hand-worked examples of the scheduling rules (issue 2, section 2). Priorities are worked out in comments:
u = beta1_pm * (1000 - soc_pm) + (1000 - beta1_pm) * F(tcc), F = 1000, 500, 0 for tcc = 1, 2, >= 3."""

import pytest

from gridchain.coordination.model import POLICIES, ChargingRequest, Slot
from gridchain.coordination.model.priority import priority, urgency_pm
from gridchain.errors import InputError
from tests.coordination.model.helpers import grants, req, slot

greedy, fcfs, optimal = POLICIES["greedy"], POLICIES["fcfs"], POLICIES["optimal"]


@pytest.mark.parametrize("tcc, f", [(1, 1000), (2, 500), (3, 0), (4, 0), (2**32 - 1, 0)])
def test_urgency_function_is_the_papers(tcc, f):
    assert urgency_pm(tcc) == f


@pytest.mark.parametrize(
    "soc_pm, tcc, beta1_pm, u",
    [
        (0, 1, 500, 1_000_000),  # the maximum
        (999, 3, 500, 500),
        (999, 3, 0, 0),  # beta1 = 0 and F = 0: no priority at all
        (0, 5, 1000, 1_000_000),  # beta1 = 1000 ignores the TCC
        (250, 2, 500, 500 * 750 + 500 * 500),
        (250, 2, 200, 200 * 750 + 800 * 500),
    ],
)
def test_priority(soc_pm, tcc, beta1_pm, u):
    assert priority(req("a", 1, soc_pm, tcc), beta1_pm) == u


def test_skip_and_continue_then_leftover():
    # b: u 750_000 / 50 = 15_000; a: 1_000_000 / 80 = 12_500; c: 50_000 / 20 = 2_500.
    # b fits (50 left), a does not (skipped), c still fits (30 left), leftover 30 to a.
    s = slot(100, req("a", 80, 0, 1, 0), req("b", 50, 500, 1, 1), req("c", 20, 900, 3, 2))
    out = greedy.schedule(s)
    assert grants(out) == {"a": (30, "partial"), "b": (50, "scheduled"), "c": (20, "scheduled")}
    assert out.unused_w == 0
    assert [a.rank for a in out.allocations] == [1, 0, 2]


def test_leftover_goes_to_highest_priority_not_highest_ratio():
    # r: 1_000_000 / 60; p: 600_000 / 50 = 12_000; q: 750_000 / 95 = 7_894. Order r, p, q.
    # r fits (40 left); p and q do not; leftover to q (u 750_000 > 600_000) though p comes first.
    s = slot(100, req("r", 60, 0, 1), req("p", 50, 800, 1, 1), req("q", 95, 0, 2, 2))
    assert grants(greedy.schedule(s)) == {"r": (60, "scheduled"), "p": (0, "deferred"), "q": (40, "partial")}


def test_leftover_tie_on_priority_goes_to_earliest_in_order():
    # r: 1_000_000 / 90; s: 500_000 / 50 = 10_000; t: 500_000 / 80 = 6_250. s and t tie on u; s is earlier.
    s = slot(100, req("t", 80, 0, 3, 0), req("s", 50, 0, 3, 1), req("r", 90, 0, 1, 2))
    assert grants(greedy.schedule(s)) == {"t": (0, "deferred"), "s": (10, "partial"), "r": (90, "scheduled")}


def test_ratio_tie_goes_to_higher_priority():
    # a: 500_000 / 100 = 5_000; b: 250_000 / 50 = 5_000: equal ratios, a has the higher u.
    s = slot(100, req("b", 50, 500, 3, 0), req("a", 100, 0, 3, 1))
    out = greedy.schedule(s)
    assert [a.rank for a in out.allocations] == [1, 0]
    assert grants(out) == {"a": (100, "scheduled"), "b": (0, "deferred")}
    # With 50 W, a does not fit and b does: skip-and-continue again.
    assert grants(greedy.schedule(slot(50, *s.requests))) == {"a": (0, "deferred"), "b": (50, "scheduled")}


def test_ratio_and_priority_tie_goes_to_earlier_arrival():
    s = slot(100, req("late", 100, 0, 3, 5), req("early", 100, 0, 3, 3))
    assert grants(greedy.schedule(s)) == {"late": (0, "deferred"), "early": (100, "scheduled")}


def test_full_tie_goes_to_smaller_id():
    s = slot(100, req("b", 100, 0, 3, 7), req("a", 100, 0, 3, 7))
    assert grants(greedy.schedule(s)) == {"b": (0, "deferred"), "a": (100, "scheduled")}


def test_id_order_is_string_order():
    s = slot(100, req("10", 100, 0, 3, 0), req("9", 100, 0, 3, 0))
    assert grants(greedy.schedule(s))["10"] == (100, "scheduled")  # "10" < "9" as strings


def test_input_order_does_not_matter_when_arrivals_are_explicit():
    # the same requests in another input order give the same grants when arrivals are explicit
    reqs = [req("a", 70, 100, 2, 0), req("b", 40, 300, 1, 1), req("c", 40, 300, 1, 2), req("d", 10, 990, 9, 3)]
    forward = grants(greedy.schedule(slot(100, *reqs)))
    backward = grants(greedy.schedule(slot(100, *reversed(reqs))))
    assert forward == backward


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_capacity_zero_defers_everyone(policy):
    out = policy.schedule(slot(0, req("a", 1, 0, 1), req("b", 5, 500, 2, 1)))
    assert grants(out) == {"a": (0, "deferred"), "b": (0, "deferred")}
    assert out.unused_w == 0


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_empty_slot_leaves_capacity_unused(policy):
    out = policy.schedule(slot(1234))
    assert out.allocations == () and out.unused_w == 1234 and out.granted_w == 0


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_everyone_fits(policy):
    out = policy.schedule(slot(100, req("a", 30, 0, 1), req("b", 20, 0, 5, 1)))
    assert grants(out) == {"a": (30, "scheduled"), "b": (20, "scheduled")}
    assert out.unused_w == 50


def test_exact_fill_leaves_no_leftover():
    # b: 1_000_000 / 40; a: 1_000_000 / 60; c: 500 / 10. b and a fill the slot exactly; nothing is left for c.
    out = greedy.schedule(slot(100, req("a", 60, 0, 1), req("b", 40, 0, 1, 1), req("c", 10, 999, 3, 2)))
    assert grants(out) == {"a": (60, "scheduled"), "b": (40, "scheduled"), "c": (0, "deferred")}


def test_fcfs_orders_by_arrival_only():
    # greedy would take c first (u 1_000_000 / 30); FCFS walks a, b, c: a fits, b does not, c fits, b gets 10.
    s = slot(100, req("c", 30, 0, 1, 2), req("a", 60, 900, 5, 0), req("b", 50, 900, 5, 1))
    assert grants(fcfs.schedule(s)) == {"c": (30, "scheduled"), "a": (60, "scheduled"), "b": (10, "partial")}
    assert [a.rank for a in fcfs.schedule(s).allocations] == [2, 0, 1]


def test_fcfs_ties_on_arrival_by_id():
    s = slot(50, req("y", 50, 0, 1, 4), req("x", 50, 0, 1, 4))
    assert grants(fcfs.schedule(s)) == {"y": (0, "deferred"), "x": (50, "scheduled")}


def test_optimal_beats_greedy_where_the_ratio_misleads():
    # a: 1_000_000 / 51 is first by ratio and blocks b and c (750_000 each, 50 W each): greedy gets 1_000_000,
    # the optimum takes b and c for 1_500_000 and fills the slot.
    s = slot(100, req("a", 51, 0, 1, 0), req("b", 50, 0, 2, 1), req("c", 50, 0, 2, 2))
    assert grants(greedy.schedule(s)) == {"a": (51, "scheduled"), "b": (49, "partial"), "c": (0, "deferred")}
    assert grants(optimal.schedule(s)) == {"a": (0, "deferred"), "b": (50, "scheduled"), "c": (50, "scheduled")}


def test_optimal_ties_on_value_take_the_least_demand_then_fill_the_rest():
    # {a} and {b, c} are both worth 1_000_000 (b and c: 500_000 each); the optimum takes the lighter {a}
    # (90 W < 100 W); b and c tie on u for the leftover 10 W, and b is earlier in the order (arrival).
    s = slot(100, req("a", 90, 0, 1, 0), req("b", 50, 0, 3, 1), req("c", 50, 0, 3, 2))
    assert grants(optimal.schedule(s)) == {"a": (90, "scheduled"), "b": (10, "partial"), "c": (0, "deferred")}


def test_optimal_schedules_zero_priority_requests_that_fit():
    # beta1 = 0 and tcc >= 3 give u = 0: they add nothing to the objective but still get capacity.
    reqs = (req("a", 60, 0, 3, 0), req("b", 50, 0, 3, 1), req("c", 30, 0, 3, 2))
    expected = {"a": (60, "scheduled"), "b": (10, "partial"), "c": (30, "scheduled")}
    assert grants(optimal.schedule(slot(100, *reqs, beta1_pm=0))) == expected
    assert grants(greedy.schedule(slot(100, *reqs, beta1_pm=0))) == expected


def test_result_json_shape():
    d = greedy.schedule(slot(10, req("a", 20, 0, 1))).to_dict()
    assert d == {
        "policy": "greedy",
        "capacity_w": 10,
        "allocations": [{"id": "a", "granted_w": 10, "status": "partial", "priority": 1_000_000, "rank": 0}],
        "granted_w": 10,
        "unused_w": 0,
    }


# --- EDF and LLF (ACN-Sim's sorted policies) ----------------------------------------------------------------

edf, llf = POLICIES["edf"], POLICIES["llf"]


def test_edf_walks_by_deadline_and_the_first_misfit_takes_the_rest():
    # deadlines: b (tcc 1), c (2), a (4). b fits (40), c does not (70 > 60): c takes 60, a gets nothing even
    # though it would fit the 60 (greedy's walk would skip c and schedule a).
    s = slot(100, req("a", 50, 0, 4, 0), req("b", 40, 900, 1, 1), req("c", 70, 900, 2, 2))
    assert grants(edf.schedule(s)) == {"b": (40, "scheduled"), "c": (60, "partial"), "a": (0, "deferred")}
    assert [a.rank for a in edf.schedule(s).allocations] == [2, 0, 1]


def test_edf_ties_on_deadline_by_arrival():
    s = slot(50, req("late", 50, 0, 3, 7), req("early", 50, 0, 3, 2))
    assert grants(edf.schedule(s)) == {"late": (0, "deferred"), "early": (50, "scheduled")}


def test_llf_puts_the_request_with_least_slack_first():
    # a: tcc 6, needs ceil(100 / 10) = 10 slots -> laxity -4; b: tcc 2, needs 1 slot -> laxity 1.
    # EDF serves b first; LLF serves a first.
    a = ChargingRequest("a", 10, 500, 6, 0, remaining_w=100)
    b = ChargingRequest("b", 10, 500, 2, 1)
    s = Slot(10, (a, b))
    assert grants(llf.schedule(s)) == {"a": (10, "scheduled"), "b": (0, "deferred")}
    assert grants(edf.schedule(s)) == {"a": (0, "deferred"), "b": (10, "scheduled")}


def test_laxity_and_remaining_default():
    r = ChargingRequest("r", 3700, 0, 8, 0, remaining_w=10_000)
    assert r.slots_needed == 3 and r.laxity == 5
    assert ChargingRequest("p", 50, 0, 1, 0).remaining_w == 50  # the paper's request: all it needs


def test_remaining_below_demand_is_refused_naming_the_field():
    with pytest.raises(InputError, match="remaining_w: 49 is outside 50"):
        ChargingRequest("r", 50, 0, 1, 0, remaining_w=49)
