"""`gridchain experiment market`: the call market on a SimBench feeder's day, results named by their configuration."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gridchain.errors import InputError
from gridchain.ui.errors import bad_input_exits, make_out_dir
from gridchain.ui.progress import progress_bar
from gridchain.ui.results import write_results

WIDTH = 80


@bad_input_exits
def market(
    feeder: str = typer.Option(
        "1-LV-rural3--0-sw", "--feeder", help="SimBench LV grid (1-LV-rural1/2/3, semiurb4/5, urban6, each --0-sw)."
    ),
    day: int = typer.Option(-1, "--day", help="Day of 2016 (0 = 1 Jan); -1: the feeder's sunniest day."),
    seed: int = typer.Option(0, "--seed", help="Seed of the prices and battery owners; same seed, same numbers."),
    battery_share: float = typer.Option(0.3, "--battery-share", help="Share of households with a home battery."),
    start: int = typer.Option(0, "--start", help="First 15-minute interval of the day (0 = midnight)."),
    intervals: int = typer.Option(96, "--intervals", help="Intervals from --start (96: the whole day)."),
    out: Path = typer.Option(Path("results/market"), "--out", help="Folder for market_<config>.json and .png."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object on stdout."),
) -> None:
    """The prosumers' call market on a SimBench LV feeder's day: each household's net load (SimBench's load and
    PV profiles) as a truthful order per 15-minute interval, cleared under rule 0 (uniform price) and rule 1 (trade
    reduction) against the LP optimum; home batteries that self-consume without the market or follow its price
    forecast with it; the transformer's loading from an AC power flow per interval. See docs/market-experiment.md.

    Example: gridchain experiment market --seed 0 --battery-share 0.3
    """
    from gridchain.market.feeder import plots, scenarios

    try:
        config = scenarios.MarketConfig(
            feeder=feeder,
            day=None if day == -1 else day,
            seed=seed,
            battery_share=battery_share,
            start=start,
            intervals=intervals,
        )
    except InputError as e:
        raise InputError(f"--{e.field.replace('_', '-')}", e.reason) from None
    make_out_dir(out)
    with progress_bar(Console(stderr=True)) as bar:
        task = bar.add_task(f"market ({feeder}, {intervals} intervals)", total=config.steps_total)
        summary = scenarios.run(config, progress=lambda n=1: bar.advance(task, n))
    written = write_results(out, summary["name"], summary, lambda path: plots.market_figure(summary, path))
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    console = Console(width=WIDTH)
    console.print(market_table(summary))
    console.print(feeder_table(summary))
    console.print(f"{summary['seconds']} s; wrote {written[0]} and {written[1]}")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _ct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def market_table(summary: dict) -> Table:
    """Per market pass (no batteries, each battery rule): welfare against the optimum, prices, volumes, money."""
    cfg = summary["config"]
    table = Table(
        title=f"Call market on {cfg['feeder']}, {summary['date']}, {summary['households']} households "
        f"({summary['prosumers']} with PV, {summary['batteries']} batteries), seed {cfg['seed']}",
        width=WIDTH,
    )
    table.add_column("per day")
    passes = summary["market"]
    for name in passes:
        table.add_column(name.replace("batteries ", "batt. "), justify="right")
    rows = [
        ("LP optimum [coin]", lambda m: f"{m['optimum_coin']:.3f}"),
        ("rule 0 welfare / optimum", lambda m: _pct(m["rule0"]["efficiency"])),
        ("rule 1 welfare / optimum", lambda m: _pct(m["rule1"]["efficiency"])),
        ("rule 1, worst interval", lambda m: _pct(m["rule1"]["worst_interval_efficiency"])),
        ("rule 0 price [ct/kWh]", lambda m: _ct(m["rule0"]["avg_buy_price_ct"])),
        (
            "rule 1 buy/sell [ct/kWh]",
            lambda m: f"{_ct(m['rule1']['avg_buy_price_ct'])}/{_ct(m['rule1']['avg_sell_price_ct'])}",
        ),
        ("traded rule 0/1 [kWh]", lambda m: f"{m['rule0']['volume_kwh']:.0f}/{m['rule1']['volume_kwh']:.0f}"),
        ("demand met locally, rule 0", lambda m: _pct(m["rule0"]["local_share_of_demand"])),
        ("grid fees, rule 0 [coin]", lambda m: f"{m['rule0']['grid_fees_coin']:.2f}"),
        ("rule 1 market keeps [coin]", lambda m: f"{m['rule1']['market_keeps_coin']:.3f}"),
        (
            "budget balanced, 0/1",
            lambda m: "/".join("yes" if m[r]["budget_balanced_every_interval"] else "NO" for r in ("rule0", "rule1")),
        ),
    ]
    for label, cell in rows:
        table.add_row(escape(label), *(cell(m) for m in passes.values()))
    return table


def feeder_table(summary: dict) -> Table:
    """Per power flow case: the transformer's peak loading, import and export, the lowest voltage."""
    table = Table(
        title=f"Transformer ({summary['transformer_kva']:g} kVA) with and without the market",
        width=WIDTH,
    )
    table.add_column("per day")
    cases = summary["flows"]
    for name in cases:
        table.add_column(name.replace("self-consumption", "self-cons.").replace("market, ", "mkt "), justify="right")
    rows = [
        ("peak loading [%]", lambda f: f"{f['peak_trafo_loading_pct']:.1f}"),
        ("peak import [kW]", lambda f: f"{f['peak_import_kw']:.1f}"),
        ("peak export [kW]", lambda f: f"{f['peak_export_kw']:.1f}"),
        ("import/export [kWh]", lambda f: f"{f['import_kwh']:.0f}/{f['export_kwh']:.0f}"),
        ("lowest voltage [p.u.]", lambda f: f"{f['min_vm_pu']:.4f}"),
    ]
    for label, cell in rows:
        table.add_row(escape(label), *(cell(f) for f in cases.values()))
    energy = summary["energy_kwh"]
    table.add_row(escape("batt. net gain [kWh]"), *(f"{energy[f'stored at the end, {n}']:.0f}" for n in cases))
    return table


EXPERIMENTS = {"market": market}  # what the root CLI mounts under `gridchain experiment`
