"""PETCON's commands: `gridchain experiment petcon` (the paper's parking lot against the convex optimum) and
`gridchain petcon demo` (one auction over loopback HTTP, attested on chain by the LAG committee)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gridchain.errors import InputError
from gridchain.market.petcon import model
from gridchain.ui.chain_options import RPC_URL, confirm_clock_moves, rpc_gateway
from gridchain.ui.console import emit
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


@bad_input_exits
def demo(
    buyers: int = typer.Option(6, "--buyers", help="Charging PHEVs, 1 .. 100."),
    sellers: int = typer.Option(8, "--sellers", help="Discharging PHEVs, 1 .. 100."),
    seed: int = typer.Option(0, "--seed", help="Seed of the hotspot (the paper's distributions) and the keys."),
    rule: str = typer.Option("unanimous", "--rule", help="The committee's rule: unanimous (PETCON) or two-thirds."),
    lags: int = typer.Option(3, "--lags", help="LAGs in the committee, 1 .. 32."),
    rpc_url: str = RPC_URL,
    yes: bool = typer.Option(False, "--yes", help="Move a node's clock (two days) even if it has blocks already."),
    out: Path = typer.Option(Path("results/petcon"), "--out", help="Folder for petcon_demo_<config>.json and .png."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object on stdout."),
) -> None:
    """One PETCON auction over loopback HTTP, its result attested on chain by the LAG committee and settled
    in energy coins through the escrow on the poles' signed meter readings.

    The LAG's auctioneer serves the auction on 127.0.0.1; each PHEV (a thread) joins with a fresh pseudonym and
    bids from its private parameters until the stop rule; every LAG audits the published result (constraints,
    budget balance, the final round's KKT conditions, the digest) and signs; the committee contract attests
    the digest under the rule; `market verify` checks the written record. The buyers escrow before the
    attestation; after it the poles' meters sign their readings of the delivery window (one buyer disconnects
    half-way, one seller delivers short), the LAG settles and everyone withdraws. Runs on the embedded chain
    unless --rpc-url names a node with 2 funded accounts (its clock moves two days). Writes the published
    document (<name>_record.json, what `gridchain market verify` reads), the summary (<name>.json) and the
    figure (<name>.png).

    Example: gridchain petcon demo --buyers 6 --sellers 8 --rule two-thirds
    """
    from gridchain.chain.boa_gateway import BoaGateway
    from gridchain.market.petcon import plots
    from gridchain.market.petcon.scenarios import demo as scenario

    try:
        config = scenario.DemoConfig(buyers, sellers, seed, rule, lags)
    except InputError as e:
        raise InputError(f"--{e.field}", e.reason) from None
    make_out_dir(out)
    if rpc_url and not rpc_url.startswith(("http://", "https://")):
        raise InputError("--rpc-url", f"{rpc_url!r} is not an http:// or https:// URL")
    gateway = rpc_gateway(rpc_url, None, 2) if rpc_url else BoaGateway(accounts=2)
    if rpc_url:
        confirm_clock_moves(gateway, yes, "two days")
    summary = scenario.run(gateway, config)
    record = out / f"{config.name}_record.json"
    record.write_text(json.dumps(summary["document"], indent=2) + "\n", encoding="utf-8")
    written = write_results(out, config.name, summary, lambda path: plots.demo_figure(summary, path))
    files = [str(record), *map(str, written)]
    lines = demo_lines(summary) + [f"wrote {f}" for f in files] + [f"check it: gridchain market verify {record}"]
    emit(as_json, summary | {"files": files}, lines)


def demo_lines(summary: dict) -> list[str]:
    """The demo's summary in lines of at most 80 columns."""
    c, chain = summary["config"], summary["onchain"]
    pay, get = summary["payments_micro"], summary["rewards_micro"]
    return [
        f"PETCON over HTTP: {c['buyers']} buyers, {c['sellers']} sellers, seed {c['seed']} ({summary['chain']} chain)",
        f"auction: {summary['outcome']} in {summary['rounds']} rounds, {summary['seconds_http']:.1f} s on loopback; "
        f"model's run: {'same' if summary['matches_model'] else 'DIFFERENT'}",
        f"welfare: {summary['welfare_usd'][-1]:.6f} $ vs optimum {summary['welfare_opt_usd']:.6f} $ "
        f"(gap {summary['gap_final']:.1e})",
        f"buyers pay {sum(pay) / 1e6:.6f}, sellers get {sum(get) / 1e6:.6f} coins "
        f"(surplus {(sum(pay) - sum(get)) / 1e6:.6f})",
        f"committee {chain['committee']}, deployed for {chain['deploy_gas']:,} gas",
        f"LAGs: {chain['signed']} of {chain['members']} signed (threshold {chain['threshold']}, {c['rule']}); "
        + (f"attest gas {chain['gas']:,}" if chain["gas"] is not None else "not attested"),
        f"digest {summary['document']['digest'][:42]}.. "
        f"{'attested' if chain['attested_digest'] == summary['document']['digest'] else 'NOT attested'}",
        *(f"violation: {v}"[:80] for v in summary["violations"]),
        *settlement_lines(summary["settlement"]),
    ]


def _coins(micro: int) -> str:
    return f"{micro / 1e6:.6f}"


def settlement_lines(s: dict | str) -> list[str]:
    """Per PHEV what settlement did, and the totals proving conservation (80 columns)."""
    if isinstance(s, str):
        return [f"settlement: {s}"]
    t = s["totals"]
    lines = [
        f"settlement (escrow {s['contracts']['escrow'][:10]}.., penalty {s['penalty_bps'] / 100:g} % of the "
        "undelivered value)",
        f"{'PHEV':<13} {'role':<6} {'alloc kWh':>9} {'rec kWh':>9} {'paid':>10} {'received':>10} {'penalty':>9}",
    ]
    for r in s["phevs"]:
        who = r["pseudonym"][:6] + ".." + r["pseudonym"][-4:]
        lines.append(
            f"{who:<13} {r['role']:<6} {r['allocated_wh'] / 1e3:>9.3f} {r['recorded_wh'] / 1e3:>9.3f} "
            f"{_coins(r['paid_micro']):>10} {_coins(r['received_micro']):>10} {_coins(r['penalty_micro']):>9}"
        )
    lines += [
        f"escrowed {_coins(t['escrowed_micro'])} == paid {_coins(t['paid_micro'])} + refunded "
        f"{_coins(t['refunded_micro'])}",
        f"house: paid {_coins(t['paid_micro'])} + funded {_coins(t['funded_micro'])} - received "
        f"{_coins(t['received_micro'])} = withdrawn {_coins(t['house_withdrawn_micro'])}",
        f"escrow holds {_coins(t['held_after_micro'])} at the end: "
        + ("coins conserved" if t["conserved"] else "NOT CONSERVED"),
    ]
    return lines


app = typer.Typer(help="PETCON's auction over HTTP, attested by the LAG committee.", no_args_is_help=True)
app.command("demo")(demo)

EXPERIMENTS = {"petcon": petcon}
APPS = {"petcon": app}
