"""`gridchain experiment grid`: grid impact on a SimBench feeder, results named by their configuration."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gridchain.errors import InputError
from gridchain.ui.errors import bad_input_exits, make_out_dir
from gridchain.ui.progress import progress_bar
from gridchain.ui.results import write_results


@bad_input_exits
def grid(
    evs: int = typer.Option(200, "--evs", help="EVs on the feeder (each plugs in once a day at home)."),
    days: int = typer.Option(1, "--days", help="Simulated days, each from noon to noon (15-minute slots)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the scenario; the same seed gives the same numbers."),
    grid_code: str = typer.Option(
        "1-LV-rural2--0-sw", "--grid", help="SimBench LV grid (1-LV-rural1/2/3, semiurb4/5, urban6, each --0-sw)."
    ),
    day: int = typer.Option(-1, "--day", help="First day of 2016 (0 = 1 Jan); -1: the feeder's peak base-load day."),
    reserve: float = typer.Option(0.95, "--reserve", help="Share of the transformer's headroom posted as C - P_R."),
    policies: str = typer.Option(
        "uncontrolled,greedy,fcfs,optimal,edf,llf,offline",
        "--policies",
        help="Comma-separated policies (any of the default ones).",
    ),
    sweep: str = typer.Option(
        "10,25,50,75,100,125,150,175,200,250",
        "--sweep",
        help="Penetrations [EVs per 100 households] for the sweep; '' for none.",
    ),
    solver: str = typer.Option(
        "auto",
        "--solver",
        help="Power flow: lightsim2grid, pandapower, or auto (lightsim2grid when installed); same results.",
    ),
    out: Path | None = typer.Option(None, "--out", help="Folder for grid_<config>.json and .png (else none)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object on stdout."),
) -> None:
    """Grid impact: uncontrolled vs coordinated EV charging on a SimBench low-voltage feeder.

    The feeder's own household and PV profiles are the base load P_R; each slot's capacity is the
    transformer's headroom over it (C - P_R, times --reserve). EVs get sessions from synPRO's home-charging
    data and chargers of 3.7/11/22 kW with SimBench's shares. Every policy runs on the same scenario:
    uncontrolled (full power on arrival), fcfs, greedy (the paper's), optimal (exact knapsack per slot), edf,
    llf, and offline (perfect-foresight LP bound). An AC power flow per slot (lightsim2grid's solver when it
    is installed, else pandapower's; --solver) gives transformer loading, line loading and the lowest voltage.
    The sweep re-schedules nested scenarios over penetration.

    Example: gridchain experiment grid --evs 200 --days 1 --seed 0 --out results
    """
    from gridchain.grid import plots
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
            grid=grid_code,
            evs=evs,
            days=days,
            seed=seed,
            day=None if day == -1 else day,
            reserve=reserve,
            policies=names,
            sweep=levels,
        )
    except InputError as e:
        raise InputError(f"--{e.field}", e.reason) from None
    from gridchain.grid.model.network import resolve_solver

    try:
        solver = resolve_solver(solver)
    except InputError as e:
        raise InputError("--solver", e.reason) from None
    make_out_dir(out)
    with progress_bar(Console(stderr=True)) as bar:
        task = bar.add_task(f"grid ({evs} EVs, {days} d, {len(names)} policies)", total=config.steps_total)
        result = grid_sim.run(config, progress=lambda n=1: bar.advance(task, n), solver=solver)
    summary = result.summary()
    written = []
    if out is not None:
        written = write_results(out, config.name, summary, lambda path: plots.grid_day(summary, path))
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
    heads = ("policy", "peak trafo %", "h > 100 %", "min V p.u.", "max line %", "energy", "EVs full", "CI", "EV kW")
    for h in heads:
        table.add_column(h, justify="left" if h == "policy" else "right")
    for name, m in summary["policies"].items():
        table.add_row(
            name,
            f"{m['peak_trafo_loading_pct']:.1f}",
            f"{m['hours_above_100']:.2f}",
            f"{m['min_vm_pu']:.3f}",
            f"{m['max_line_loading_pct']:.1f}",
            f"{m['energy_delivered']:.3f}",
            f"{m['fully_served']:.3f}",
            f"{m['charging_index']:.3f}",
            f"{m['peak_ev_kw']:.0f}",
        )
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
        table.add_row(
            str(p["penetration"]),
            str(p["evs"]),
            f"{p['uncontrolled_peak_loading_pct']:.1f}",
            *[f"{p[n]['energy_delivered']:.3f}" for n in names],
        )
    return table


def simbench_capacity(section):
    """`[community.capacity] source = "simbench"`: the headroom of a SimBench feeder's transformer.

    Keys: `grid` (a SimBench LV grid, default 1-LV-rural1--0-sw) and `reserve` (share of the headroom posted,
    default 0.95). Today's profile (96 power flows) is computed here, with a progress bar on stderr."""
    import time

    from gridchain.grid.model.headroom import FeederHeadroom
    from gridchain.grid.model.network import DEFAULT_RESERVE, SIMBENCH_LV_GRIDS, STEPS_PER_DAY, simbench_feeder

    code = section.str("grid", SIMBENCH_LV_GRIDS[0], choices=SIMBENCH_LV_GRIDS)
    reserve = section.float("reserve", 0.01, 1.0, DEFAULT_RESERVE)
    with progress_bar(Console(stderr=True)) as bar:
        task = bar.add_task(f"capacity: {code}'s headroom today", total=STEPS_PER_DAY)
        source = FeederHeadroom(simbench_feeder(code), reserve)
        source.prepare(int(time.time()), progress=lambda: bar.advance(task))
    return source


EXPERIMENTS = {"grid": grid}  # what the root CLI mounts under `gridchain experiment`
CAPACITY_SOURCES = {"simbench": simbench_capacity}  # what the utility may post as C - P_R
