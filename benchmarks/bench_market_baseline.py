"""Gas of the on-chain-sorting baseline (lemlab's clearing, ported) on the market benchmark's books; writes JSON.

For each n: a fresh contract, every order of `market_books.make_book(n)` pushed (one transaction each, from
the platform's account as lemlab does), then `market_clearing` of the delivery period. Receipts under Osaka
on anvil (EIP-7825 caps a transaction at 16,777,216 gas). Where the clearing does not fit under the cap, the
gas it would need is measured on the embedded chain (py-evm, Prague: these opcodes cost the same under both
forks; the JSON records both figures at the largest n measured on both), and the largest n whose clearing
fits is found by bisection on anvil (each probe a fresh contract and its own book).

Usage: PYTHONPATH=src:. python benchmarks/bench_market_baseline.py [--out results/market/baseline_gas.json]
       [--sizes 50 100 200 500]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from benchmarks.market_books import ASK, SEED, Order, efficient_walk, make_book
from eth_utils import keccak, to_checksum_address

from gridchain.chain.anvil import dev_keys, start_anvil
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import ChainRevert, Gateway
from gridchain.chain.rpc_gateway import TX_GAS_CAP, RpcGateway
from gridchain.experiments.gas_before import BASELINE_DIR

SIZES = (50, 100, 200, 500)
TS_DELIVERY = 1_800_000_000  # the delivery period every order of a book is for [unix s]
INTERVAL_S = 900


def trader_address(trader: int) -> str:
    """A fixed address per trader index (lemlab's id_user; lemlab lets the platform push for every user)."""
    return to_checksum_address(keccak(b"gridchain.market.trader" + trader.to_bytes(4, "big"))[:20])


def position(order: Order, ts_delivery: int = TS_DELIVERY) -> tuple:
    """The order as lemlab's offer_bid (quality 0 = NA, type_position 0 offer / 1 bid, submitted 1 h ahead)."""
    is_offer = order.side == ASK
    return (
        trader_address(order.trader),
        order.energy_wh,
        order.price_per_kwh,
        0,
        0,
        0 if is_offer else 1,
        order.trader,
        0,
        ts_delivery - 3_600,
        ts_delivery,
    )


def run_book(gateway: Gateway, n: int, seed: int = SEED) -> dict:
    """Deploy, push the book of n orders, clear: receipt gas of each step (clear None if it reverted)."""
    artifact = compile_contract("lemlab_clearing", directory=BASELINE_DIR)
    operator = gateway.accounts[0]
    address = gateway.deploy(artifact, [], operator).contract_address
    book = make_book(n, seed)
    pushes = [
        gateway.transact(
            artifact, address, "push_offer_or_bid", [position(o), o.side == ASK, True, False], operator
        ).gas_used
        for o in book
    ]
    args = [1, TS_DELIVERY, True, False, INTERVAL_S, TS_DELIVERY]
    try:
        clear: int | None = gateway.transact(artifact, address, "market_clearing", args, operator).gas_used
        failure = None
    except ChainRevert as e:  # more gas than one transaction may use under Osaka
        clear, failure = None, e.reason
    pairs = int(gateway.call(artifact, address, "results_count"))
    return {
        "n": n,
        "submit_mean": round(statistics.fmean(pushes)),
        "submit_max": max(pushes),
        "clear": clear,
        "clear_per_order": None if clear is None else round(clear / n),
        "pairs": pairs,
        "efficient_volume_wh": efficient_walk(book)[0],
        "failure": failure,
    }


def largest_fitting(gateway: Gateway, fits: int, fails: int) -> int:
    """Bisection between a size whose clearing fits under the cap and one whose clearing does not."""
    while fails - fits > 1:
        mid = (fits + fails) // 2
        if run_book(gateway, mid)["clear"] is None:
            fails = mid
        else:
            fits = mid
    return fits


def measure(sizes: tuple[int, ...]) -> dict:
    """The report: per size, Osaka receipts (anvil), and the embedded chain's figure where Osaka refused."""
    rows, prague = [], {}
    with start_anvil(hardfork="osaka", accounts=1) as node:
        osaka = RpcGateway(node.url, dev_keys(1))
        for n in sizes:
            rows.append(run_book(osaka, n))
            print(f"n={n}: clear {rows[-1]['clear']}", flush=True)
        fitting = [r["n"] for r in rows if r["clear"] is not None]
        failing = [r["n"] for r in rows if r["clear"] is None]
        largest = largest_fitting(osaka, max(fitting), min(failing)) if fitting and failing else None
        print(f"largest n whose clearing fits: {largest}", flush=True)
    for n in failing + fitting[-1:]:
        prague[str(n)] = run_book(BoaGateway(accounts=1), n)
        print(f"n={n}: embedded (Prague) clear {prague[str(n)]['clear']}", flush=True)
    return {
        "contract": "benchmarks/baseline/lemlab_clearing.vy",
        "source": "tum-ewk/lemlab Truffle/contracts/ClearingExAnte.sol @ e1c7ee02740a14c4e207e1c1d98b23e012fda41f",
        "book": {"generator": "benchmarks/market_books.py", "seed": SEED},
        "hardfork": "osaka",
        "chain": "anvil",
        "tx_gas_cap": TX_GAS_CAP,
        "sizes": rows,
        "largest_n_clearing_under_cap": largest,
        "needs_over_cap_prague_embedded": prague,
    }


def table(report: dict) -> str:
    """The figures at 80 columns."""
    lines = [
        f"{'n':>5} {'submit/order':>12} {'clear (Osaka)':>14} {'clear/order':>12} {'pairs':>6}  note",
        "-" * 79,
    ]
    over = report["needs_over_cap_prague_embedded"]
    for r in report["sizes"]:
        if r["clear"] is not None:
            clear, per, note = f"{r['clear']:,}", f"{r['clear_per_order']:,}", "fits one transaction"
        else:
            need = over[str(r["n"])]
            clear = "over cap"
            if need["clear"] is None:  # over the embedded chain's block gas limit (200,000,000) too
                per, note = "-", "needs > 200,000,000"
            else:
                per, note = f"({need['clear_per_order']:,})", f"needs {need['clear']:,} (Prague)"
        pairs = r["pairs"] if r["clear"] is not None else over[str(r["n"])]["pairs"]
        lines.append(f"{r['n']:>5} {r['submit_mean']:>12,} {clear:>14} {per:>12} {pairs:>6}  {note}")
    if report["largest_n_clearing_under_cap"] is not None:
        lines.append(
            f"largest n whose clearing fits under {report['tx_gas_cap']:,} gas: "
            f"{report['largest_n_clearing_under_cap']}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/market/baseline_gas.json"))
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    report = measure(tuple(args.sizes))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
