"""PETCON's model: welfare by hand, the round solver against its KKT conditions and cvxpy, the checker."""

import math

import cvxpy as cp
import numpy as np
import pytest

from gridchain.market.petcon import model as M

ONE = M.Market(
    c_min_kwh=np.array([5.0]),
    c_max_kwh=np.array([15.0]),
    sto=np.array([0.25]),
    d_max_kwh=np.array([20.0]),
    r_min_usd=np.array([1.5]),
    tau=0.5,
)


def small_market(seed: int, buyers: int = 4, sellers: int = 5) -> M.Market:
    return M.paper_market(np.random.default_rng([7, seed]), buyers=buyers, sellers=sellers)


def test_utility_cost_welfare_and_bids_by_hand():
    c = np.array([[10.0]])  # stores 0.8 x 10 = 8 kWh: 8 - 5 + 1 = 4 inside the log; w = 0.5 / 0.25 = 2
    d = 10.0 / 0.9
    assert M.utility(ONE, c)[0] == pytest.approx(2 * math.log(4))
    assert M.cost(ONE, c)[0] == pytest.approx(0.01 * d**2 + 0.015 * d)
    assert M.welfare(ONE, c) == pytest.approx(2 * math.log(4) - 0.01 * d**2 - 0.015 * d)
    assert M.buyer_bids(ONE, c)[0, 0] == pytest.approx(0.8 * 0.5 * 10 / (4 * 0.25))  # = 4 $
    s = M.seller_bids(ONE, c)
    assert s[0, 0] == pytest.approx(2 * 0.01 * d + 0.015)
    assert M.payments(M.buyer_bids(ONE, c))[0] == pytest.approx(4.0)
    assert M.rewards(ONE, s)[0] == pytest.approx(s[0, 0] ** 2 / 0.04 + 1.5)
    assert M.budget_surplus(ONE, M.buyer_bids(ONE, c), s) == pytest.approx(4.0 - s[0, 0] ** 2 / 0.04 - 1.5)


def test_cost_squares_each_pair_not_the_sellers_total():
    c = np.array([[0.9], [0.9]])  # two buyers take 1 kWh each of the seller's discharge
    assert M.cost(small_market(0, 2, 1), c)[0] == pytest.approx(2 * (0.01 + 0.015))


@pytest.mark.parametrize("seed", range(6))
def test_round_solution_meets_the_bounds_and_its_kkt_conditions(seed):
    m = small_market(seed, 6, 8)
    rng = np.random.default_rng(seed)
    b, s = rng.uniform(0.01, 3, m.shape), rng.uniform(0.015, 0.5, m.shape)
    sol = M.solve_round(m, b, s)
    take, supply = sol.c_kwh.sum(axis=1), sol.c_kwh.sum(axis=0)
    assert np.all(sol.c_kwh > 0) and np.all(sol.mu >= 0)
    assert np.all(take >= m.lower_kwh * (1 - 1e-9)) and np.all(take <= m.upper_kwh * (1 + 1e-9))
    assert np.all(supply <= m.supply_kwh * (1 + 1e-9))
    assert M.check_round(m, b, s, sol.c_kwh, sol.lam, sol.mu, tol=1e-8) == []


def round_by_cvxpy(m: M.Market, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    c = cp.Variable(m.shape, pos=True)
    take = cp.sum(c, axis=1)
    objective = cp.sum(cp.multiply(b, cp.log(c))) - cp.sum(cp.multiply(s / m.rho, c))
    cons = [take >= m.lower_kwh, take <= m.upper_kwh, cp.sum(c, axis=0) <= m.supply_kwh]
    cp.Problem(cp.Maximize(objective), cons).solve(solver=cp.CLARABEL)
    return c.value


@pytest.mark.parametrize("seed", range(4))
def test_round_solver_matches_cvxpy(seed):
    m = small_market(seed, 3, 4)
    rng = np.random.default_rng(100 + seed)
    b, s = rng.uniform(0.05, 2, m.shape), rng.uniform(0.015, 0.3, m.shape)
    ours, theirs = M.solve_round(m, b, s).c_kwh, round_by_cvxpy(m, b, s)

    def objective(c):
        return float((b * np.log(c) - s / m.rho * c).sum())

    # the same optimum: ours at least as good (an interior point stops a hair short), allocations alike to
    # the interior point's accuracy (its 1e-8 gap leaves the allocation to about 1e-4)
    assert objective(ours) >= objective(theirs) - 1e-9 * abs(objective(theirs))
    assert objective(ours) == pytest.approx(objective(theirs), rel=1e-7)
    assert np.allclose(ours, theirs, rtol=1e-3)


def test_round_solver_warm_starts_from_either_earlier_round():
    m = small_market(3, 6, 8)
    b, s = M.initial_bids(m)
    first = M.solve_round(m, b, s)
    b2, s2 = M.buyer_bids(m, first.c_kwh), M.seller_bids(m, first.c_kwh)
    cold, warm = M.solve_round(m, b2, s2), M.solve_round(m, b2, s2, (first,))
    assert np.allclose(cold.c_kwh, warm.c_kwh, rtol=1e-8)


def test_checker_rejects_a_perturbed_allocation_and_wrong_prices():
    m = small_market(1, 6, 8)
    b, s = M.initial_bids(m)
    sol = M.solve_round(m, b, s)
    assert M.check_round(m, b, s, sol.c_kwh, sol.lam, sol.mu) == []
    moved = sol.c_kwh.copy()  # the same row and column sums: feasible, but not this round's optimum
    delta = 0.2 * min(moved[0, 0], moved[1, 1])
    moved[0, 0] += delta
    moved[1, 0] -= delta
    moved[0, 1] -= delta
    moved[1, 1] += delta
    assert any(v.startswith("stationarity") for v in M.check_round(m, b, s, moved, sol.lam, sol.mu))
    shifted = sol.mu + 0.01
    assert M.check_round(m, b, s, sol.c_kwh, sol.lam, shifted) != []
    over = sol.c_kwh * 2
    assert any(v.startswith(("c_max", "D_max")) for v in M.check_round(m, b, s, over, sol.lam, sol.mu))


def test_round_problem_for_the_paper_hotspot_solves_in_a_few_newton_steps_when_warm():
    m = M.paper_market(np.random.default_rng([0, 0]))
    run = M.run_auction(m, damping=M.DAMPING, max_rounds=20)
    assert run.final.sweeps <= 4  # Newton steps from the last round's prices
