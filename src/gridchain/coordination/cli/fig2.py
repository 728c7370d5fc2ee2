"""`gridchain experiment fig2`: the paper's Fig. 2, results named by their configuration."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.ui.errors import bad_input_exits, make_out_dir
from gridchain.ui.progress import progress_bar
from gridchain.ui.results import write_results


def parse_lambdas(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InputError("--lambdas", f"{text!r} is not a comma-separated list of integers") from None
    for v in values:
        check_int("--lambdas", v, 0, 10_000)
    return values


@bad_input_exits
def fig2(
    runs: int = typer.Option(80, "--runs", help="Runs (scenarios) per lambda; the paper averages 80."),
    seed: int = typer.Option(0, "--seed", help="Seed of the scenarios; the same seed gives the same numbers."),
    lambdas: str = typer.Option("2,4,6,8,10,12,14,16", "--lambdas", help="Mean new ESUs per slot, comma-separated."),
    out: Path = typer.Option(Path("results"), "--out", help="Folder for <config>.json and <config>.png."),
    workers: int = typer.Option(0, "--workers", help="Processes (0: one per core)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object on stdout."),
) -> None:
    """The paper's Fig. 2: charging index versus request rate for greedy, FCFS and the exact optimum.

    Section VI-A's setup: 30 slots of arrivals, 10 ESUs at the start plus Poisson(lambda) per slot, 200 kWh
    batteries, SoC ~ U[0,1), demand (1 - SoC) x 200 kWh, TCC ~ Geometric(mean 4), C - P_R = 1000 kW. The
    simulation continues after slot 30 until every ESU has left. Also reports the share of energy delivered
    and of ESUs fully served, with 95 % confidence intervals over the runs.

    Example: gridchain experiment fig2 --runs 80 --seed 0 --out results
    """
    from gridchain.coordination import (
        plots,  # matplotlib and scipy load only for experiments
    )
    from gridchain.coordination.scenarios import fig2 as fig2_sim

    check_int("--runs", runs, 1, 100_000)
    check_int("--workers", workers, 0, 256)
    config = fig2_sim.Fig2Config(runs=runs, seed=seed, lambdas=parse_lambdas(lambdas))
    make_out_dir(out)
    err = Console(stderr=True)
    with progress_bar(err) as bar:
        task = bar.add_task(f"fig2 ({len(config.lambdas)} lambdas x {runs} runs)", total=len(config.lambdas) * runs)
        result = fig2_sim.run(config, workers=workers or None, progress=lambda: bar.advance(task))
    summary = result.summary()
    json_path, png_path = write_results(out, config.name, summary, lambda path: plots.fig2(summary, path))
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    Console().print(fig2_table(summary))
    Console().print(f"wrote {json_path} and {png_path}")


def fig2_table(summary: dict) -> Table:
    policies = summary["policies"]
    table = Table(title=f"Charging index (mean ± 95 % half-width over {summary['runs']} runs)")
    table.add_column("lambda", justify="right")
    for name in policies:
        table.add_column(name, justify="right")
    if "greedy" in policies and "fcfs" in policies:
        table.add_column("greedy - fcfs", justify="right")
    for i, lam in enumerate(summary["lambdas"]):
        row = [str(lam)]
        row += [f"{p['charging_index'][i]:.3f} ± {p['ci95'][i]:.3f}" for p in policies.values()]
        if "greedy" in policies and "fcfs" in policies:
            row.append(f"{policies['greedy']['charging_index'][i] - policies['fcfs']['charging_index'][i]:+.3f}")
        table.add_row(*row)
    return table
