"""Gas of the energy coin's functions (gridchain.coin.gas, the gas report's coin section) on its own, under Prague
and Osaka: the embedded chain (py-evm, Prague) and anvil with each hardfork; writes JSON (no assertions).

`gridchain gas-report --hardfork osaka|prague` measures the same section with every other one (minutes); this is
the coin's part alone (seconds).

Usage: python benchmarks/bench_coin_gas.py [--out results/gas_coin.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gridchain.chain.gas_runs import on_three_chains, write_report
from gridchain.coin.gas import measure_functions

ACCOUNTS = 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/gas_coin.json"))
    args = parser.parse_args()
    report = on_three_chains(measure_functions, ACCOUNTS)
    write_report(report, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
