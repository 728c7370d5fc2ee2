"""Gas of the trade escrow (gridchain.escrow.gas, the gas report's escrow section) on its own, under Prague and
Osaka: the embedded chain (py-evm, Prague) and anvil with each hardfork; writes JSON (no assertions), and prints the
Osaka figures against the issue's targets (open <= 90,000, release by 2 of 3 <= 120,000).

`gridchain gas-report --hardfork osaka|prague` measures the same section with every other one (minutes); this is
the escrow's part alone (seconds).

Usage: python benchmarks/bench_escrow_gas.py [--out results/gas_escrow.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gridchain.chain.anvil import start_anvil
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.escrow.gas import ACCOUNTS, TARGETS, measure_functions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/gas_escrow.json"))
    args = parser.parse_args()
    report = {"prague_embedded": measure_functions(BoaGateway(accounts=ACCOUNTS))}
    for hardfork in ("prague", "osaka"):
        node = start_anvil(hardfork=hardfork, accounts=ACCOUNTS)
        try:
            report[f"{hardfork}_anvil"] = measure_functions(RpcGateway(node.url, node.keys))
        finally:
            node.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    for name in report["prague_embedded"]:
        print(f"{name:42}", *(f"{report[chain][name]:>10,}" for chain in report))
    osaka = report["osaka_anvil"]
    for what, target in TARGETS.items():
        for name in (n for n in osaka if n.startswith(what)):
            verdict = "met" if osaka[name] <= target else f"missed by {osaka[name] - target:,}"
            print(f"{name:42} osaka {osaka[name]:>8,} vs target {target:,}: {verdict}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
