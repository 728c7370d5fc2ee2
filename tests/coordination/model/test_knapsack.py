import itertools

from hypothesis import given
from hypothesis import strategies as st

from gridchain.coordination.model.knapsack import max_value_subset


def brute(weights, values, capacity):
    """(best value, least weight among subsets of best value)"""
    best = (0, 0)
    for mask in itertools.product((0, 1), repeat=len(weights)):
        w = sum(x for x, m in zip(weights, mask) if m)
        v = sum(x for x, m in zip(values, mask) if m)
        if w <= capacity and (v > best[0] or (v == best[0] and w < best[1])):
            best = (v, w)
    return best


items = st.lists(st.tuples(st.integers(1, 40), st.integers(0, 30)), max_size=10)


@given(items, st.integers(0, 150))
def test_matches_brute_force_value_and_least_weight(pairs, capacity):
    weights = [w for w, _ in pairs]
    values = [v for _, v in pairs]
    chosen = max_value_subset(weights, values, capacity)
    assert chosen == sorted(set(chosen))
    w = sum(weights[i] for i in chosen)
    v = sum(values[i] for i in chosen)
    assert w <= capacity
    assert (v, w) == brute(weights, values, capacity)


@given(items, st.integers(2**62, 2**64 - 1))
def test_huge_capacity_uses_exact_python_ints(pairs, capacity):
    weights = [w * 2**58 for w, _ in pairs]  # sums overflow int64
    values = [v for _, v in pairs]
    chosen = max_value_subset(weights, values, capacity)
    assert (sum(values[i] for i in chosen), sum(weights[i] for i in chosen)) == brute(weights, values, capacity)


def test_empty():
    assert max_value_subset([], [], 10) == []


def test_nothing_fits():
    assert max_value_subset([5, 6], [3, 4], 4) == []
