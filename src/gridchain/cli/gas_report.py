"""`gridchain gas-report`: the coordinator's gas against a faithful port of the paper's Algorithm 1."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

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

from gridchain.cli.node import Hardfork
from gridchain.coin import gas as coin_gas
from gridchain.committee import gas as committee_gas
from gridchain.coordination import gas as coordination_gas
from gridchain.errors import InputError
from gridchain.escrow import gas as escrow_gas
from gridchain.escrow.notes import gas as notes_gas
from gridchain.governance import gas as governance_gas
from gridchain.market import gas as market_gas
from gridchain.market.petcon.escrow import gas as petcon_escrow_gas
from gridchain.market.settlement import gas as market_settlement_gas
from gridchain.metering import gas as metering_gas
from gridchain.monitoring import gas as monitoring_gas
from gridchain.ui.errors import bad_input_exits, make_out_dir
from gridchain.ui.results import write_results
from gridchain.v2v import gas as v2v_gas

SECTIONS = (
    coordination_gas,
    v2v_gas,
    metering_gas,
    coin_gas,
    committee_gas,
    market_gas,
    market_settlement_gas,
    petcon_escrow_gas,
    governance_gas,
    escrow_gas,
    notes_gas,
    monitoring_gas,
)  # the gas report's registry: a new system adds its gas.py

Chain = StrEnum("Chain", {"embedded": "embedded", "anvil": "anvil"})


@bad_input_exits
def gas_report(
    hardfork: Hardfork = typer.Option("prague", "--hardfork", help="prague or osaka (osaka runs on anvil)."),
    chain: Chain = typer.Option(
        None,
        "--chain",
        help="embedded (py-evm, Prague only; its receipts equal anvil's) or anvil. Default: "
        "embedded for prague, anvil for osaka.",
    ),
    out: Path = typer.Option(Path("results"), "--out", help="Folder for <config>.json and <config>.png."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
) -> None:
    """Gas of the coordinator against a faithful port of the paper's Algorithm 1, with targets and a plot.

    Measures receipt gasUsed of deploy, submit_request and the close of a slot of n = 10 .. 10,000
    requests (above 1,024 it closes in pages), and of a faithful Vyper port of the paper's Algorithm 1
    (n = 10 .. 500) on the same slots, and of anonymous requests relayed one per transaction and 20 per
    transaction; then check the targets: submit_request <= 60,000; <= 6,000 gas per request at n = 500
    and at n = 10,000 (every call under the 16,777,216 cap); at least 10 times less than the baseline at
    n = 200; an anonymous request <= 72,000 alone and <= 41,000 in a batch of 20 (Osaka). Also the V2V auction's
    functions against that paper's Table II (each at or below it; settle <= 60,000; a trade with five bids
    <= half the paper's 997,188). Beside each figure, its value before the security fixes of issue 14 (kept in
    benchmarks/baseline/gas_before_issue14/), and the target that the close at n = 500 stays under 1,700 gas
    per request with them. Writes JSON and a plot of the paper's Fig. 3 with our line added.

    Example: gridchain gas-report --hardfork prague --out docs/figures
    """
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.boa_gateway import BoaGateway
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.coordination import plots
    from gridchain.experiments.gas_before import BASELINE_DIR
    from gridchain.experiments.gas_report import GasReportConfig, run
    from gridchain.experiments.gas_report import steps as count_steps

    if not BASELINE_DIR.is_dir():  # benchmarks/ is not installed with the package: one line, no traceback
        why = "the gas report needs a source checkout's benchmarks/baseline/, which an installed gridchain lacks"
        print(f"error: no folder {BASELINE_DIR}: {why}", file=sys.stderr)
        raise typer.Exit(1)
    chosen = str(chain) if chain else ("embedded" if str(hardfork) == "prague" else "anvil")
    if chosen == "embedded" and str(hardfork) != "prague":
        raise InputError("--chain", "the embedded chain (py-evm) has Prague rules only; use --chain anvil")
    config = GasReportConfig(hardfork=str(hardfork), chain=chosen)
    make_out_dir(out)
    steps = count_steps(config, SECTIONS)
    # Osaka as mainnet has it: EIP-7825's per-transaction cap, which anvil 1.7.1 enforces only on request
    extra = ["--enable-tx-gas-limit"] if config.hardfork == "osaka" else []
    node = (
        start_anvil(hardfork=config.hardfork, accounts=config.accounts, extra_args=extra) if chosen == "anvil" else None
    )
    try:
        shared = RpcGateway(node.url, node.keys) if node else None
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=as_json,
        ) as bar:
            task = bar.add_task(f"gas on {chosen} ({config.hardfork})", total=steps)
            report = run(
                config,
                (lambda: shared) if shared else (lambda: BoaGateway(accounts=config.accounts)),
                SECTIONS,
                lambda label: bar.update(task, advance=1, description=label),
            )
    finally:
        if node:
            node.stop()
    json_path, png_path = write_results(out, config.name, report, lambda path: plots.gas_fig3(report, path))
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    console = Console()
    for section in SECTIONS:
        section.show(report, console, f"{config.hardfork}, {chosen} chain")
    fixes = report.get("before_security_fixes")
    if fixes:
        changed = {k: v for k, v in fixes["functions"].items() if v["before"] != v["after"]}
        cost = Table(title=f"What the security fixes cost: gas before them (commit {fixes['commit']}) and now")
        cost.add_column("figure", overflow="fold")
        for col in ("before", "now", "change"):
            cost.add_column(col, justify="right")
        section = None
        for name, v in changed.items():
            if name.split(".")[0] != section:
                section = name.split(".")[0]
                cost.add_row(f"[bold]{section}[/bold]")
            before, now = v["before"], v["after"]
            cost.add_row(
                f"  {name.split('.', 1)[1]}",
                "-" if before is None else f"{before:,}",
                "-" if now is None else f"{now:,}",
                f"{now - before:+,}" if None not in (before, now) else "",
            )
        console.print(cost)
        console.print(
            f"-: not measured then (a new function, or one the report did not measure); "
            f"{len(fixes['functions']) - len(changed)} other figures unchanged"
        )
    for name, t in report["targets"].items():
        mark = "[green]met[/green]" if t["met"] else "[red]not met[/red]"
        detail = {k: v for k, v in t.items() if k != "met"}
        console.print(f"target {name}: {mark} {detail}")
    console.print(f"wrote {json_path} and {png_path}")
