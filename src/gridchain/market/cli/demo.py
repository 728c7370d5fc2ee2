"""`gridchain market demo`: a community's day on the call market, embedded or on a development node."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.ui.chain_options import RPC_URL, confirm_clock_moves, rpc_gateway
from gridchain.ui.errors import bad_input_exits, make_out_dir
from gridchain.ui.progress import progress_bar
from gridchain.ui.results import write_results

UNIT = 1_000_000  # micro-coins per coin


@bad_input_exits
def demo(
    traders: int = typer.Option(20, "--traders", help="Prosumers and consumers (half each), 2 .. 200."),
    intervals: int = typer.Option(
        8, "--intervals", help="15-minute intervals traded, spread over 07:00-19:00, 1 .. 68."
    ),
    rule: str = typer.Option("uniform", "--rule", help="uniform (pay-as-clear) or trade-reduction (truthful)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the households, their orders' prices and noise."),
    rpc_url: str = RPC_URL,
    yes: bool = typer.Option(
        False, "--yes", help="With --rpc-url: move the clock of a node that has blocks already (a shared node?)."
    ),
    out: Path = typer.Option(Path("results/market"), "--out", help="Folder for market_demo_<config>.json and .png."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole day as one JSON object."),
) -> None:
    """A community's prosumers and consumers trade sealed orders on the call market for a day.

    Deploys the call market (the chosen rule) and the energy coin, mints each trader 100 coins, then per
    interval: every trader commits a sealed order (its net energy from a simple daily profile: PV surplus at
    midday, demand in the morning and evening; prices between the feed-in tariff 0.08 and the retail price 0.30
    coin/kWh), the chain's clock moves to the reveal window, everyone reveals, and the keeper clears from the
    events. Prints price(s), volume, welfare against the LP optimum (the uniform rule must reach it) and gas per
    interval. Each trader deposits 20 coins in the clearing house (the keeper deposits the house's float);
    after the day each household's consumption and feed-in meter signs its readings (one seller delivers short,
    one buyer over-draws), the keeper anchors each meter's day root and settles every interval in coins (50
    units a call). Prints per trader filled and metered kWh, coins paid and received, debt, and the coins'
    conservation.

    Runs on the embedded chain unless --rpc-url names a development node with traders + 1 funded accounts
    (e.g. `gridchain node --accounts 21`); the demo moves its clock up to two days forward.

    Example: gridchain market demo --traders 20 --intervals 8 --rule trade-reduction
    """
    from gridchain.chain.boa_gateway import BoaGateway
    from gridchain.market import plots, scenarios, settlement_demo

    check_int("--traders", traders, 2, scenarios.MAX_TRADERS)
    check_int("--intervals", intervals, 1, scenarios.MAX_INTERVALS)
    if rule not in scenarios.RULES:
        raise InputError("--rule", f"{rule!r} is not one of {', '.join(scenarios.RULES)}")
    config = scenarios.DemoConfig(traders, intervals, scenarios.RULES[rule], seed)
    make_out_dir(out)
    needed = scenarios.accounts_needed(config)
    gateway = _node(rpc_url, needed, yes) if rpc_url else BoaGateway(accounts=needed)
    err = Console(stderr=True)
    with progress_bar(err) as bar:
        task = bar.add_task(f"market demo on the {gateway.kind} chain", total=intervals + 2)
        result = scenarios.run(gateway, config, progress=lambda _: bar.advance(task))
    summary = result.to_json() | {"totals": result.totals()}
    written = write_results(out, config.name, summary, lambda path: plots.demo_figure(summary, path))
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    console = Console(width=80)
    console.print(
        f"Call market {result.market} ({rule}, {gateway.kind} chain), {traders} traders, coin {result.coin} "
        f"({scenarios.STARTING_COINS} coins minted to each, {settlement_demo.DEPOSIT_COINS} deposited in the "
        f"clearing house {result.settlement['address']})"
    )
    console.print(demo_table(summary))
    console.print(totals_line(summary))
    console.print(settlement_table(summary["settlement"]))
    console.print(conservation_line(summary["settlement"]))
    console.print(f"note: {result.note}")
    console.print(f"wrote {written[0]} and {written[1]}")


def _price(i: dict) -> str:
    if i["volume_wh"] == 0:
        return "-"
    if i["buy_price"] == i["sell_price"]:
        return f"{i['buy_price'] / UNIT:.4f}"
    return f"{i['buy_price'] / UNIT:.3f}/{i['sell_price'] / UNIT:.3f}"


def demo_table(summary: dict) -> Table:
    """One row per interval (fits 80 columns): orders, price(s), volume, welfare against the LP, gas."""
    table = Table(title="Intervals cleared (prices in coin/kWh; gas: mean commit, reveal; clear)", width=80)
    for col in ("UTC", "bids/asks", "price", "kWh", "of LP", "commit", "reveal", "clear"):
        table.add_column(col, justify="right")
    for i in summary["intervals"]:
        eff = "-" if i["efficiency"] is None else f"{i['efficiency']:.1%}"
        table.add_row(
            i["time"],
            f"{i['bids']}/{i['asks']}",
            _price(i),
            f"{i['volume_wh'] / 1000:.3f}",
            eff,
            f"{i['gas_commit']:,}",
            f"{i['gas_reveal']:,}",
            f"{i['gas_clear']:,}",
        )
    return table


def totals_line(summary: dict) -> str:
    t = summary["totals"]
    eff = "-" if t["efficiency"] is None else f"{t['efficiency']:.1%}"
    return (
        f"day: {t['volume_wh'] / 1000:.3f} kWh traded, welfare {t['welfare'] / 1e9:.4f} coins = {eff} of the LP "
        f"optimum; buyers pay {t['collected'] / UNIT:.4f}, sellers get {t['paid_out'] / UNIT:.4f}, grid fees "
        f"{t['fees'] / UNIT:.4f}, the market keeps {t['surplus'] / UNIT:.6f} coins"
    )


def settlement_table(settlement: dict) -> Table:
    """One row per settled (trader, side) (fits 80 columns): energy filled and metered, coins paid and received,
    the trader's debt after the day; the seller short of its fill and the buyer above it marked."""
    table = Table(title="Settled in coins against the meters (kWh; coins)", width=80)
    for col in ("trader", "side", "filled", "metered", "paid", "received", "debt", ""):
        table.add_column(col, justify="left" if col in ("trader", "side", "") else "right")
    for p in settlement["parties"]:
        t = p["trader"]
        table.add_row(
            f"{t[:6]}..{t[-4:]}",
            ("buy", "sell")[p["side"]],
            f"{p['filled_wh'] / 1000:.3f}",
            f"{p['metered_wh'] / 1000:.3f}",
            f"{p['paid'] / UNIT:.4f}",
            f"{p['received'] / UNIT:.4f}",
            f"{settlement['accounts'][t]['debt'] / UNIT:.4f}",
            p["imbalance"],
        )
    return table


def conservation_line(settlement: dict) -> str:
    t = settlement["totals"]
    ok = t["trader_balances"] + t["house_balance"] == t["coins_held"] == t["deposits"] - t["withdrawals"]
    return (
        f"coins: traders' balances {t['trader_balances'] / UNIT:.6f} + house {t['house_balance'] / UNIT:.6f} "
        f"= held by the contract {t['coins_held'] / UNIT:.6f} = deposits {t['deposits'] / UNIT:.6f} - "
        f"withdrawals {t['withdrawals'] / UNIT:.6f} ({'conserved' if ok else 'NOT conserved'}); debt "
        f"{t['debt'] / UNIT:.6f}; settle gas {settlement['gas']['settle_per_unit']:,} per unit"
    )


def _node(url: str, accounts: int, yes: bool):
    """A development node's gateway signing for anvil's accounts 0 .. accounts-1, each of them funded."""
    if not url.startswith(("http://", "https://")):
        raise InputError("--rpc-url", f"{url!r} is not an http:// or https:// URL")
    gateway = rpc_gateway(url, None, accounts)
    poor = [a for a in gateway.accounts if gateway.balance(a) < 10**17]
    if poor:
        raise InputError(
            "--rpc-url",
            f"{len(poor)} of the {accounts} development accounts the demo needs hold under 0.1 ETH ({poor[0]}): "
            f"start the node with `gridchain node --accounts {accounts}`",
        )
    confirm_clock_moves(gateway, yes, "up to two days")
    return gateway
