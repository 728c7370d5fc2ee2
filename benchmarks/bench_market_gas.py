"""Gas of the prosumers' call market (contracts/call_market.vy): receipts of commit and reveal, and of the clear of
n = 100, 500, 1,000 and 2,048 orders (the contract's bound), every order committed and revealed by real
transactions from the chain's development accounts; writes JSON and prints a table (no assertions: the targets
are asserted in tests/market/test_contract_gas.py).

Osaka runs on anvil (the embedded py-evm chain has Prague rules only; its receipts equal anvil's under Prague),
as `gridchain gas-report` does. Beside each clear: its calldata floor (EIP-7623, 10 gas per token), the
standard calldata cost, and whether the floor set the receipt.

Usage: python benchmarks/bench_market_gas.py [--hardfork osaka prague] [--sizes 100 500 1000 2048]
       [--out results/market/gas.json] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import Gateway, calldata_floor, encode_call, intrinsic_gas
from tests.market.book import commitment, order_word, prepare_clear, random_orders

TX_GAS_CAP = 16_777_216  # EIP-7825 (Osaka)
TARGETS = {"commit_plus_reveal_max": 60_000, "clear_per_order_at_1000_max": 2_500, "orders_in_one_clear_min": 1_024}
# interval 900 s; a reveal window of an hour, so that 2,048 reveals fit even where every block adds a second
INTERVAL_S, REVEAL_S, GATE_S, HORIZON, ZONES = 900, 3_600, 60, 96, 2
ZONE_FEES = 20_000 << 32  # zone 0 free, zone 1 20,000 micro-coins per kWh
RULE = 0  # uniform price (Bench takes the other rule too)
TRADERS = 10


class Bench:
    """One call market on one chain, and the receipts of the intervals traded on it."""

    def __init__(self, gateway: Gateway, rule: int = RULE) -> None:
        self.g = gateway
        self.rule = rule
        self.artifact = compile_contract("call_market")
        args = [INTERVAL_S, REVEAL_S, GATE_S, HORIZON, ZONES, ZONE_FEES, rule]
        receipt = gateway.deploy(self.artifact, args, gateway.accounts[0])
        self.address, self.deploy_gas = receipt.contract_address, receipt.gas_used

    def to(self, t: int) -> None:
        if t > self.g.now():
            self.g.advance_time(t - self.g.now())

    def send(self, fn: str, args: list, sender: str):
        return self.g.transact(self.artifact, self.address, fn, args, sender)

    def interval(self, k: int, n: int, seed: int) -> dict:
        """Commit and reveal n random orders for k, clear it; the receipts' gas."""
        orders = random_orders(self.g.accounts[1 : 1 + TRADERS], n, seed)
        committed, revealed, commits, reveals = [], [], [], []
        for trader, t, salt in orders:
            c = commitment(self.address, k, order_word(trader, t), salt)
            receipt = self.send("commit", [k, c], trader)
            committed.append(receipt.named("Committed")[0].args)
            commits.append(receipt.gas_used)
        self.to(k * INTERVAL_S - GATE_S - REVEAL_S)
        for i, (trader, t, salt) in enumerate(orders):
            receipt = self.send("reveal", [k, i, t, salt], trader)
            revealed.append(receipt.named("Revealed")[0].args)
            reveals.append(receipt.gas_used)
        self.to(k * INTERVAL_S - GATE_S)
        book = prepare_clear(k, committed, revealed, ZONE_FEES, self.rule)
        data = encode_call(self.artifact, "clear", list(book.args()))
        clear = self.send("clear", list(book.args()), self.g.accounts[0])
        event = clear.named("Cleared")[0].args
        return {
            "commits": commits,
            "reveals": reveals,
            "clear": {
                "orders": n,
                "gas": clear.gas_used,
                "per_order": round(clear.gas_used / n),
                "calldata_bytes": len(data),
                "calldata_floor": calldata_floor(data),
                "standard_intrinsic": intrinsic_gas(data),
                "floor_binds": clear.gas_used == calldata_floor(data),
                "under_cap": clear.gas_used < TX_GAS_CAP,
                "bids": len(book.bid_positions),
                "asks": len(book.ask_positions),
                "volume_wh": event["volume_wh"],
                "price": event["buy_price"],
            },
        }


def measure(gateway: Gateway, sizes: list[int], seed: int) -> dict:
    bench = Bench(gateway)
    clears, first_commit, first_reveal, commits, reveals = {}, None, None, [], []
    k = 0
    for n in sizes:
        k = gateway.now() // INTERVAL_S + 8  # commits close 3,660 s before k starts
        out = bench.interval(k, n, seed + n)
        clears[str(n)] = out["clear"]
        if first_commit is None:
            first_commit, first_reveal = out["commits"][0], out["reveals"][0]
        commits += out["commits"][1:]
        reveals += out["reveals"][1:]
    # the ring's second lap: interval k + 256 overwrites k's stale words (non-zero to non-zero)
    bench.to((k + 256 - 8) * INTERVAL_S)
    lap = bench.interval(k + 256, 2, seed)
    steady = {"commit": max(commits), "reveal": max(reveals)}
    return {
        "deploy": bench.deploy_gas,
        "commit_first_lap": first_commit,  # the ring word written for the first time (zero to non-zero)
        "reveal_first_lap": first_reveal,
        "commit_after_lap": lap["commits"][0],  # an interval's first commit once the ring has gone round
        "reveal_after_lap": lap["reveals"][0],
        "commit": steady["commit"],  # the largest of every later commit (calldata zero bytes vary by a few gas)
        "commit_median": statistics.median(commits),
        "reveal": steady["reveal"],
        "reveal_median": statistics.median(reveals),
        "commit_plus_reveal": steady["commit"] + steady["reveal"],
        "commit_plus_reveal_first_lap": first_commit + first_reveal,
        "commit_plus_reveal_after_lap": lap["commits"][0] + lap["reveals"][0],
        "clear": clears,
        "max_orders_in_one_clear": max((int(n) for n, c in clears.items() if c["under_cap"]), default=0),
    }


def on_chain(hardfork: str, sizes: list[int], seed: int) -> dict:
    if hardfork == "prague":
        return {"chain": "embedded", **measure(BoaGateway(accounts=TRADERS + 1), sizes, seed)}
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway

    node = start_anvil(hardfork=hardfork, accounts=TRADERS + 1)
    try:
        return {"chain": "anvil", **measure(RpcGateway(node.url, node.keys), sizes, seed)}
    finally:
        node.stop()


def targets(report: dict) -> dict:
    clear = report["clear"].get("1000")
    return {
        "commit_plus_reveal": {"gas": report["commit_plus_reveal"], "max": TARGETS["commit_plus_reveal_max"]},
        "clear_per_order_at_1000": {
            "gas": clear and clear["per_order"],
            "max": TARGETS["clear_per_order_at_1000_max"],
        },
        "orders_in_one_clear": {"n": report["max_orders_in_one_clear"], "min": TARGETS["orders_in_one_clear_min"]},
    }


def show(hardfork: str, r: dict) -> None:
    print(f"\n{hardfork} ({r['chain']}): deploy {r['deploy']:,}")
    for name in ("commit", "reveal", "commit_plus_reveal"):
        print(
            f"  {name:<22} steady {r[name]:>8,}  first lap {r[name + '_first_lap']:>8,}  after lap "
            f"{r[name + '_after_lap']:>8,}"
        )
    print(f"  {'n':>6} {'clear gas':>12} {'per order':>10} {'floor':>12} {'standard':>12} floor binds")
    for n, c in r["clear"].items():
        print(
            f"  {n:>6} {c['gas']:>12,} {c['per_order']:>10,} {c['calldata_floor']:>12,} "
            f"{c['standard_intrinsic']:>12,} {c['floor_binds']}"
        )
    for name, t in r["targets"].items():
        print(f"  target {name}: {t}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hardfork", nargs="+", default=["osaka", "prague"], choices=["osaka", "prague"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[100, 500, 1000, 2048])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("results/market/gas.json"))
    args = ap.parse_args()
    report: dict = {"sizes": args.sizes, "seed": args.seed, "targets": TARGETS}
    for hardfork in args.hardfork:
        start = time.perf_counter()
        r = on_chain(hardfork, args.sizes, args.seed)
        r["targets"] = targets(r)
        r["seconds"] = round(time.perf_counter() - start, 1)
        report[hardfork] = r
        show(hardfork, r)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
