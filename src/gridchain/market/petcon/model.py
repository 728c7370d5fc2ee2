"""PETCON's iterative double auction (Kang et al., IEEE TII 13(6), 2017, Section IV) as an executable model.

The setting is plain data (`Market`); an allocation is one I x J array `c_kwh[i, j]`, the energy buyer i takes
from seller j at the charging pole (before the buyer's charging losses eta); seller j discharges
`d[i, j] = c[i, j] / rho` for it (rho: the transfer's efficiency). Buyer i stores `eta * sum_j c[i, j]`, which
must lie in [c_min_i, c_max_i]; seller j discharges at most D_max_j.

Welfare: buyer i's utility U_i = w_i ln(eta sum_j c_ij - c_min_i + 1), w_i = tau / STO_i; seller j's cost
L_j = sum_i (l1 d_ji^2 + l2 d_ji) (per pair: the published seller bid s_ji = 2 l1 d_ji + l2 is its derivative
in d_ji, so the square is of each d_ji, not of the seller's total); welfare = sum U_i - sum L_j.

One round. Given the buyers' bids b (> 0) and the sellers' bids s (> 0), the auctioneer solves

    max sum_ij [b_ij ln c_ij - (s_ji / rho) c_ij]   s.t.  c_min_i / eta <= C_i := sum_j c_ij <= c_max_i / eta,
                                                          S_j := sum_i c_ij <= rho D_max_j.

It is strictly concave and separable but for the row and column sums, so its dual is smooth and low
dimensional. With a price lambda_i (free sign: lambda_i = eta (beta_i - alpha_i), alpha_i and beta_i the
multipliers of the lower and upper demand bound) per buyer and mu_j >= 0 per seller, stationarity gives every
pair in closed form,

    c_ij = b_ij / q_ij,   q_ij = s_ji / rho + lambda_i + mu_j > 0      (all c_ij > 0: the log keeps them inside),

and the dual to minimise is G = sum_ij [b_ij ln(b_ij / q_ij) - b_ij] + sum_j mu_j rho D_max_j + sum_i h_i(lambda_i)
with h_i(x) = x c_max_i / eta for x >= 0 and x c_min_i / eta for x < 0. G is convex; its minimum over one
buyer's lambda_i (the others fixed) is: 0 if C_i(0) lies within the bounds, else the root of C_i(lambda_i) =
the violated bound; over one seller's mu_j: 0 if S_j(0) <= rho D_max_j, else the root of S_j(mu_j) = rho D_max_j.
`solve_round` runs projected Newton on the dual (Hessian sum_j c_ij^2 / b_ij on the active prices) from the
last two rounds' prices, 2-3 steps when warm; where Newton stalls it alternates the two exact block
minimisations (buyers are independent of each other given mu, sellers given lambda; each a vectorised 1-D root
of `sum_k b_k / (q_k + x) = T`) to 1e-3 and starts Newton from there. The 1-D root lies in
[B/T - max q, B/T - min q] (B = sum b), and 1 / sum_k b_k / (q_k + x) is concave and increasing in x (a parallel
sum of affine functions), so Newton's method on it from the bracket's left end climbs monotonically to the root.

The published updates (Kelly's mechanism: at a fixed point b_ij / c_ij is buyer i's marginal utility and
s_ji / rho seller j's marginal cost, so the round's KKT conditions become the welfare optimum's):
b_ij = eta tau c_ij / ((eta C_i - c_min_i + 1) STO_i), s_ji = 2 l1 d_ji + l2; stop when the relative change of
every bid is below epsilon = 0.001. The damped variant moves only a fraction `damping` of the way:
b <- (1 - a) b + a b_new (a = 1 is the published rule). Its stopping test is on the undamped residual
|b_new - b| / b, which damping does not shrink. Payments: buyer i pays sum_j b_ij; seller j receives
sum_i s_ji^2 / (4 l1) + r_min_j; weakly budget balanced when the buyers pay at least what the sellers receive.

Units: energy [kWh], money [$], bids b [$], s [$/kWh], prices lambda and mu [$/kWh of c].

Pure: numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EPSILON = 1e-3  # the paper's stopping threshold on the relative change of bids
DAMPING = 0.5  # the damped variant's step (docs/petcon.md: why this one)
MAX_ROUNDS = 400
CYCLE_ROUNDS = 10  # rounds of b_{k+2} ~ b_k (within EPSILON) before a run is declared a period-2 cycle
ROUND_TOL = 1e-10  # relative KKT residual the round solver reaches
KKT_TOL = 1e-6  # relative tolerance of the checker


@dataclass(frozen=True)
class Market:
    """One hotspot: buyers (charging PHEVs) with c_min, c_max [kWh stored], state STO (> 0) and the common
    tau; sellers (discharging PHEVs) with D_max [kWh], r_min [$]; l1 [$/kWh^2], l2 [$/kWh]; eta, rho in (0, 1]."""

    c_min_kwh: np.ndarray
    c_max_kwh: np.ndarray
    sto: np.ndarray
    d_max_kwh: np.ndarray
    r_min_usd: np.ndarray
    tau: float
    l1: float = 0.01
    l2: float = 0.015
    eta: float = 0.8
    rho: float = 0.9

    @property
    def weight(self) -> np.ndarray:
        """w_i = tau / STO_i [$ per unit of log utility]."""
        return self.tau / self.sto

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.c_min_kwh), len(self.d_max_kwh)

    @property
    def lower_kwh(self) -> np.ndarray:
        """Buyer i's least take at the pole, c_min_i / eta [kWh]."""
        return self.c_min_kwh / self.eta

    @property
    def upper_kwh(self) -> np.ndarray:
        return self.c_max_kwh / self.eta

    @property
    def supply_kwh(self) -> np.ndarray:
        """Seller j's most delivered at the pole, rho D_max_j [kWh]."""
        return self.rho * self.d_max_kwh


def feasible(m: Market) -> bool:
    """Whether any allocation meets every bound: the sellers can cover every buyer's minimum."""
    return bool(m.lower_kwh.sum() <= m.supply_kwh.sum() and np.all(m.c_min_kwh <= m.c_max_kwh))


# --- welfare ---------------------------------------------------------------------------------------------------


def utility(m: Market, c_kwh: np.ndarray) -> np.ndarray:
    """U_i = w_i ln(eta sum_j c_ij - c_min_i + 1) per buyer [$]."""
    return m.weight * np.log(m.eta * c_kwh.sum(axis=1) - m.c_min_kwh + 1.0)


def cost(m: Market, c_kwh: np.ndarray) -> np.ndarray:
    """L_j = sum_i (l1 d_ji^2 + l2 d_ji) per seller [$], d = c / rho."""
    d = c_kwh / m.rho
    return (m.l1 * d**2 + m.l2 * d).sum(axis=0)


def welfare(m: Market, c_kwh: np.ndarray) -> float:
    """Social welfare sum U_i - sum L_j [$]."""
    return float(utility(m, c_kwh).sum() - cost(m, c_kwh).sum())


def marginal_utility(m: Market, c_kwh: np.ndarray) -> np.ndarray:
    """dU_i / dc_ij (the same for every j) as a column [$/kWh]."""
    return (m.weight * m.eta / (m.eta * c_kwh.sum(axis=1) - m.c_min_kwh + 1.0))[:, None]


def marginal_cost(m: Market, c_kwh: np.ndarray) -> np.ndarray:
    """dL_j / dc_ij = (2 l1 d_ji + l2) / rho [$/kWh]."""
    return (2 * m.l1 * c_kwh / m.rho + m.l2) / m.rho


# --- bids and payments -----------------------------------------------------------------------------------------


def buyer_bids(m: Market, c_kwh: np.ndarray) -> np.ndarray:
    """b_ij = eta tau c_ij / ((eta sum_j c_ij - c_min_i + 1) STO_i) [$]."""
    return c_kwh * marginal_utility(m, c_kwh)


def seller_bids(m: Market, c_kwh: np.ndarray) -> np.ndarray:
    """s_ji = 2 l1 d_ji + l2 [$/kWh], stored as [i, j]."""
    return 2 * m.l1 * c_kwh / m.rho + m.l2


def payments(b_usd: np.ndarray) -> np.ndarray:
    """Buyer i pays sum_j b_ij [$]."""
    return b_usd.sum(axis=1)


def rewards(m: Market, s_usd_per_kwh: np.ndarray) -> np.ndarray:
    """Seller j receives sum_i s_ji^2 / (4 l1) + r_min_j [$]."""
    return (s_usd_per_kwh**2).sum(axis=0) / (4 * m.l1) + m.r_min_usd


def budget_surplus(m: Market, b_usd: np.ndarray, s_usd_per_kwh: np.ndarray) -> float:
    """What the buyers pay minus what the sellers receive [$]: weakly budget balanced when >= 0."""
    return float(payments(b_usd).sum() - rewards(m, s_usd_per_kwh).sum())


# --- one round -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundSolution:
    """The auctioneer's allocation c [kWh] and its prices: lambda per buyer (free sign), mu >= 0 per seller
    [$/kWh]; `sweeps` alternations of the solver."""

    c_kwh: np.ndarray
    lam: np.ndarray
    mu: np.ndarray
    sweeps: int


def _roots(b: np.ndarray, q: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per row k, the x > -min q_k with sum b_k / (q_k + x) = target_k (Newton on the concave 1 / sum)."""
    total = b.sum(axis=1)
    pole = -q.min(axis=1)
    x = np.maximum(total / target - q.max(axis=1), pole + 1e-12 * np.maximum(1.0, np.abs(pole)))
    for _ in range(60):
        r = b / (q + x[:, None])
        f = r.sum(axis=1)
        slope = (r / (q + x[:, None])).sum(axis=1) / f**2  # d(1/f)/dx
        step = (1.0 / target - 1.0 / f) / slope
        x = x + np.maximum(step, 0.0)  # monotone from the left; rounding can only make the step a hair negative
        if np.all(step <= 1e-15 * np.maximum(1.0, np.abs(x))):
            break
    return x


def _buyer_prices(m: Market, b: np.ndarray, q0: np.ndarray) -> np.ndarray:
    """Each buyer's lambda_i given q0 = s / rho + mu: 0 inside its bounds, else the root at the bound it breaks."""
    take = (b / q0).sum(axis=1)
    lam = np.zeros(len(take))
    high, low = take > m.upper_kwh, take < m.lower_kwh
    if high.any():
        lam[high] = _roots(b[high], q0[high], m.upper_kwh[high])
    if low.any():
        lam[low] = _roots(b[low], q0[low], m.lower_kwh[low])
    return lam


def _seller_prices(m: Market, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Each seller's mu_j >= 0 given r = s / rho + lambda: 0 if it can serve S_j(0), else the root at rho D_max_j."""
    bt, rt = b.T, r.T
    with np.errstate(divide="ignore"):
        short = (rt.min(axis=1) <= 0) | ((bt / np.where(rt > 0, rt, 1.0)).sum(axis=1) > m.supply_kwh)
    mu = np.zeros(len(m.supply_kwh))
    if short.any():
        mu[short] = _roots(bt[short], rt[short], m.supply_kwh[short])
    return mu


def _round_residual(m: Market, c: np.ndarray, lam: np.ndarray, mu: np.ndarray) -> float:
    """After a buyer step: the sellers' relative KKT residual (capacity broken, or slack while mu_j > 0)."""
    supply = c.sum(axis=0)
    over = np.maximum(supply - m.supply_kwh, 0.0)
    slack = np.where(mu > 0, m.supply_kwh - supply, 0.0)
    return float(np.max(np.maximum(over, np.abs(slack)) / m.supply_kwh))


def _active_sets(
    m: Market, c: np.ndarray, lam: np.ndarray, mu: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which prices Newton moves: buyers with lambda_i != 0 or a broken bound (and the bound each is held at),
    sellers with mu_j > 0 or over capacity."""
    take, supply = c.sum(axis=1), c.sum(axis=0)
    up = (lam > 0) | ((lam == 0) & (take > m.upper_kwh))
    low = (lam < 0) | ((lam == 0) & (take < m.lower_kwh))
    target = np.where(up, m.upper_kwh, m.lower_kwh)
    return up | low, target, (mu > 0) | (supply > m.supply_kwh)


def _newton_step(
    b: np.ndarray, c: np.ndarray, buyers: np.ndarray, target: np.ndarray, sellers: np.ndarray, supply: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The Newton step of the active price equations C_i = target_i, S_j = rho D_max_j (dC_i / dlambda_i =
    -sum_j c_ij^2 / b_ij, dC_i / dmu_j = -c_ij^2 / b_ij, and alike for S_j)."""
    w = c * c / b
    ib, js = np.flatnonzero(buyers), np.flatnonzero(sellers)
    n = len(ib)
    h = np.zeros((n + len(js), n + len(js)))
    h[:n, :n] = np.diag(w[ib].sum(axis=1))
    h[n:, n:] = np.diag(w[:, js].sum(axis=0))
    h[:n, n:] = w[np.ix_(ib, js)]
    h[n:, :n] = h[:n, n:].T
    r = np.concatenate([c[ib].sum(axis=1) - target[ib], c[:, js].sum(axis=0) - supply[js]])
    step = np.linalg.solve(h, r)  # positive definite: the dual's Hessian on the active prices
    dlam, dmu = np.zeros(len(buyers)), np.zeros(len(sellers))
    dlam[ib], dmu[js] = step[:n], step[n:]
    return dlam, dmu


def _kkt_residual(m: Market, c: np.ndarray, lam: np.ndarray, mu: np.ndarray) -> float:
    """The round's largest relative KKT residual (bounds broken, or slack where a price is not 0)."""
    take, supply = c.sum(axis=1), c.sum(axis=0)
    buyer = np.maximum(np.maximum(take - m.upper_kwh, m.lower_kwh - take), 0.0)
    buyer = np.where(lam > 0, np.abs(take - m.upper_kwh), np.where(lam < 0, np.abs(take - m.lower_kwh), buyer))
    seller = np.where(mu > 0, np.abs(supply - m.supply_kwh), np.maximum(supply - m.supply_kwh, 0.0))
    return max(float(np.max(buyer / m.upper_kwh)), float(np.max(seller / m.supply_kwh)))


def _newton(
    m: Market, b: np.ndarray, p: np.ndarray, lam: np.ndarray, mu: np.ndarray, tol: float
) -> RoundSolution | None:
    """Projected Newton on the dual from (lam, mu): fast when warm; None if it does not settle in 15 steps or
    its steps shrink (a start too far from the solution)."""
    for step in range(1, 16):
        q = p + lam[:, None] + mu[None, :]
        if not np.all(q > 0):
            return None
        c = b / q
        if _kkt_residual(m, c, lam, mu) <= tol:
            return RoundSolution(c, lam, mu, step)
        buyers, target, sellers = _active_sets(m, c, lam, mu)
        try:
            dlam, dmu = _newton_step(b, c, buyers, target, sellers, m.supply_kwh)
        except np.linalg.LinAlgError:
            return None
        dq = dlam[:, None] + dmu[None, :]
        shrink = np.min(np.where(dq < 0, -0.5 * q / np.where(dq < 0, dq, -1.0), np.inf))
        t = min(1.0, float(shrink))  # keep every q_ij > 0
        if t < 1e-2:
            return None
        new_lam = lam + t * dlam
        lam = np.where(lam * new_lam < 0, 0.0, new_lam)  # a price crossing 0 stops there: its bound is left
        mu = np.maximum(mu + t * dmu, 0.0)
    return None


def _alternate(m: Market, b: np.ndarray, p: np.ndarray, mu: np.ndarray, tol: float, max_sweeps: int) -> RoundSolution:
    """Exact block-coordinate descent on the dual: slower than Newton but sure to converge."""
    for sweep in range(1, max_sweeps + 1):
        lam = _buyer_prices(m, b, p + mu[None, :])
        c = b / (p + lam[:, None] + mu[None, :])
        if _round_residual(m, c, lam, mu) <= tol:
            return RoundSolution(c, lam, mu, sweep)
        mu = _seller_prices(m, b, p + lam[:, None])
    raise ArithmeticError(f"round solver: no KKT point to {tol} within {max_sweeps} sweeps")


def _start_residual(m: Market, b: np.ndarray, p: np.ndarray, start: RoundSolution) -> float:
    """How far an earlier round's prices are from this round's solution (inf if some q_ij <= 0)."""
    q = p + start.lam[:, None] + start.mu[None, :]
    return _kkt_residual(m, b / q, start.lam, start.mu) if np.all(q > 0) else np.inf


def solve_round(
    m: Market,
    b_usd: np.ndarray,
    s_usd_per_kwh: np.ndarray,
    warm: tuple[RoundSolution, ...] = (),
    tol: float = ROUND_TOL,
    max_sweeps: int = 20_000,
) -> RoundSolution:
    """The auctioneer's allocation for bids b (> 0) and s (> 0): projected Newton on the dual from earlier
    rounds' prices (`warm`, most recent first: the last round's, and the one before for an auction that
    alternates); if it stalls, from a few exact block-coordinate sweeps; the sweeps alone if it stalls again."""
    p = s_usd_per_kwh / m.rho
    for start in sorted(warm, key=lambda w: _start_residual(m, b_usd, p, w)):
        if not np.isfinite(_start_residual(m, b_usd, p, start)):
            break
        solution = _newton(m, b_usd, p, start.lam, start.mu, tol)
        if solution is not None:
            return solution
    mu = warm[0].mu if warm else np.zeros(m.shape[1])
    start = _alternate(m, b_usd, p, mu, 1e-3, max_sweeps)
    solution = _newton(m, b_usd, p, start.lam, start.mu, tol)
    return solution if solution is not None else _alternate(m, b_usd, p, start.mu, tol, max_sweeps)


# --- the iterative auction -------------------------------------------------------------------------------------


@dataclass
class AuctionRun:
    """One auction: per round the allocation's welfare [$] and the bids' relative residual; the final round's
    bids (b, s), solution and how the run ended ("converged", "cycle-2" or "max-rounds")."""

    welfare_usd: list[float] = field(default_factory=list)
    residual: list[float] = field(default_factory=list)
    b_usd: np.ndarray | None = None
    s_usd_per_kwh: np.ndarray | None = None
    final: RoundSolution | None = None
    outcome: str = ""

    @property
    def rounds(self) -> int:
        return len(self.welfare_usd)


def initial_bids(m: Market) -> tuple[np.ndarray, np.ndarray]:
    """Round 1's bids (the paper gives none): each buyer spreads $1 evenly over the sellers; each seller asks
    its marginal cost at zero, l2."""
    i, j = m.shape
    return np.full((i, j), 1.0 / j), np.full((i, j), m.l2)


def _relative_change(new: np.ndarray, old: np.ndarray) -> float:
    return float(np.max(np.abs(new - old) / old))


def run_auction(
    m: Market,
    damping: float = 1.0,
    epsilon: float = EPSILON,
    max_rounds: int = MAX_ROUNDS,
    cycle_rounds: int = CYCLE_ROUNDS,
) -> AuctionRun:
    """Iterate rounds and bid updates until every bid's relative residual is below `epsilon` ("converged"),
    the bids have repeated with period 2 for `cycle_rounds` rounds ("cycle-2"), or `max_rounds` pass."""
    run = AuctionRun()
    b, s = initial_bids(m)
    previous = None  # the bids of two rounds ago
    repeats, warm = 0, ()
    for _ in range(max_rounds):
        solution = solve_round(m, b, s, warm)
        warm = (solution, *warm[:1])
        run.welfare_usd.append(welfare(m, solution.c_kwh))
        run.b_usd, run.s_usd_per_kwh, run.final = b, s, solution
        b_new, s_new = buyer_bids(m, solution.c_kwh), seller_bids(m, solution.c_kwh)
        residual = max(_relative_change(b_new, b), _relative_change(s_new, s))
        run.residual.append(residual)
        if residual < epsilon:
            run.outcome = "converged"
            return run
        if (
            previous is not None
            and max(_relative_change(b_new, previous[0]), _relative_change(s_new, previous[1])) < epsilon
        ):
            repeats += 1
            if repeats >= cycle_rounds:
                run.outcome = "cycle-2"
                return run
        else:
            repeats = 0
        previous = (b, s)
        b, s = (1 - damping) * b + damping * b_new, (1 - damping) * s + damping * s_new
    run.outcome = "max-rounds"
    return run


# --- checking a result -----------------------------------------------------------------------------------------


def _stationarity(value: np.ndarray, price: np.ndarray, c: np.ndarray, tol: float) -> list[str]:
    """value - price - lambda_i - mu_j (in `price`) is 0 where c_ij > 0 and <= 0 where c_ij = 0 (relative)."""
    gap = value - price
    scale = tol * np.maximum(np.abs(value), np.abs(price))
    bad = np.argwhere(np.where(c > 0, np.abs(gap) > scale, gap > scale))
    return [f"stationarity[{i},{j}]: marginal value {value[i, j]:.9g} != price {price[i, j]:.9g}" for i, j in bad[:5]]


def _feasibility(m: Market, c: np.ndarray, mu: np.ndarray, tol: float) -> list[str]:
    out = []
    take, supply = c.sum(axis=1), c.sum(axis=0)
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        out.append("c: an allocation must be finite and >= 0")
    out += [
        f"c_min[{i}]: takes {take[i]:.9g} < {m.lower_kwh[i]:.9g} kWh"
        for i in np.flatnonzero(take < m.lower_kwh * (1 - tol))
    ]
    out += [
        f"c_max[{i}]: takes {take[i]:.9g} > {m.upper_kwh[i]:.9g} kWh"
        for i in np.flatnonzero(take > m.upper_kwh * (1 + tol))
    ]
    out += [
        f"D_max[{j}]: gives {supply[j]:.9g} > {m.supply_kwh[j]:.9g} kWh"
        for j in np.flatnonzero(supply > m.supply_kwh * (1 + tol))
    ]
    out += [f"mu[{j}]: {mu[j]:.9g} < 0" for j in np.flatnonzero(mu < 0)]
    return out


def _slackness(m: Market, c: np.ndarray, lam: np.ndarray, mu: np.ndarray, money_usd: float, tol: float) -> list[str]:
    """A price times its constraint's slack is 0 (to tol x the money at stake): lambda_i > 0 only at c_max,
    lambda_i < 0 only at c_min, mu_j > 0 only at D_max."""
    take, supply = c.sum(axis=1), c.sum(axis=0)
    slack_i = np.where(lam > 0, m.upper_kwh - take, take - m.lower_kwh)
    out = [
        f"slackness[buyer {i}]: lambda {lam[i]:.9g} with slack {slack_i[i]:.9g} kWh"
        for i in np.flatnonzero(np.abs(lam * slack_i) > tol * money_usd)
    ]
    slack_j = m.supply_kwh - supply
    out += [
        f"slackness[seller {j}]: mu {mu[j]:.9g} with slack {slack_j[j]:.9g} kWh"
        for j in np.flatnonzero(np.abs(mu * slack_j) > tol * money_usd)
    ]
    return out


def check_round(
    m: Market,
    b_usd: np.ndarray,
    s_usd_per_kwh: np.ndarray,
    c_kwh: np.ndarray,
    lam: np.ndarray,
    mu: np.ndarray,
    tol: float = KKT_TOL,
) -> list[str]:
    """The KKT conditions of the round problem for bids (b, s), allocation c and prices (lambda, mu): primal
    and dual feasibility, stationarity b_ij / c_ij = s_ji / rho + lambda_i + mu_j, complementary slackness.
    Returns the violations (at most a few per kind); empty: c is that round's optimum."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(c_kwh > 0, b_usd / c_kwh, np.inf)
    price = s_usd_per_kwh / m.rho + lam[:, None] + mu[None, :]
    out = _feasibility(m, c_kwh, mu, tol)
    if not out:
        out += _stationarity(value, price, c_kwh, tol) + _slackness(m, c_kwh, lam, mu, float(b_usd.sum()), tol)
    return out


def check_optimum(m: Market, c_kwh: np.ndarray, lam: np.ndarray, mu: np.ndarray, tol: float = KKT_TOL) -> list[str]:
    """The KKT conditions of the welfare problem itself (marginal utility = marginal cost + lambda_i + mu_j
    where c_ij > 0, <= where c_ij = 0); empty: c maximises welfare."""
    value = np.broadcast_to(marginal_utility(m, c_kwh), c_kwh.shape)
    price = marginal_cost(m, c_kwh) + lam[:, None] + mu[None, :]
    out = _feasibility(m, c_kwh, mu, tol)
    if not out:
        out += _stationarity(value, price, c_kwh, tol) + _slackness(
            m, c_kwh, lam, mu, float(utility(m, c_kwh).sum()), tol
        )
    return out


# --- the paper's hotspot ---------------------------------------------------------------------------------------

BATTERY_KWH = 24.0
PAPER_BUYERS, PAPER_SELLERS = 35, 45
TAU = 0.4  # docs/petcon.md: the paper gives none; budget balance needs tau >= ~0.3 here, $2.50 needs ~0.21
STO_MIN = 0.05  # a buyer's least state of charge (share of the battery)


def paper_market(
    rng: np.random.Generator, buyers: int = PAPER_BUYERS, sellers: int = PAPER_SELLERS, tau: float = TAU
) -> Market:
    """Kang et al.'s parking lot: c_min ~ U[5, 10], c_max ~ U[12, 18], D_max ~ U[10, 20] kWh, r_min ~ U[1, 2] $,
    l1 = 0.01, l2 = 0.015, eta = 0.8, rho = 0.9, 24 kWh batteries. STO_i (not given) is the buyer's state of
    charge as a share of the battery, uniform between STO_MIN and what leaves room for c_max_i."""
    c_min = rng.uniform(5, 10, buyers)
    c_max = rng.uniform(12, 18, buyers)
    sto = rng.uniform(STO_MIN, 1 - c_max / BATTERY_KWH)
    return Market(
        c_min_kwh=c_min,
        c_max_kwh=c_max,
        sto=sto,
        d_max_kwh=rng.uniform(10, 20, sellers),
        r_min_usd=rng.uniform(1, 2, sellers),
        tau=tau,
    )
