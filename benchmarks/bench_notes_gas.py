"""Gas of the trade notes pools (gridchain.escrow.notes.gas) under Prague and Osaka: the embedded chain (py-evm,
Prague) and anvil with each hardfork (Osaka with EIP-7825's transaction gas cap, `--enable-tx-gas-limit`, as
mainnet has it); writes JSON (no assertions) and prints a table. One RSA key for all chains.

Usage: python benchmarks/bench_notes_gas.py [--out results/gas_notes.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gridchain.chain.gas_runs import on_three_chains, write_report
from gridchain.crypto import blind
from gridchain.escrow.notes.gas import ACCOUNTS, measure_functions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/gas_notes.json"))
    args = parser.parse_args()
    key = blind.PrivateKey.generate()
    report = on_three_chains(lambda gateway: measure_functions(gateway, key), ACCOUNTS)
    write_report(report, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
