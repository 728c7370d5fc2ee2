"""Gas of the market's settlement (contracts/market_settlement.vy) on the embedded chain (Prague rules): one interval
of a 1,000-order book (500 bids from 50 buyers, 500 asks from 50 sellers, every trader's meter reading anchored in
a 96-leaf day root), settled 50 units a call with the clear's book (orders, valid bitmap, marks); deposit and
withdraw. A receipt's gas = boa's execution gas + the transaction's intrinsic gas (EIP-2028 calldata; EIP-7623's
floor where higher). Writes results/<name>.json.

    PYTHONPATH=src:. python benchmarks/bench_market_settlement.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import boa

from gridchain.chain.gateway import calldata_floor, intrinsic_gas
from gridchain.market.settlement import model as s
from tests.market.book import ASK, BID, terms
from tests.market.settlement.harness import NOTICE_S, House

ORDERS, TRADERS_PER_SIDE, UNITS_PER_CALL, SEED = 1_000, 50, 50, 19


def gas_of(contract, fn: str, *args, sender: str) -> int:
    data = getattr(contract, fn).prepare_calldata(*args)
    getattr(contract, fn)(*args, sender=sender)
    execution = contract._computation.get_gas_used()
    return max(execution + intrinsic_gas(data), calldata_floor(data))


def main(out: Path = Path("results")) -> dict:
    rng = random.Random(SEED)
    h = House(traders=2 * TRADERS_PER_SIDE, deposit=10**9)
    buyers, sellers = h.traders[:TRADERS_PER_SIDE], h.traders[TRADERS_PER_SIDE:]
    orders = [
        (buyers[i % TRADERS_PER_SIDE], terms(rng.randrange(200_000, 330_000), rng.randrange(100, 5_000), 0, BID))
        if i % 2 == 0
        else (sellers[i % TRADERS_PER_SIDE], terms(rng.randrange(170_000, 300_000), rng.randrange(100, 5_000), 0, ASK))
        for i in range(ORDERS)
    ]
    k, book = h.trade(orders)
    volume = h.market.c.clearings(k)[2]
    units = h.read(
        k,
        {
            **{(b, BID): rng.randrange(0, 60_000) for b in buyers},
            **{(a, ASK): rng.randrange(0, 60_000) for a in sellers},
        },
        fillers=95,
    )
    c = s.Clearing(*h.market.c.clearings(k))
    filled = set(s.unit_fills(book, c.buy_price, c.sell_price, c.volume_wh, h.market.zone_fees))
    todo = [u for (t, side), u in units.items() if (t.lower(), side) in filled]
    gas_calls = []
    for start in range(0, len(todo), UNITS_PER_CALL):
        batch = [u for u in todo[start : start + UNITS_PER_CALL]]
        gas_calls.append((len(batch), gas_of(h.c, "settle", k, *book, [u.as_args() for u in batch], sender=h.owner)))
    t = h.traders[0]
    deposit = gas_of(h.c, "deposit", 1_000, sender=t)
    request = gas_of(h.c, "request_withdrawal", 1_000, sender=t)
    boa.env.time_travel(seconds=NOTICE_S)
    withdraw = gas_of(h.c, "withdraw", sender=t)
    result = {
        "config": {
            "orders": ORDERS,
            "traders": 2 * TRADERS_PER_SIDE,
            "units_per_call": UNITS_PER_CALL,
            "proof_leaves": 96,
            "hardfork": "prague (embedded)",
            "seed": SEED,
        },
        "volume_wh": volume,
        "units_settled": len(todo),
        "settle_calls": [{"units": n, "gas": g, "gas_per_unit": g // n} for n, g in gas_calls],
        "gas_per_unit_mean": sum(g for _, g in gas_calls) // sum(n for n, _ in gas_calls),
        "deposit": deposit,
        "request_withdrawal": request,
        "withdraw": withdraw,
    }
    out.mkdir(exist_ok=True)
    (out / "market_settlement_gas.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
