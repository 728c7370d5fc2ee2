"""`gridchain demo`: a day of one community on a chain, closed by the keeper and verified by every ESU."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from gridchain.checks import check_int
from gridchain.coordination.scenarios import community_day
from gridchain.errors import InputError
from gridchain.ui.chain_options import KEYS_HELP, RPC_URL, confirm_clock_moves, rpc_gateway
from gridchain.ui.errors import bad_input_exits


@bad_input_exits
def demo(
    seed: int = typer.Option(0, "--seed", help="Seed of the community's day."),
    evs: int = typer.Option(45, "--evs", help="EVs coming home during the day."),
    home_batteries: int = typer.Option(5, "--home-batteries", help="Home batteries charging overnight."),
    rpc_url: str = RPC_URL,
    keys: str = typer.Option(None, "--keys", help=KEYS_HELP),
    mode: str = typer.Option(
        "anonymous",
        "--mode",
        help="anonymous: blind tokens from the utility's service, requests from one-time pseudonyms through the "
        "relayer service (both on 127.0.0.1). members: each ESU submits from its own member account.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print slots, ESUs, gas and verdicts as one JSON object."),
    yes: bool = typer.Option(
        False, "--yes", help="With --rpc-url: move the clock of a node that has blocks already (a shared node?)."
    ),
) -> None:
    """A day of one community on chain, closed by the keeper and verified by every ESU.

    The utility posts C - P_R each hour, ESUs submit as they come home, the keeper closes every slot, and
    each ESU recomputes and verifies its allocations from the chain. By default requests are anonymous: each
    ESU gets a blind-signed token from the utility's issuance service and sends its request, signed by a
    one-time pseudonym, to the relayer service, which submits them in batches and pays the gas.

    Runs on the embedded chain (in-process py-evm) unless --rpc-url names a development node, e.g. one
    started by `gridchain node --accounts 60`. The demo moves the node's clock a day forward: on a node whose
    chain has blocks already (a shared node?) it asks for --yes first. Gas figures are receipt gasUsed
    (Prague rules on the embedded chain).

    Example: gridchain demo --evs 45 --home-batteries 5
    """
    from gridchain.chain.boa_gateway import BoaGateway
    from gridchain.coordination.scenarios import chain_day

    check_int("--evs", evs, 0, 1000)
    check_int("--home-batteries", home_batteries, 0, 1000)
    if mode not in chain_day.MODES:
        raise InputError("--mode", f"{mode!r} is not one of {', '.join(chain_day.MODES)}")
    day = community_day.build(seed, evs, home_batteries)
    needed = chain_day.accounts_needed(day)
    gateway = rpc_gateway(rpc_url, keys, needed) if rpc_url else BoaGateway(accounts=needed)
    if rpc_url:
        confirm_clock_moves(gateway, yes)
    err = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=as_json,
    ) as bar:
        task = bar.add_task(f"a day on the {gateway.kind} chain", total=len(day.arrivals) + 10)
        result = chain_day.run(gateway, day, progress=lambda _: bar.advance(task), mode=mode)
        bar.update(task, total=bar.tasks[0].completed)
    summary = result.summary()
    comparison = community_day.compare_policies(day)
    if as_json:
        payload = {
            "seed": seed,
            "address": result.address,
            "chain": result.gateway,
            "summary": summary,
            "slots": result.slots,
            "esus": result.esus,
            "mismatches": result.mismatches,
            "model": comparison,
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    console = Console()
    console.print(
        f"[bold]A day of one community on the {result.gateway} chain[/bold] (seed {seed}): {day.esus} ESUs "
        f"({evs} EVs, {home_batteries} home batteries), transformer {community_day.TRANSFORMER_W / 1000:g} kW, "
        f"1-hour slots; coordinator at {result.address}"
    )
    table = Table(title="Slots closed by the keeper (slots with requests)")
    for col in ("slot", "hour", "C-P_R kW", "req", "sched", "partial kW", "carried", "expired", "granted kW", "gas"):
        table.add_column(col, justify="right")
    for s in result.slots:
        if s["requests"] == 0:
            continue
        table.add_row(
            str(s["slot"]),
            f"{s['slot'] % 24:02d}:00",
            f"{s['capacity_w'] / 1000:.0f}",
            str(s["requests"]),
            str(s["scheduled"]),
            f"{s['partial_w'] / 1000:.1f}",
            str(s["carried"]),
            str(s["expired"]),
            f"{s['granted_w'] / 1000:.1f}",
            f"{s['gas_used'] / 1000:.1f}k",
        )
    console.print(table)
    gas = Table(title="Gas used (receipts)")
    for col in ("transaction", "count", "total", "mean"):
        gas.add_column(col, justify="right")
    for kind, g in summary["gas"].items():
        gas.add_row(kind, str(g["transactions"]), f"{g['total']:,}", f"{g['mean']:,}")
    console.print(gas)
    console.print(
        f"requests {summary['requests']}, energy granted {summary['energy_granted_wh'] / 1000:,.1f} of "
        f"{summary['energy_required_wh'] / 1000:,.1f} kWh, deferrals {summary['deferred']}, "
        f"expired {summary['expired']}"
    )
    verdict = "[green]" if not result.mismatches else "[red]"
    console.print(
        f"{verdict}{summary['esus_verified']} of {summary['requests']} ESUs recomputed their allocations from the "
        f"chain and found them right ({summary['mismatches']} mismatches)[/]"
    )
    for m in result.mismatches:
        console.print(f"[red]MISMATCH[/red] {m}")
    compare = Table(title="The same day in the core model, by policy (the chain runs greedy)")
    for col in ("policy", "charging index", "energy delivered", "ESUs fully served"):
        compare.add_column(col, justify="right")
    for name, s in comparison.items():
        compare.add_row(name, f"{s['charging_index']:.3f}", f"{s['energy_delivered']:.1%}", f"{s['fully_served']:.1%}")
    console.print(compare)
