"""The event indexer catching up on anvil: a coordinator with one CapacityPosted log in each of N blocks, indexed
into a fresh SQLite store for each of several `max_range` values; writes
JSON (no assertions).

Measured per `max_range`: the catch-up's wall time, steps (each one store transaction), eth_getLogs requests and
events per second; then the time to roll back a reorganisation of the last 10 blocks (`anvil_reorg`) and read
the new branch.

Usage: python benchmarks/bench_index.py [--out results/bench_index.json] [--blocks 500]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from gridchain.chain.anvil import _rpc, start_anvil
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.coordination.client import CoordinatorClient
from gridchain.index.indexer import Indexer, Target, abi_events
from gridchain.index.reader import IndexReader
from gridchain.index.tables import SCHEMA
from gridchain.store.engine import open_store
from tests.support.counting import CountingGateway

RANGES = (1, 10, 2000)


def catch_up(indexer: Indexer) -> int:
    steps = 0
    while True:
        steps += 1
        if indexer.step().caught_up:
            return steps


def measure(client, deployed: int, url: str, max_range: int) -> dict:
    store = open_store(url)
    store.migrate(SCHEMA)
    counting = CountingGateway(client.gateway)
    target = Target("coordinator", client.address, client.artifact, abi_events(client.artifact), deployed)
    indexer = Indexer(store, counting, [target], max_range=max_range)
    start = time.perf_counter()
    steps = catch_up(indexer)
    seconds = time.perf_counter() - start
    events = sum(IndexReader(store).counts().get("coordinator", {}).values())
    store.close()
    return {
        "max_range": max_range,
        "seconds": round(seconds, 3),
        "steps": steps,
        "get_logs": len(counting.ranges),
        "events": events,
        "events_per_s": round(events / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench_index.json"))
    parser.add_argument("--blocks", type=int, default=500)
    args = parser.parse_args()
    node = start_anvil(accounts=2)
    try:
        gateway = RpcGateway(node.url, node.keys)
        owner = gateway.accounts[0]
        client, receipt = CoordinatorClient.deploy(gateway, owner, gateway.now(), 3600, 500, 1_000)
        for i in range(args.blocks):
            client.post_capacity(owner, i, 1_000 + i)
        with tempfile.TemporaryDirectory() as folder:
            urls = [f"sqlite:///{folder}/index-{r}.db" for r in RANGES]
            runs = [measure(client, receipt.block, url, r) for url, r in zip(urls, RANGES)]
            store = open_store(urls[-1])
            target = Target("coordinator", client.address, client.artifact, abi_events(client.artifact), receipt.block)
            indexer = Indexer(store, gateway, [target])
            _rpc(node.url, "anvil_reorg", [10, []])
            start = time.perf_counter()
            rolled = indexer.step().reorg
            catch_up(indexer)
            reorg_s = time.perf_counter() - start
            store.close()
    finally:
        node.stop()
    out = {
        "benchmark": "index catch-up on anvil",
        "machine": platform.platform(),
        "store": "sqlite",
        "blocks": args.blocks,
        "runs": runs,
        "reorg": {"depth": 10, "events_dropped": rolled.events_dropped, "seconds": round(reorg_s, 3)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
