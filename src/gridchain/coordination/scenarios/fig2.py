"""The paper's Fig. 2 experiment (Section VI-A): charging index versus request rate, greedy against FCFS.

Setup, as the paper states it: 30 slots of arrivals; 10 ESUs at the start and Poisson(lambda) new ESUs in
each of the 30 slots; battery capacity 200 kWh; SoC ~ U[0, 1) (drawn in per-mille); required energy
(1 - SoC) x capacity; TCC ~ Geometric with mean 4 (support 1, 2, ...); C - P_R = 1000 kW each slot; F(K) =
1, 0.5, 0 for K = 1, 2, >= 3; beta1 = beta2 = 0.5; 80 runs. After slot 30 the simulation goes on until every
ESU has left, so each ESU's result is final. Every policy sees the same scenarios (common random numbers).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field

import numpy as np

from gridchain.coordination.model.multislot import EsuArrival, simulate
from gridchain.coordination.model.policies import get_policy
from gridchain.coordination.model.request import PM
from gridchain.experiments.stats import mean_ci95

METRICS = ("charging_index", "energy_delivered", "fully_served")


@dataclass(frozen=True)
class Fig2Config:
    runs: int = 80
    seed: int = 0
    lambdas: tuple[int, ...] = (2, 4, 6, 8, 10, 12, 14, 16)
    policies: tuple[str, ...] = ("greedy", "fcfs", "optimal")
    arrival_slots: int = 30
    initial_esus: int = 10
    battery_wh: int = 200_000
    capacity_w: int = 1_000_000
    mean_tcc: float = 4.0
    beta1_pm: int = 500

    @property
    def name(self) -> str:
        """Name of the configuration, for output files."""
        lams = "-".join(map(str, self.lambdas))
        return f"fig2_runs{self.runs}_seed{self.seed}_lam{lams}"


def scenario(config: Fig2Config, lam: int, run: int) -> list[list[EsuArrival]]:
    """Arrivals per slot for one (lambda, run); deterministic in (seed, lambda, run)."""
    rng = np.random.default_rng([config.seed, lam, run])
    arrivals: list[list[EsuArrival]] = []
    for slot in range(config.arrival_slots):
        count = int(rng.poisson(lam)) + (config.initial_esus if slot == 0 else 0)
        socs = rng.integers(0, PM, size=count)  # SoC ~ U[0, 1) in per-mille
        tccs = rng.geometric(1.0 / config.mean_tcc, size=count)
        batch = []
        for k in range(count):
            energy = int(socs[k]) * config.battery_wh // PM
            batch.append(
                EsuArrival(
                    id=f"s{slot}e{k}",
                    battery_wh=config.battery_wh,
                    energy_wh=energy,
                    required_wh=config.battery_wh - energy,
                    tcc=int(tccs[k]),
                )
            )
        arrivals.append(batch)
    return arrivals


def run_one(config: Fig2Config, lam: int, run: int) -> dict[str, tuple[float, float, float]]:
    """The three metrics of every policy on one scenario."""
    arrivals = scenario(config, lam, run)
    out = {}
    for name in config.policies:
        result = simulate(arrivals, [config.capacity_w], get_policy(name), config.beta1_pm)
        out[name] = (result.charging_index, result.energy_delivered, result.fully_served)
    return out


@dataclass
class Fig2Result:
    config: Fig2Config
    # samples[policy][metric][lambda index] = list of per-run values (in run order)
    samples: dict[str, dict[str, list[list[float]]]] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """The JSON of `gridchain experiment fig2 --json`: mean and 95 % half-width per policy and lambda."""
        policies: dict[str, dict[str, list[float]]] = {}
        for name, by_metric in self.samples.items():
            entry: dict[str, list[float]] = {}
            for metric in METRICS:
                means, halves = zip(*(mean_ci95(values) for values in by_metric[metric]))
                entry[metric] = [round(m, 6) for m in means]
                if metric == "charging_index":
                    entry["ci95"] = [round(h, 6) for h in halves]
                else:
                    entry[f"{metric}_ci95"] = [round(h, 6) for h in halves]
            policies[name] = entry
        return {
            "experiment": "fig2",
            "config": asdict(self.config) | {"name": self.config.name},
            "lambdas": list(self.config.lambdas),
            "runs": self.config.runs,
            "policies": policies,
        }


def run(config: Fig2Config, workers: int | None = None, progress: Callable[[], None] | None = None) -> Fig2Result:
    """All (lambda, run) pairs, spread over `workers` processes (default: every core); `progress` after each."""
    result = Fig2Result(
        config,
        {p: {m: [[0.0] * config.runs for _ in config.lambdas] for m in METRICS} for p in config.policies},
    )

    def record(li: int, r: int, values: dict[str, tuple[float, float, float]]) -> None:
        for name, triple in values.items():
            for metric, value in zip(METRICS, triple):
                result.samples[name][metric][li][r] = value
        if progress is not None:
            progress()

    tasks = [(li, lam, r) for li, lam in enumerate(config.lambdas) for r in range(config.runs)]
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        for li, lam, r in tasks:
            record(li, r, run_one(config, lam, r))
        return result
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_one, config, lam, r): (li, r) for li, lam, r in tasks}
        for future in as_completed(futures):
            li, r = futures[future]
            record(li, r, future.result())
    return result
