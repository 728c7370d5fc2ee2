"""Time to close a large slot in pages through the JSON-RPC gateway to anvil (Osaka, --enable-tx-gas-limit);
writes JSON.

Starts its own anvil (stopped at the end), deploys the coordinator, submits `--requests` requests from one
member into slot 0 (pipelined; not timed) and lets the slot end. Then, `--runs` times, from the same chain state
(evm_snapshot / evm_revert) each way in turn, the keeper's close in pages of 1,024 (begin_close, the pages
paired in `close_pages` calls, finish_close) is timed from its first send to its last receipt (computing the paged
calldata, the same both ways, is timed once apart: `calldata_s`):
- per transaction (before issue 22's item 4): `Gateway.transact` one call after the other, an eth_estimateGas,
  a send and a receipt each;
- pipelined: `CoordinatorClient.close_in_pages` (every call at once through `transact_many`, gas limits from the
  measured table `model.close_gas`, no estimate).
Each call's gas used is recorded with its table limit. Timings are wall-clock seconds (the node shares the
machine with this process); the machine's load average is recorded before and after.

Usage: python benchmarks/bench_close.py [--out results/bench_close.json] [--requests 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from gridchain.chain.anvil import start_anvil
from gridchain.chain.gateway import TX_GAS_CAP, ChainRevert, Receipt
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.gas import slot_requests
from gridchain.coordination.model.close_gas import close_gas
from gridchain.coordination.model.coordinator import PagedClose, paged_calldata

SLOT_S = 3600
SUBMIT_CHUNK = 1000


def serial(client: CoordinatorClient, sender: str, slot: int, paged: PagedClose) -> list[Receipt]:
    """The close in pages as the keeper sent it before item 4: one transaction after the other, each estimated
    (the same calls as the pipelined way, pages paired in `close_pages` calls)."""
    receipts = [client._tx("begin_close", [slot, paged.n, paged.sorted_hash], sender)]
    receipts += [client._tx("close_pages", [s, p], sender) for s, p in paged.paired()]
    receipts.append(client._tx("finish_close", [], sender))
    return receipts


def calls_of(paged: PagedClose) -> list[tuple[str, int]]:
    return [("begin_close", 0)] + [("close_pages", len(s) + len(p)) for s, p in paged.paired()] + [("finish_close", 0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/bench_close.json"))
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with start_anvil(hardfork="osaka", accounts=2, extra_args=["--enable-tx-gas-limit"]) as node:
        gateway = RpcGateway(node.url, node.keys)
        owner, member = gateway.accounts
        requests, capacity = slot_requests(args.requests, 1)
        client, _ = CoordinatorClient.deploy(gateway, owner, gateway.now(), SLOT_S, 500, capacity)
        client.set_member(owner, member)
        client.set_request_limit(owner, member, args.requests)
        for k in range(0, args.requests, SUBMIT_CHUNK):  # pipelined, a chunk at a time (not timed)
            sent = client.submit_requests([(member, *r) for r in requests[k : k + SUBMIT_CHUNK]])
            if failed := next((r for r in sent if isinstance(r, ChainRevert)), None):
                raise failed
        gateway.advance_time(client.slot_end(0) - gateway.now())
        pending = [s.request for s in client.submissions(0)]
        ways = {"per_transaction": lambda *a: serial(client, *a), "pipelined": client.close_in_pages}
        times: dict[str, list[float]] = {way: [] for way in ways}
        gas: dict[str, list[int]] = {}
        start = time.perf_counter()
        paged = paged_calldata(pending, 500)
        calldata_s = round(time.perf_counter() - start, 4)
        for _ in range(args.runs):
            for way, close in ways.items():
                snapshot = gateway.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
                start = time.perf_counter()
                receipts = close(owner, 0, paged)
                times[way].append(round(time.perf_counter() - start, 4))
                assert receipts[-1].named("SlotClosed") and client.next_slot_to_close == 1
                gas[way] = [r.gas_used for r in receipts]
                gateway.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
                gateway.forget_nonce(owner)
    calls = calls_of(paged)
    limits = [min(TX_GAS_CAP, close_gas(fn, n)) for fn, n in calls]
    report = {
        "benchmark": "bench_close",
        "node": {"anvil": "1.7.1", "hardfork": "osaka", "flags": ["--enable-tx-gas-limit"], "mining": "automine"},
        "requests": args.requests,
        "calls": len(calls),
        "calldata_s": calldata_s,
        "seconds": times,
        "median_s": {way: statistics.median(t) for way, t in times.items()},
        "speedup_median": round(statistics.median(times["per_transaction"]) / statistics.median(times["pipelined"]), 2),
        "gas": [
            {"fn": fn, "requests": n, "gas_used": used, "limit": limit, "under_limit": used <= limit}
            for (fn, n), used, limit in zip(calls, gas["pipelined"], limits)
        ],
        "gas_equal_both_ways": gas["pipelined"] == gas["per_transaction"],
        "gas_per_request": round(sum(gas["pipelined"]) / args.requests, 1),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps({k: report[k] for k in ("seconds", "median_s", "speedup_median", "gas_equal_both_ways")}, indent=1)
    )
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
