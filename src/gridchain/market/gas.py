"""Gas of the prosumers' call market (contracts/call_market.vy) against the on-chain-sorting baseline (lemlab's
clearing, ported in benchmarks/baseline/lemlab_clearing.vy), on the same seeded books.

Commit and reveal are measured on real transactions (ten traders, one interval: its first commit and reveal write
their ring words from zero on the ring's first lap, the later ones rewrite them). The clears of n = 50 .. 2,048
orders are measured on ring words seeded with the chains that the orders' commits and reveals would leave (the
clear reads nothing else, so its receipt is the same; 2,000 commit and reveal transactions per size would take
minutes): `anvil_setStorageAt` on a node, boa's `set_storage` on the embedded chain. The baseline submits every
order by its own transaction from lemlab's platform account and clears the period; where its clearing needs
more than EIP-7825's 16,777,216 gas it does not fit one transaction (a revert under Osaka; under Prague, on the
embedded chain, the receipt shows it). Books: n // 2 bids, prices 250,000 micro-coins/kWh +- 30 %, 100 .. 5,000 Wh,
zones 0 and 1 (fees 0 and 20,000 micro-coins/kWh): `benchmarks/market_books.py`'s books, drawn the same way here.
Every figure is a receipt's gasUsed under the report's hardfork.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from eth_utils import keccak, to_checksum_address
from rich.console import Console
from rich.table import Table

from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import ChainRevert, Gateway, Receipt
from gridchain.experiments import gas_before
from gridchain.experiments.gas_report import GasReportConfig
from gridchain.market.clearing import ClearArgs, prepare_clear
from gridchain.market.client import CallMarketClient
from gridchain.market.model import (
    BUY,
    SELL,
    Committed,
    Order,
    Params,
    Revealed,
    commit_link,
    commitment,
    pack,
    reveal_link,
    ring_word,
)

TX_GAS_CAP = 16_777_216  # EIP-7825 (Osaka): the most gas one transaction may use
TARGETS = {
    "commit_plus_reveal_max": 60_000,
    "clear_per_order_at_1000_max": 2_500,
    "orders_in_one_clear_min": 1_024,
    "baseline_ratio_min": 10,
}
BOOK_SEED = 19  # benchmarks/market_books.py's SEED
PRICE_MID, PRICE_SPREAD, ENERGY_WH, ZONES = 250_000, 0.30, (100, 5_000), 2
PARAMS = Params(interval_s=900, reveal_s=3_600, gate_s=60, horizon=96, zones=2, zone_fees=20_000 << 32, rule=0)
TRADERS = 10  # commit and reveal are sent from these development accounts
BASELINE_DELIVERY_S = 1_800_000_000  # the delivery period of every baseline position [unix s]


@dataclass(frozen=True)
class BookOrder:
    """One order of a book: side, price [micro-coin/kWh], energy [Wh], zone, trader index."""

    side: int
    price_per_kwh: int
    energy_wh: int
    zone: int
    trader: int


def make_book(n: int, seed: int = BOOK_SEED) -> list[BookOrder]:
    """n orders (n // 2 bids) in submission order, as benchmarks/market_books.make_book draws them."""
    rng = np.random.default_rng([seed, n])
    low, high = round(PRICE_MID * (1 - PRICE_SPREAD)), round(PRICE_MID * (1 + PRICE_SPREAD))
    sides = np.array([BUY] * (n // 2) + [SELL] * (n - n // 2))
    rng.shuffle(sides)
    prices = rng.integers(low, high, n, endpoint=True)
    energies = rng.integers(ENERGY_WH[0], ENERGY_WH[1], n, endpoint=True)
    zones = rng.integers(0, ZONES, n)
    return [BookOrder(int(sides[i]), int(prices[i]), int(energies[i]), int(zones[i]), i) for i in range(n)]


def trader_address(trader: int) -> str:
    """A fixed address per trader index (the baseline benchmark's, so that both markets get the same bytes)."""
    return to_checksum_address(keccak(b"gridchain.market.trader" + trader.to_bytes(4, "big"))[:20])


def as_order(o: BookOrder, trader: str | None = None) -> Order:
    return Order((trader or trader_address(o.trader)).lower(), o.price_per_kwh, o.energy_wh, o.zone, o.side)


# -- the call market -----------------------------------------------------------------------------------------
def _set_storage(gateway: Gateway, address: str, slot: int, value: int) -> None:
    if gateway.kind == "embedded":
        gateway._env.set_storage(address, slot, value)  # noqa: SLF001 (the embedded chain's boa env)
    else:
        word = "0x" + value.to_bytes(32, "big").hex()
        gateway.w3.provider.make_request("anvil_setStorageAt", [address, hex(slot), word])


def _advance_to(gateway: Gateway, t: int) -> None:
    if t > gateway.now():
        gateway.advance_time(t - gateway.now())


def commit_reveal(gateway: Gateway, market: CallMarketClient) -> dict[str, int]:
    """Ten traders commit and reveal one order each in one interval: the first (ring words written from zero) and
    the largest of the later ones."""
    traders = gateway.accounts[1 : 1 + TRADERS]
    k = gateway.now() // PARAMS.interval_s + 8
    book = make_book(len(traders), BOOK_SEED)
    sealed, commits, reveals = [], [], []
    for i, (trader, o) in enumerate(zip(traders, book, strict=True)):
        s, receipt = market.commit(trader, k, as_order(o, trader), keccak(b"salt" + i.to_bytes(4, "big")))
        sealed.append(s)
        commits.append(receipt.gas_used)
    _advance_to(gateway, PARAMS.reveal_open(k))
    reveals = [market.reveal(trader, s).gas_used for trader, s in zip(traders, sealed, strict=True)]
    commit, reveal = max(commits[1:]), max(reveals[1:])
    return {
        "commit_first_lap": commits[0],
        "reveal_first_lap": reveals[0],
        "commit": commit,
        "reveal": reveal,
        "commit_median": int(statistics.median(commits[1:])),
        "reveal_median": int(statistics.median(reveals[1:])),
        "commit_plus_reveal": commit + reveal,
    }


def clear_seeded(gateway: Gateway, market: CallMarketClient, orders: list[Order]) -> tuple[int, ClearArgs, Receipt]:
    """Clear an interval holding `orders` (revealed in this order) on ring words seeded with their chains, as
    if every order had been committed and revealed by its trader: the interval, the clear's arguments, the
    receipt. The market has PARAMS."""
    k = gateway.now() // PARAMS.interval_s + 8
    committed, revealed = [], []
    commit_chain = reveal_chain = 0
    n = len(orders)
    for i, order in enumerate(orders):
        word = pack(order)
        c = commitment(market.address, k, word, keccak(b"salt" + i.to_bytes(4, "big")))
        committed.append(Committed(k, i, c))
        revealed.append(Revealed(k, i, i, word, c))
        commit_chain, reveal_chain = commit_link(commit_chain, c), reveal_link(reveal_chain, i, word, c)
    _set_storage(gateway, market.address, k % 256, ring_word(commit_chain, n, k))  # commit_ring[k % 256]
    _set_storage(gateway, market.address, 256 + k % 256, ring_word(reveal_chain, n, k))  # reveal_ring[k % 256]
    _advance_to(gateway, PARAMS.reveal_close(k))
    args = prepare_clear(market.address, k, committed, revealed, PARAMS.zone_fees, PARAMS.rule)
    receipt = market.clear(gateway.accounts[0], k, args)
    assert market.clearing(k).orders == n
    return k, args, receipt


def seeded_clear(gateway: Gateway, market: CallMarketClient, n: int) -> dict[str, int | bool]:
    """The clear of the n-order book on ring words seeded with its chains: receipt gas, per order, under the cap."""
    _, _, receipt = clear_seeded(gateway, market, [as_order(o) for o in make_book(n)])
    return {
        "gas": receipt.gas_used,
        "per_order": round(receipt.gas_used / n),
        "under_cap": receipt.gas_used < TX_GAS_CAP,
    }


def call_market(gateway: Gateway, sizes: tuple[int, ...], progress: Callable[[str], None]) -> dict:
    """Deploy, commit + reveal by transactions, then one seeded clear per size."""
    market, deploy = CallMarketClient.deploy(gateway, gateway.accounts[0], PARAMS)
    out: dict = {"deploy": deploy.gas_used, **commit_reveal(gateway, market), "clear": {}}
    progress("market commit + reveal")
    for n in sizes:
        out["clear"][str(n)] = seeded_clear(gateway, market, n)
        progress(f"market clear n={n}")
    fitting = [int(n) for n, c in out["clear"].items() if c["under_cap"]]
    out["max_orders_in_one_clear"] = max(fitting, default=0)
    return out


# -- the baseline --------------------------------------------------------------------------------------------
def _position(o: BookOrder) -> tuple:
    """The order as lemlab's offer_bid (quality 0, type_position 0 offer / 1 bid, submitted an hour ahead)."""
    return (
        trader_address(o.trader),
        o.energy_wh,
        o.price_per_kwh,
        0,
        0,
        0 if o.side == SELL else 1,
        o.trader,
        0,
        BASELINE_DELIVERY_S - 3_600,
        BASELINE_DELIVERY_S,
    )


def baseline(gateway: Gateway, n: int) -> dict:
    """lemlab's clearing on the n-order book: every order pushed, then `market_clearing` (None if it reverted)."""
    artifact = compile_contract("lemlab_clearing", directory=gas_before.BASELINE_DIR)
    operator = gateway.accounts[0]
    address = gateway.deploy(artifact, [], operator).contract_address
    pushes = [
        gateway.transact(
            artifact, address, "push_offer_or_bid", [_position(o), o.side == SELL, True, False], operator
        ).gas_used
        for o in make_book(n)
    ]
    try:
        clear: int | None = gateway.transact(
            artifact,
            address,
            "market_clearing",
            [1, BASELINE_DELIVERY_S, True, False, 900, BASELINE_DELIVERY_S],
            operator,
        ).gas_used
    except ChainRevert:  # more gas than one transaction may use under Osaka
        clear = None
    return {
        "submit_mean": round(statistics.fmean(pushes)),
        "clear": clear,
        "clear_per_order": None if clear is None else round(clear / n),
        "under_cap": clear is not None and clear < TX_GAS_CAP,
        "pairs": int(gateway.call(artifact, address, "results_count")),
    }


def ratios(market: dict, base: dict) -> dict[str, dict]:
    """Per baseline size: the baseline's gas per order over the call market's, for clearing alone and for
    submission + clearing (commit + reveal + clear per order)."""
    out = {}
    for n, b in base.items():
        m = market["clear"].get(n)
        if m is None or b["clear"] is None:
            continue
        ours_total = market["commit_plus_reveal"] + m["gas"] / int(n)
        out[n] = {
            "clear": round(b["clear_per_order"] / m["per_order"], 1),
            "total": round((b["submit_mean"] + b["clear"] / int(n)) / ours_total, 1),
        }
    return out


def measure_market(
    gateway: Callable[[], Gateway],
    sizes: tuple[int, ...],
    baseline_sizes: tuple[int, ...],
    progress: Callable[[str], None] = lambda label: None,
) -> dict:
    """The section's figures: the call market at `sizes` (and at the baseline's sizes), the baseline, ratios."""
    ours = call_market(gateway(), tuple(sorted({*sizes, *baseline_sizes})), progress)
    have_baseline = (gas_before.BASELINE_DIR / "lemlab_clearing.vy").is_file()
    base: dict = {}
    for n in baseline_sizes if have_baseline else ():
        base[str(n)] = baseline(gateway(), n)
        progress(f"baseline n={n}")
    note = None if have_baseline else f"skipped: no {gas_before.BASELINE_DIR}/lemlab_clearing.vy (an installed wheel)"
    fits = [int(n) for n, b in base.items() if b["under_cap"]]
    return {
        "market": ours,
        "market_baseline": {
            "contract": "benchmarks/baseline/lemlab_clearing.vy",
            "sizes": base,
            "largest_measured_under_cap": max(fits, default=None),
            "ratios": ratios(ours, base),
            "note": note,
        },
    }


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1 + len({*config.market_sizes, *config.market_baseline_sizes}) + len(config.market_baseline_sizes)


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    """The sizes are the config's (`market_sizes`, `market_baseline_sizes`)."""
    return measure_market(gateway, config.market_sizes, config.market_baseline_sizes, progress)


def targets(report: dict) -> dict[str, dict]:
    m, base = report["market"], report["market_baseline"]
    per_1000 = m["clear"].get("1000", {}).get("per_order")
    out = {
        "market_commit_plus_reveal": {
            "gas": m["commit_plus_reveal"],
            "max": TARGETS["commit_plus_reveal_max"],
            "met": m["commit_plus_reveal"] <= TARGETS["commit_plus_reveal_max"],
        },
        "market_clear_per_order_at_1000": {
            "gas": per_1000,
            "max": TARGETS["clear_per_order_at_1000_max"],
            "met": per_1000 is not None and per_1000 <= TARGETS["clear_per_order_at_1000_max"],
        },
        "market_orders_in_one_clear": {
            "n": m["max_orders_in_one_clear"],
            "min": TARGETS["orders_in_one_clear_min"],
            "met": m["max_orders_in_one_clear"] >= TARGETS["orders_in_one_clear_min"],
        },
    }
    if base["ratios"]:  # the issue asks at 500 orders, where the baseline's clearing fits no transaction
        # The target is the clearing's (verified against sorted on chain). The ratio per order in total (the
        # tables' "ratio total") is reported, not a target: a sealed order is two transactions, 42,000 gas of
        # intrinsic cost alone, more than a tenth of the baseline's submit + clear per order (39,353 at 500).
        n = "500" if "500" in base["ratios"] else max(base["ratios"], key=int)
        ratio = base["ratios"][n]["clear"]
        out["market_baseline_ratio_clear"] = {
            "n": int(n),
            "ratio": ratio,
            "baseline_fits_one_transaction": base["sizes"][n]["under_cap"],
            "min": TARGETS["baseline_ratio_min"],
            "met": ratio >= TARGETS["baseline_ratio_min"],
        }
    return out


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    m, base = report["market"], report["market_baseline"]
    table = Table(title=f"Call market ({where})")
    for col in ("function", "gas"):
        table.add_column(col, justify="right")
    table.add_row("deploy", f"{m['deploy']:,}")
    table.add_row("commit / reveal", f"{m['commit']:,} / {m['reveal']:,}")
    table.add_row("commit + reveal", f"{m['commit_plus_reveal']:,}")
    table.add_row("first on the ring (from zero)", f"{m['commit_first_lap'] + m['reveal_first_lap']:,}")
    for n, c in m["clear"].items():
        table.add_row(f"clear n={int(n):,} (per order)", f"{c['gas']:,} ({c['per_order']:,})")
    console.print(table)
    if base["note"]:
        console.print(f"baseline {base['note']}")
        return
    bt = Table(title=f"On-chain-sorting baseline, lemlab ({where})")
    for col in ("n", "submit/order", "clear", "clear/order", "ratio clear", "ratio total"):
        bt.add_column(col, justify="right")
    for n, b in base["sizes"].items():
        r = base["ratios"].get(n, {})
        clear = "over cap" if b["clear"] is None else f"{b['clear']:,}"
        per = "-" if b["clear_per_order"] is None else f"{b['clear_per_order']:,}"
        bt.add_row(
            n, f"{b['submit_mean']:,}", clear, per, *(f"{r[kind]}x" if r else "-" for kind in ("clear", "total"))
        )
    console.print(bt)
