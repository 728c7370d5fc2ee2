"""PETCON's commands: `gridchain experiment petcon` (the paper's parking lot against the convex optimum)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gridchain.errors import InputError
from gridchain.market.petcon import model
from gridchain.ui.errors import bad_input_exits, make_out_dir
from gridchain.ui.progress import progress_bar
from gridchain.ui.results import write_results


@bad_input_exits
def petcon(
    runs: int = typer.Option(1000, "--runs", help="Markets drawn (the paper averages 1,000)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the first market; the same seed gives the same numbers."),
    tau: float = typer.Option(model.TAU, "--tau", help="The buyers' common tau (w_i = tau / STO_i); docs/petcon.md."),
    damping: float = typer.Option(model.DAMPING, "--damping", help="The damped variant's step a in (0, 1)."),
    max_rounds: int = typer.Option(model.MAX_ROUNDS, "--max-rounds", help="Cut-off for runs that never stop."),
    out: Path = typer.Option(Path("results/petcon"), "--out", help="Folder for petcon_<config>.json and .png."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object on stdout."),
) -> None:
    """PETCON's iterative double auction (Kang et al. 2017) on the paper's parking lot: 35 charging and 45
    discharging PHEVs per run, the auction as published and damped, each against the convex welfare optimum
    (cvxpy, Clarabel): rounds, welfare gap, payments, rewards and budget balance.

    Example: gridchain experiment petcon --runs 1000 --seed 0
    """
    from gridchain.market.petcon import plots, scenarios

    try:
        config = scenarios.PetconConfig(runs=runs, seed=seed, tau=tau, damping=damping, max_rounds=max_rounds)
    except InputError as e:
        raise InputError(f"--{e.field.replace('_', '-')}", e.reason) from None
    make_out_dir(out)
    with progress_bar(Console(stderr=True)) as bar:
        task = bar.add_task(f"petcon ({runs} runs)", total=runs)
        summary = scenarios.run(config, progress=lambda: bar.advance(task))
    written = write_results(out, config.name, summary, lambda path: plots.petcon_figure(summary, path))
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    console = Console(width=80)
    console.print(petcon_table(summary))
    console.print(f"{summary['seconds']} s; wrote {written[0]} and {written[1]}")


def _count(v: dict, key: str) -> str:
    return f"{v[key]} of {v['runs']}"


def petcon_table(summary: dict) -> Table:
    """Paper vs the published rule vs the damped one, one row per measure (fits 80 columns)."""
    pub, damp = summary["variants"]["published"], summary["variants"]["damped"]
    paper = summary["paper"]
    table = Table(
        title=f"PETCON, {summary['config']['runs']} runs, seed {summary['config']['seed']}, "
        f"tau {summary['config']['tau']:g}",
        width=80,
    )
    table.add_column("measure")
    table.add_column("paper", justify="right")
    table.add_column("published", justify="right")
    table.add_column(f"damped a={summary['config']['damping']:g}", justify="right")

    def rounds(v: dict) -> str:
        return f"{v['rounds_mean']:.1f} ({v['rounds_min']}-{v['rounds_max']})"

    def first(v: dict) -> str:
        return "never" if v["first_within_mean"] is None else f"{v['first_within_mean']:.1f} ({v['first_within_runs']})"

    rows = [
        ("rounds mean (min-max)", f"{paper['iterations']}", rounds(pub), rounds(damp)),
        (
            "stop rule met",
            "",
            _count(pub["outcomes"] | {"runs": pub["runs"]}, "converged"),
            _count(damp["outcomes"] | {"runs": damp["runs"]}, "converged"),
        ),
        ("period-2 cycle", "", str(pub["outcomes"]["cycle-2"]), str(damp["outcomes"]["cycle-2"])),
        ("round gap <= 1e-3 (runs)", "", first(pub), first(damp)),
        ("final gap mean", "", f"{pub['gap_final_mean']:.1e}", f"{damp['gap_final_mean']:.1e}"),
        ("final gap max", "", f"{pub['gap_final_max']:.1e}", f"{damp['gap_final_max']:.1e}"),
        (
            "payment per buyer [$]",
            f"{paper['payment_usd']:.2f}",
            f"{pub['payment_usd_mean']:.2f}",
            f"{damp['payment_usd_mean']:.2f}",
        ),
        (
            "reward per seller [$]",
            f"{paper['reward_usd']:.2f}",
            f"{pub['reward_usd_mean']:.2f}",
            f"{damp['reward_usd_mean']:.2f}",
        ),
        ("budget balanced", "all", _count(pub, "budget_balanced"), _count(damp, "budget_balanced")),
        ("final round KKT ok", "", _count(pub, "kkt_ok"), _count(damp, "kkt_ok")),
    ]
    for row in rows:
        table.add_row(*row)
    return table


EXPERIMENTS = {"petcon": petcon}
