"""Receipt gas of the charging coordinator: deploy, submit_request, and close_slot for n requests in a slot.

Runs on the embedded chain, whose receipts equal anvil's under --hardfork prague (tests/chain holds the two
to exact equality); so these are Prague figures. Requests follow the paper's Fig. 2 distributions; the
capacity is a third of the total demand, so most requests are deferred and carried. Writes JSON.

Usage: python benchmarks/bench_coordinator_gas.py [--out results/bench_coordinator_gas.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.coordinator import CoordinatorClient
from gridchain.core.coordinator import MAX_REQUESTS, close_calldata

SIZES = (10, 50, 100, 200, 500, 1000)


def measure(n: int, seed: int = 0) -> dict[str, object]:
    gateway = BoaGateway(accounts=2)
    owner, member = gateway.accounts
    client, deploy = CoordinatorClient.deploy(gateway, owner, gateway.now(), 3600, 500, 10**9)
    client.set_member(owner, member)
    rng = np.random.default_rng([seed, n])
    soc = rng.integers(0, 1000, n)
    tcc = rng.geometric(0.25, n)
    demand = (1000 - soc) * 200
    submits = [client.submit_request(member, int(demand[i]), int(soc[i]), int(tcc[i]))[1].gas_used for i in range(n)]
    client.post_capacity(owner, 0, int(demand.sum()) // 3)
    gateway.advance_time(3600)
    receipt = client.close_slot(owner, 0, *close_calldata([s.request for s in client.submissions(0)], 500))
    event = receipt.named("SlotClosed")[0].args
    return {
        "n": n,
        "deploy": deploy.gas_used,
        "submit_first": submits[0],
        "submit_steady": submits[-1],
        "close_slot": receipt.gas_used,
        "close_per_request": round(receipt.gas_used / n),
        "carried": event["carried"],
        "expired": event["expired"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/bench_coordinator_gas.json"))
    args = parser.parse_args()
    rows = []
    for n in SIZES:
        assert n <= MAX_REQUESTS
        rows.append(measure(n))
        print(json.dumps(rows[-1]), file=sys.stderr)
    report = {"benchmark": "coordinator_gas", "hardfork": "prague", "chain": "embedded (py-evm)", "results": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
