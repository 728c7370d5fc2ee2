"""Anonymous negotiation: the cost of an envelope (seal and open) and of whole trades over the message board on
loopback HTTP (a fresh SQLite store); writes JSON (no assertions).

Measured: the envelope's size, seal and open time [µs] (median of many); then `--trades` trades between sellers and
buyers (each a listing and one thread of TURNS envelopes): the wall time per trade, envelopes per second, the board's
logged observations per trade (listing, envelopes, polls).

Usage: python benchmarks/bench_negotiation.py [--out results/bench_negotiation.json] [--trades 40]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from gridchain.escrow.negotiation.model import CIPHERTEXT_SIZES, TURNS, TradeKey, open_envelope, seal
from gridchain.escrow.negotiation.parties import Buyer, Seller, run
from gridchain.escrow.negotiation.service.board import Board
from gridchain.escrow.negotiation.service.http import BoardClient, board_app
from gridchain.net.server import LoopbackServer
from gridchain.store.engine import open_store, sqlite_url

ARBITER = "0x" + "a1" * 20


def envelope_costs(samples: int = 2000) -> dict:
    rng = random.Random(1)
    sender, recipient = TradeKey.fresh(rng), TradeKey.fresh(rng)
    body = {"kind": "counter", "turn": 1, "price_wei_per_kwh": 123_456}
    seal_s, open_s = [], []
    for _ in range(samples):
        start = time.perf_counter()
        ciphertext = seal(sender, recipient.public, body)
        middle = time.perf_counter()
        open_envelope(recipient, ciphertext)
        seal_s.append(middle - start)
        open_s.append(time.perf_counter() - middle)
    return {
        "bytes": len(ciphertext),
        "sizes": list(CIPHERTEXT_SIZES),
        "seal_us_median": round(1e6 * statistics.median(seal_s), 1),
        "open_us_median": round(1e6 * statistics.median(open_s), 1),
    }


def trades(count: int, folder: str) -> dict:
    store = open_store(sqlite_url(Path(folder) / "board.db"))
    board = Board(store)
    rng = random.Random(2)
    with LoopbackServer(board_app(board)) as server:
        client = BoardClient(server.url)
        sellers = [Seller(client, "c1", ARBITER, rng=rng, meter="0x" + "0e" * 20) for _ in range(4)]
        buyers = [Buyer(client, "c1", ARBITER, rng=rng) for _ in range(4)]
        per_trade = []
        for i in range(count):
            seller, buyer = sellers[i % 4], buyers[(i + 1) % 4]
            start = time.perf_counter()
            listing = seller.offer(5000, i, 4, 100, 200, rng.randrange(100, 200))
            buyer.bid(listing, 100, rng.randrange(100, 260))
            run([seller, buyer])
            per_trade.append(time.perf_counter() - start)
        client.close()
    seen = board.observations()
    store.close()
    agreed = sum(len(s.agreed) for s in sellers)
    total = sum(per_trade)
    return {
        "trades": count,
        "agreed": agreed,
        "envelopes": count * TURNS,
        "seconds_per_trade_median": round(statistics.median(per_trade), 4),
        "envelopes_per_second": round(count * TURNS / total, 1),
        "board_observations_per_trade": round(len(seen) / count, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench_negotiation.json"))
    parser.add_argument("--trades", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = {
            "benchmark": "anonymous negotiation over the message board",
            "machine": platform.platform(),
            "store": "sqlite",
            "envelope": envelope_costs(),
            "http": trades(args.trades, folder),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
