"""`gridchain experiment petcon`: Kang et al.'s parking lot, many seeded runs of the iterative double auction
as published and damped, each measured against the convex welfare optimum.

Run r draws its market from `numpy.random.default_rng([seed, r])`, so runs are independent and any one can be
redone alone. Per run and variant: rounds, how the run ended, the welfare gap to the optimum per round, the
average payment and reward, the budget surplus, and whether the final round passes the KKT check.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.market.petcon import model
from gridchain.market.petcon.optimum import solve_optimum

PAPER = {"iterations": 11.9, "payment_usd": 2.50, "reward_usd": 2.04}
GAP_TARGET = 1e-3  # the acceptance: welfare within 1e-3 (relative) of the optimum


@dataclass(frozen=True)
class PetconConfig:
    """runs: markets drawn; seed: of the first; tau: the buyers' common tau; damping: the damped variant's
    step a in (0, 1); max_rounds: where a run that never meets the stop rule is cut off."""

    runs: int = 1000
    seed: int = 0
    tau: float = model.TAU
    damping: float = model.DAMPING
    max_rounds: int = model.MAX_ROUNDS

    def __post_init__(self) -> None:
        check_int("runs", self.runs, 1, 100_000)
        check_int("seed", self.seed, 0, 2**32 - 1)
        check_int("max_rounds", self.max_rounds, 2, 10_000)
        if not (isinstance(self.tau, float | int) and 0 < self.tau < math.inf):
            raise InputError("tau", f"{self.tau!r} is not a positive number")
        if not (isinstance(self.damping, float | int) and 0 < self.damping < 1):
            raise InputError("damping", f"{self.damping!r} is outside (0, 1)")

    @property
    def name(self) -> str:
        return f"petcon_{self.runs}r_s{self.seed}_tau{self.tau:g}_a{self.damping:g}"

    @property
    def variants(self) -> dict[str, float]:
        return {"published": 1.0, "damped": self.damping}


def _measure(m: model.Market, best_usd: float, run: model.AuctionRun) -> dict:
    """One auction against the optimum's welfare `best_usd`."""
    gaps = (best_usd - np.asarray(run.welfare_usd)) / abs(best_usd)
    within = np.flatnonzero(gaps <= GAP_TARGET)
    final = run.final
    kkt = model.check_round(m, run.b_usd, run.s_usd_per_kwh, final.c_kwh, final.lam, final.mu)
    return {
        "rounds": run.rounds,
        "outcome": run.outcome,
        "gap_final": float(gaps[-1]),
        "gap_min": float(gaps.min()),
        "first_within": int(within[0]) + 1 if len(within) else None,
        "payment_usd": float(model.payments(run.b_usd).mean()),
        "reward_usd": float(model.rewards(m, run.s_usd_per_kwh).mean()),
        "surplus_usd": model.budget_surplus(m, run.b_usd, run.s_usd_per_kwh),
        "kkt_ok": not kkt,
        "gaps": gaps.tolist(),
    }


def run_one(config: PetconConfig, index: int) -> dict:
    """Run `index`: its market, its optimum and both variants."""
    m = model.paper_market(np.random.default_rng([config.seed, index]), tau=config.tau)
    best = solve_optimum(m)
    out = {"welfare_opt_usd": best.welfare_usd}
    for variant, damping in config.variants.items():
        run = model.run_auction(m, damping=damping, max_rounds=config.max_rounds)
        out[variant] = _measure(m, best.welfare_usd, run)
    return out


def _gap_by_round(rows: list[dict], rounds: int) -> list[float]:
    """Mean gap per round over the runs, a stopped run's last gap carried forward."""
    padded = [row["gaps"] + [row["gaps"][-1]] * (rounds - len(row["gaps"])) for row in rows]
    return np.mean(np.asarray(padded), axis=0).tolist()


def _summarise(rows: list[dict], rounds_cap: int) -> dict:
    n = len(rows)
    rounds = [r["rounds"] for r in rows]
    first = [r["first_within"] for r in rows if r["first_within"] is not None]
    outcomes = {k: sum(r["outcome"] == k for r in rows) for k in ("converged", "cycle-2", "max-rounds")}
    return {
        "runs": n,
        "rounds_mean": float(np.mean(rounds)),
        "rounds_min": int(min(rounds)),
        "rounds_max": int(max(rounds)),
        "rounds": rounds,
        "outcomes": outcomes,
        "first_within_mean": float(np.mean(first)) if first else None,
        "first_within_runs": len(first),
        "gap_final_mean": float(np.mean([r["gap_final"] for r in rows])),
        "gap_final_max": float(max(r["gap_final"] for r in rows)),
        "payment_usd_mean": float(np.mean([r["payment_usd"] for r in rows])),
        "reward_usd_mean": float(np.mean([r["reward_usd"] for r in rows])),
        "surplus_usd_mean": float(np.mean([r["surplus_usd"] for r in rows])),
        "surplus_usd_min": float(min(r["surplus_usd"] for r in rows)),
        "budget_balanced": sum(r["surplus_usd"] >= 0 for r in rows),
        "kkt_ok": sum(r["kkt_ok"] for r in rows),
        "gap_by_round": _gap_by_round(rows, rounds_cap),
    }


def run(config: PetconConfig, progress: Callable[[], None] | None = None) -> dict:
    """Every run on one core; `progress` after each. The summary is JSON-ready."""
    start = time.perf_counter()
    rows = []
    for index in range(config.runs):
        rows.append(run_one(config, index))
        if progress is not None:
            progress()
    variants = {v: _summarise([row[v] for row in rows], config.max_rounds) for v in config.variants}
    example = {v: {"welfare_usd": [rows[0]["welfare_opt_usd"] * (1 - g) for g in rows[0][v]["gaps"]]} for v in variants}
    return {
        "config": asdict(config),
        "name": config.name,
        "paper": PAPER,
        "gap_target": GAP_TARGET,
        "epsilon": model.EPSILON,
        "welfare_opt_usd_mean": float(np.mean([row["welfare_opt_usd"] for row in rows])),
        "variants": variants,
        "example": {"welfare_opt_usd": rows[0]["welfare_opt_usd"], **example},
        "seconds": round(time.perf_counter() - start, 1),
    }
