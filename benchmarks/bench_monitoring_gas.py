"""Gas of monitoring (gridchain.monitoring.gas, the gas report's section: access log and consent) on its own,
under Prague and Osaka: the embedded chain (py-evm, Prague) and anvil with each hardfork; writes JSON (no
assertions).

`gridchain gas-report --hardfork osaka|prague` measures the same section with every other one (minutes); this is
monitoring's part alone (seconds).

Usage: python benchmarks/bench_monitoring_gas.py [--out results/gas_monitoring.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gridchain.chain.gas_runs import on_three_chains, write_report
from gridchain.monitoring.gas import measure_functions

ACCOUNTS = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/gas_monitoring.json"))
    args = parser.parse_args()
    report = on_three_chains(measure_functions, ACCOUNTS)
    write_report(report, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
