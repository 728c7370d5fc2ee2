"""The three chains a section's gas benchmark reports: the embedded chain (py-evm, Prague) and anvil under Prague
and under Osaka, Osaka with EIP-7825's per-transaction cap enforced (`--enable-tx-gas-limit`, as mainnet has it;
anvil 1.7.1 does not enforce it otherwise). Gas is read from receipts by the section's `measure`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from gridchain.chain.anvil import start_anvil
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import Gateway
from gridchain.chain.rpc_gateway import RpcGateway

Measure = Callable[[Gateway], dict[str, int]]
CHAINS = ("prague_embedded", "prague_anvil", "osaka_anvil")


def on_three_chains(measure: Measure, accounts: int) -> dict[str, dict[str, int]]:
    """`measure` on a fresh embedded chain and a fresh anvil per hardfork (each stopped after); gas by chain."""
    report = {"prague_embedded": measure(BoaGateway(accounts=accounts))}
    for hardfork in ("prague", "osaka"):
        extra = ["--enable-tx-gas-limit"] if hardfork == "osaka" else []
        node = start_anvil(hardfork=hardfork, accounts=accounts, extra_args=extra)
        try:
            report[f"{hardfork}_anvil"] = measure(RpcGateway(node.url, node.keys))
        finally:
            node.stop()
    return report


def write_report(report: dict[str, dict[str, int]], out: Path) -> None:
    """Write `report` as JSON to `out` and print one row per measurement, a column per chain."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    width = max(map(len, report["prague_embedded"]))
    print(f"{'':{width}}", *(f"{chain:>16}" for chain in report))
    for name in report["prague_embedded"]:
        print(f"{name:{width}}", *(f"{report[chain][name]:>16,}" for chain in report))
