"""Gas of governance by a Safe 1.4.1 (gridchain.governance.gas, the gas report's governance section) on its own,
under Prague and Osaka: the embedded chain (py-evm, Prague) and anvil with each hardfork; writes JSON (no
assertions).

`gridchain gas-report --hardfork osaka|prague` measures the same section with every other one (minutes); this is
the governance section alone (seconds).

Usage: python benchmarks/bench_governance_gas.py [--out results/gas_governance.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gridchain.chain.anvil import start_anvil
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.governance.gas import measure_functions

ACCOUNTS = 2  # as gridchain.governance.gas needs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/gas_governance.json"))
    args = parser.parse_args()
    report = {"prague_embedded": measure_functions(BoaGateway(accounts=ACCOUNTS))}
    for hardfork in ("prague", "osaka"):
        extra = ["--enable-tx-gas-limit"] if hardfork == "osaka" else []  # EIP-7825's cap, as mainnet has it
        node = start_anvil(hardfork=hardfork, accounts=ACCOUNTS, extra_args=extra)
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
