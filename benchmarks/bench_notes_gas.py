"""Gas of the trade notes pools (gridchain.escrow.notes.gas) under Prague and Osaka: the embedded chain (py-evm,
Prague) and anvil with each hardfork (Osaka with EIP-7825's transaction gas cap, `--enable-tx-gas-limit`, as
mainnet has it); writes JSON (no assertions) and prints a table. One RSA key for all chains.

Usage: python benchmarks/bench_notes_gas.py [--out results/gas_notes.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gridchain.chain.anvil import start_anvil
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.crypto import blind
from gridchain.escrow.notes.gas import ACCOUNTS, measure_functions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/gas_notes.json"))
    args = parser.parse_args()
    key = blind.PrivateKey.generate()
    report = {"prague_embedded": measure_functions(BoaGateway(accounts=ACCOUNTS), key)}
    for hardfork in ("prague", "osaka"):
        extra = ["--enable-tx-gas-limit"] if hardfork == "osaka" else []
        node = start_anvil(hardfork=hardfork, accounts=ACCOUNTS, extra_args=extra)
        try:
            report[f"{hardfork}_anvil"] = measure_functions(RpcGateway(node.url, node.keys), key)
        finally:
            node.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"{'':32}", *(f"{chain:>16}" for chain in report))
    for name in report["prague_embedded"]:
        print(f"{name:32}", *(f"{report[chain][name]:>16,}" for chain in report))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
