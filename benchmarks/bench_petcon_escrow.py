"""Gas of settling a whole PETCON auction of the paper's size in the escrow (contracts/petcon_escrow.vy): 35 buyers
and 45 sellers, each entry on its pole's 8 readings (96-leaf day roots), 16 entries a call (128 readings, the
contract's most), on the embedded chain (Prague rules; receipts' gasUsed as anvil's). Writes
results/petcon_escrow_lot_35b_45s.json.

    PYTHONPATH=src python benchmarks/bench_petcon_escrow.py
"""

from __future__ import annotations

import json
from pathlib import Path

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.market.petcon.escrow.gas import settle_lot

BUYERS, SELLERS, BATCH = 35, 45, 16


def main(out: Path = Path("results")) -> dict:
    report = settle_lot(BoaGateway(accounts=3 + BUYERS), BUYERS, SELLERS, BATCH)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"petcon_escrow_lot_{BUYERS}b_{SELLERS}s.json").write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    print(json.dumps(main()))
