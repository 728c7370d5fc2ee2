"""PETCON's social-welfare optimum, the yardstick of the auction: max sum U_i - sum L_j under the hotspot's
bounds, an exponential-cone program (the log utilities) solved by cvxpy with Clarabel.

The prices (lambda_i per buyer, mu_j per seller) are read back from the constraints' duals in the model's
convention, and every returned optimum passes the model's own KKT check (`model.check_optimum`).

Part of the model layer: imports the model and pure libraries (numpy, cvxpy) only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from gridchain.market.petcon.model import Market, check_optimum, welfare

TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}  # defaults: 1e-8
CERTIFY_TOL = 1e-3  # the KKT check every returned optimum passes (relative; docs/petcon.md)


@dataclass(frozen=True)
class Optimum:
    """The welfare-maximising allocation c [kWh], its welfare [$] and prices lambda, mu [$/kWh]; `status` is
    Clarabel's."""

    c_kwh: np.ndarray
    welfare_usd: float
    lam: np.ndarray
    mu: np.ndarray
    status: str


def _solve(m: Market, scale: float, options: dict) -> Optimum | None:
    """One Clarabel solve with the objective multiplied by `scale` (which changes the solver's path)."""
    c = cp.Variable(m.shape, nonneg=True, name="c_kwh")
    take = cp.sum(c, axis=1)
    utility = cp.sum(cp.multiply(m.weight, cp.log(m.eta * take - m.c_min_kwh + 1.0)))
    cost = m.l1 / m.rho**2 * cp.sum_squares(c) + m.l2 / m.rho * cp.sum(c)
    low, high, supply = take >= m.lower_kwh, take <= m.upper_kwh, cp.sum(c, axis=0) <= m.supply_kwh
    problem = cp.Problem(cp.Maximize(scale * (utility - cost)), [low, high, supply])
    try:
        with warnings.catch_warnings():  # "solution may be inaccurate": the KKT check decides
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver=cp.CLARABEL, **options)
    except cp.SolverError:
        return None
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        return None
    allocation = np.maximum(c.value, 0.0)
    lam = (np.asarray(high.dual_value) - np.asarray(low.dual_value)) / scale
    return Optimum(allocation, welfare(m, allocation), lam, np.asarray(supply.dual_value) / scale, problem.status)


def solve_optimum(m: Market) -> Optimum:
    """The welfare optimum of `m`, certified by the KKT conditions to CERTIFY_TOL: Clarabel asked for a 1e-10
    gap; where it stalls ("optimal_inaccurate", a few markets in a hundred) the same problem scaled by 10 or
    1/10, then with Clarabel's defaults (1e-8). A gap of g gives the welfare to about g but the marginal values
    only to about sqrt(g) (the welfare is flat at the optimum), hence the check's looser tolerance."""
    for scale, options in ((1.0, TIGHT), (10.0, TIGHT), (0.1, TIGHT), (1.0, {}), (10.0, {})):
        best = _solve(m, scale, options)
        if best is not None and not check_optimum(m, best.c_kwh, best.lam, best.mu, tol=CERTIFY_TOL):
            return best
    raise ArithmeticError("welfare optimum: Clarabel found no solution that passes the KKT check")
