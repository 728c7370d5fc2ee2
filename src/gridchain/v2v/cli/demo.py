"""`gridchain v2v demo`: one V2V trade by reverse auction (Abou El Houda et al.), embedded or on a node."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import typer
from rich.console import Console
from rich.table import Table

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.ui.chain_options import RPC_URL
from gridchain.ui.errors import bad_input_exits
from gridchain.v2v.model import cost

ETH = 10**18


def _eth(wei: int) -> str:
    return f"{wei / ETH:+.6f} ETH" if wei else "0"


def _short(address: str) -> str:
    return address[:8] + "…" + address[-4:]


@bad_input_exits
def demo(
    seed: int = typer.Option(0, "--seed", help="Seed of the providers' reserve rates and arrival times."),
    amount_kwh: int = typer.Option(20, "--amount-kwh", help="Energy the consumer asks for [kWh], 1 .. 200."),
    min_collateral_pm: int = typer.Option(
        1000,
        "--min-collateral-pm",
        help="The least collateral of a bid, per mille of the consumer's deposit, "
        "0 .. 1000 (1000: the deposit, the contract's default; 0: the paper's rate x amount alone).",
    ),
    rpc_url: str = RPC_URL,
    as_json: bool = typer.Option(False, "--json", help="Print the whole trade as one JSON object."),
) -> None:
    """One consumer EV and five provider EVs trade on the embedded chain (or on the node at --rpc-url).

    The consumer opens a reverse auction for --amount-kwh with a deposit and the least collateral a bid must
    carry (--min-collateral-pm of the deposit); the providers underbid each other, each bid with a collateral
    of max(rate x amount, that minimum), which a winner forfeits, pro rata, for energy it does not deliver;
    the consumer ends the auction and gets the access token. It then authenticates
    the winner over the winner's HTTP service on 127.0.0.1 (and a replayed and a forged hello are refused),
    energy flows in 2 kWh steps against the consumer's signed receipts, the winner settles on chain and the
    outbid providers withdraw their collateral. Prints the bid timeline, the authentication exchange and
    the settlement with every balance before and after (gas is free on the embedded chain, so the changes
    are the payments).

    With --rpc-url (a local development node, chain 31337) the demo signs with anvil's public development
    accounts 0..6 and moves the node's clock forward by the bidding time (it warns first on stderr); on a node
    the balance changes include gas.

    Example: gridchain v2v demo --seed 3 --amount-kwh 30
    """
    from gridchain.chain.boa_gateway import BoaGateway
    from gridchain.v2v import scenarios as v2v_trade

    check_int("--amount-kwh", amount_kwh, 1, 200)
    check_int("--min-collateral-pm", min_collateral_pm, 0, 1000)
    gateway = _node(rpc_url, 2 + v2v_trade.PROVIDERS) if rpc_url else BoaGateway(accounts=2 + v2v_trade.PROVIDERS)
    config = v2v_trade.TradeConfig(seed=seed, amount_wh=amount_kwh * 1000)
    if min_collateral_pm != 1000:
        deposit = cost(config.start_rate_wei_per_kwh, config.amount_wh)
        config = replace(config, min_collateral_wei=deposit * min_collateral_pm // 1000)
    result = v2v_trade.run(gateway, v2v_trade.dev_keys_for(gateway), config)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        return
    console = Console()
    names = {result.consumer: "consumer", **{p: f"provider {i + 1}" for i, p in enumerate(result.providers)}}
    console.print(
        f"V2V contract {result.contract}: {amount_kwh} kWh asked at up to "
        f"{config.start_rate_wei_per_kwh / 1e12:.0f} Twei/kWh, bidding for {config.bidding_time_s} s; "
        f"a bid's collateral is at least {result.settlement['min_collateral_wei'] / ETH:.6f} ETH"
    )
    bids = Table(title="Bid timeline (reverse auction: each bid must be lower)")
    for col in ("t [s]", "provider", "rate [Twei/kWh]", "collateral", "result"):
        bids.add_column(col, justify="right")
    for b in result.bids:
        bids.add_row(
            str(b["t_s"]),
            names[b["provider"]],
            f"{b['rate_wei_per_kwh'] / 1e12:.0f}",
            _eth(b["collateral_wei"]) if b["placed"] else "-",
            f"placed, {b['gas']:,} gas" if b["placed"] else "at its reserve: no bid",
        )
    console.print(bids)
    console.print(f"winner: {names[result.winner]} ({_short(result.winner)}); access token {result.token}")
    console.print("[bold]Mutual authentication[/bold] (HTTP on 127.0.0.1)")
    for step in result.authentication:
        mark = "[green]ok[/green]" if step["ok"] else "[yellow]refused[/yellow]"
        console.print(f"  {mark} {step['step']}: {step['detail']}")
    steps = ", ".join(str(d["delivered_wh"] // 1000) for d in result.deliveries)
    console.print(f"charging session: delivered and receipted at {steps} kWh")
    s = result.settlement
    console.print(
        f"settled with a receipt for {s['delivered_wh']:,} Wh at {s['rate_wei_per_kwh'] / 1e12:.0f} "
        f"Twei/kWh: "
        f"provider gets {_eth(s['to_provider_wei'])} (price + collateral), consumer gets back "
        f"{_eth(s['to_consumer_wei'])} of its {_eth(s['deposit_wei'])} deposit"
    )
    balances = Table(title="Balances before and after")
    for col in ("account", "before [ETH]", "after [ETH]", "change"):
        balances.add_column(col, justify="right")
    for account, b in result.balances.items():
        balances.add_row(
            f"{names[account]} {_short(account)}",
            f"{b['before'] / ETH:.6f}",
            f"{b['after'] / ETH:.6f}",
            _eth(b["change"]),
        )
    console.print(balances)
    console.print(
        f"contract balance after: {result.contract_balance_after_wei} wei; gas: "
        + ", ".join(f"{k} {v:,}" for k, v in result.gas.items())
    )


def _node(url: str, accounts: int):
    """A development node's gateway signing for anvil's public accounts 0 .. accounts-1, after a warning that the
    demo moves its clock; refused on any chain but 31337 and when those accounts lack funds."""
    from gridchain.chain.anvil import dev_keys
    from gridchain.chain.rpc_gateway import reach
    from gridchain.config.accounts import DEV_CHAIN_ID

    if not url.startswith(("http://", "https://")):
        raise InputError("--rpc-url", f"{url!r} is not an http:// or https:// URL")
    gateway = reach(url, dev_keys(accounts), "--rpc-url", timeout=30.0)
    if gateway.chain_id != DEV_CHAIN_ID:
        raise InputError("--rpc-url", f"chain {gateway.chain_id}: the demo signs with anvil's public keys (31337 only)")
    poor = [a for a in gateway.accounts if gateway.balance(a) < 10**18]
    if poor:
        raise InputError("--rpc-url", f"{len(poor)} of anvil's first {accounts} accounts hold under 1 ETH ({poor[0]})")
    print(f"warning: the demo moves the clock of the node at {url} forward (evm_increaseTime)", file=sys.stderr)
    return gateway
