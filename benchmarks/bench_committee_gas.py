"""Gas of the committee's attestations (gridchain.committee.gas, the gas report's committee section) on its own,
under Prague and Osaka: the embedded chain (py-evm, Prague) and anvil with each hardfork; writes JSON (no
assertions).

`gridchain gas-report --hardfork osaka|prague` measures the same section with every other one (minutes); this is
the committee's part alone (seconds).

Usage: python benchmarks/bench_committee_gas.py [--out results/gas_committee.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gridchain.chain.anvil import start_anvil
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.committee.gas import measure_functions

ACCOUNTS = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/gas_committee.json"))
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
        print(f"{name:28}", *(f"{report[chain][name]:>10,}" for chain in report))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
