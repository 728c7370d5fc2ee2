"""PETCON's auction on the paper's hotspot: the published rule oscillates, the damped one reaches the optimum."""

import numpy as np
import pytest
import scipy.optimize

from gridchain.market.petcon import model as M
from gridchain.market.petcon.optimum import CERTIFY_TOL, solve_optimum


def paper(seed: int) -> M.Market:
    return M.paper_market(np.random.default_rng([0, seed]))


def optimum_by_scipy(m: M.Market) -> float:
    """A second method: SLSQP on the same welfare problem (small markets only)."""
    shape = m.shape

    def negative(x):
        return -M.welfare(m, x.reshape(shape))

    def gradient(x):
        c = x.reshape(shape)
        return -(M.marginal_utility(m, c) - M.marginal_cost(m, c)).ravel()

    cons = [
        {"type": "ineq", "fun": lambda x: x.reshape(shape).sum(axis=1) - m.lower_kwh},
        {"type": "ineq", "fun": lambda x: m.upper_kwh - x.reshape(shape).sum(axis=1)},
        {"type": "ineq", "fun": lambda x: m.supply_kwh - x.reshape(shape).sum(axis=0)},
    ]
    x0 = np.outer(m.lower_kwh, m.supply_kwh / m.supply_kwh.sum()).ravel()
    res = scipy.optimize.minimize(
        negative,
        x0,
        jac=gradient,
        bounds=[(0, None)] * x0.size,
        constraints=cons,
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert res.success, res.message
    return -res.fun


@pytest.mark.parametrize("seed", range(3))
def test_cvxpy_optimum_matches_scipy_and_passes_the_kkt_check(seed):
    m = M.paper_market(np.random.default_rng([5, seed]), buyers=3, sellers=4)
    best = solve_optimum(m)
    assert best.welfare_usd == pytest.approx(optimum_by_scipy(m), rel=1e-7)
    assert M.check_optimum(m, best.c_kwh, best.lam, best.mu, tol=CERTIFY_TOL) == []
    moved = best.c_kwh.copy()
    moved[0] *= 0.9  # a buyer given less: still above its minimum here, but no longer optimal
    moved[0] = np.maximum(moved[0], 0)
    assert M.check_optimum(m, moved, best.lam, best.mu, tol=CERTIFY_TOL) != []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_damped_auction_reaches_the_optimum_within_1e_3(seed):
    m = paper(seed)
    best = solve_optimum(m)
    run = M.run_auction(m, damping=M.DAMPING)
    assert run.outcome == "converged"
    assert (best.welfare_usd - run.welfare_usd[-1]) / best.welfare_usd < 1e-3
    assert abs(best.welfare_usd - run.welfare_usd[-1]) / best.welfare_usd < 1e-5  # in fact much closer
    final = run.final
    assert M.check_round(m, run.b_usd, run.s_usd_per_kwh, final.c_kwh, final.lam, final.mu) == []
    assert M.check_optimum(m, final.c_kwh, final.lam, final.mu, tol=1e-2) == []  # the stop rule's epsilon
    assert M.budget_surplus(m, run.b_usd, run.s_usd_per_kwh) >= 0  # weakly budget balanced


@pytest.mark.parametrize("seed", [0, 2])
def test_published_auction_never_meets_its_stop_rule_but_cycles_with_period_2(seed):
    """As measured (docs/petcon.md): buyers' takes flip between two allocations every round."""
    m = paper(seed)
    run = M.run_auction(m, damping=1.0)
    assert run.outcome == "cycle-2"
    assert min(run.residual) > M.EPSILON
    w = np.asarray(run.welfare_usd[-6:])
    swing, drift = np.abs(np.diff(w)), np.abs(w[2:] - w[:-2])
    assert np.all(drift < 0.2 * swing[:-1])  # each round's welfare is nearer the one two rounds back
    best = solve_optimum(m)
    assert (best.welfare_usd - max(run.welfare_usd[-2:])) / best.welfare_usd > 1e-5  # never at the optimum


def test_published_auction_is_the_damped_one_with_a_equal_1():
    m = paper(1)
    a, b = M.run_auction(m, damping=1.0, max_rounds=12), M.run_auction(m, damping=1.0, max_rounds=12)
    assert a.welfare_usd == b.welfare_usd and a.outcome == "max-rounds" and a.rounds == 12
