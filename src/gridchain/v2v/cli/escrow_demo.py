"""`gridchain v2v escrow-demo`: the V2V reverse auction whose sealed bids are binding trade-escrow offers."""

from __future__ import annotations

from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.ui.chain_options import RPC_URL, confirm_clock_moves, rpc_gateway
from gridchain.ui.console import emit
from gridchain.ui.errors import bad_input_exits, make_out_dir
from gridchain.ui.results import write_results

ACCOUNTS = 1  # the relayer (deployer, funder, submitter); the parties are fresh keys


@bad_input_exits
def escrow_demo(
    seed: int = typer.Option(0, "--seed", help="Seed of the providers' rates, the metered energy and every key."),
    providers: int = typer.Option(4, "--providers", help="Honest provider EVs, 3 .. 12 (besides 4 hostile ones)."),
    token: str = typer.Option("coin", "--token", help="What the consumer pays in: coin or ETH (any case)."),
    rpc_url: str = RPC_URL,
    yes: bool = typer.Option(False, "--yes", help="Move a node's clock (to 2030 and days on) even if it has blocks."),
    out: Path = typer.Option(Path("results/v2v"), "--out", help="Folder for v2v_escrow_<config>.json and .png."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object on stdout."),
) -> None:
    """A V2V reverse auction (Abou El Houda et al.) whose sealed bids are binding trade-escrow offers.

    A consumer EV posts a request on the negotiation's message board from a one-time key (energy, intervals, a
    ceiling rate, a bid deadline); provider EVs, each with a discharge meter registered in the metering contract,
    answer with sealed bids carrying their rate and a trade-escrow offer signed by their meter's owner. After the
    deadline the consumer refuses the bad bids with a reason (forged offer, above the ceiling, other terms, late),
    takes the lowest rate and opens the escrow with that offer in one transaction; the losers' offers are never
    opened (their energy is never locked) and lapse at their deadline. Auction A is paid by the consumer's
    cumulative vouchers per metered interval (the winner claims the last); in auction B the selected provider sells
    the same energy elsewhere first, the escrow refuses the consumer's open of its offer and the consumer opens the
    next lowest, whose delivery falls short: the arbiter and the consumer resolve a split. Prints the bids, the
    winners, the settlements, the gas of open / claim / resolve and the conservation check. Embedded chain unless
    --rpc-url names a node. Writes the summary (JSON) and a figure of each auction's bids to --out.

    Example: gridchain v2v escrow-demo --seed 3 --token ETH
    """
    from gridchain.chain.boa_gateway import BoaGateway
    from gridchain.v2v.escrowed import plots, scenarios

    try:
        config = scenarios.DemoConfig(seed, providers, token={"eth": "ETH"}.get(token.lower(), token))
    except InputError as e:
        raise InputError(f"--{e.field}", e.reason) from None
    if rpc_url and not rpc_url.startswith(("http://", "https://")):
        raise InputError("--rpc-url", f"{rpc_url!r} is not an http:// or https:// URL")
    make_out_dir(out)
    gateway = rpc_gateway(rpc_url, None, ACCOUNTS) if rpc_url else BoaGateway(accounts=ACCOUNTS)
    if rpc_url:
        confirm_clock_moves(gateway, yes, "to 2030-01-01 and days on")
    summary = scenarios.run(gateway, config, lambda step: typer.echo(step, err=True))
    written = write_results(out, config.name, summary, lambda path: plots.demo_figure(summary, path))
    files = [str(p) for p in written]
    emit(as_json, summary | {"files": files}, demo_lines(summary) + [f"wrote {f}" for f in files])


def _money(token: str, amount: int) -> str:
    return f"{amount / 1e18:.9f}" if token == "ETH" else f"{amount / 1e6:.6f}"


def _rate(token: str, rate: int) -> str:
    """A rate per kWh: in Twei/kWh for ETH, in coins/kWh for the coin."""
    return f"{rate / 1e12:.3f}" if token == "ETH" else f"{rate / 1e6:.6f}"


def _unit(token: str) -> str:
    return "Twei/kWh" if token == "ETH" else "coin/kWh"


def _short(address: str) -> str:
    return address[:6] + ".." + address[-4:]


def demo_lines(summary: dict) -> list[str]:
    """The demo's answer in lines of at most 80 columns."""
    c, d, t = summary["config"], summary["deploy_gas"], summary["config"]["token"]
    lines = [
        f"V2V auction through the trade escrow: {c['providers']} honest + 4 hostile provider EVs, seed {c['seed']}",
        f"rates in {_unit(t)}; the consumer and every bid use fresh keys and addresses",
        f"escrow {_short(summary['contracts']['escrow'])} ({summary['chain']} chain), arbiter (the operator) "
        f"{_short(summary['arbiter'])}",
        f"deployed: metering {d['metering']:,}, coin {d['coin']:,}, escrow {d['escrow']:,} gas",
    ]
    for a in summary["auctions"]:
        r = a["request"]
        lines += [
            "",
            f"auction {a['auction']} ({a['story']}): {r['energy_wh']:,} Wh, {r['intervals']} intervals from "
            f"{r['first_interval']}",
            f"  {'provider':<13} {_unit(t):>9}  result (ceiling {_rate(t, r['ceiling_wei_per_kwh'])})",
        ]
        for b in a["bids"]:
            lines.append(f"  {b['provider']:<13} {_rate(t, b['rate_wei_per_kwh']):>9}  {b['result']}"[:80])
        if a["resold"]:
            lines.append(f"  {a['resold']['by']} sold the same intervals to another buyer before the consumer opened")
            lines.append(f"    (that trade released: {_money(t, a['resold']['paid'])} {t} to {a['resold']['by']})")
        for skip in a["skipped"]:
            lines.append(f"  the consumer's open of {skip['offer']}'s offer: {skip['reason']}"[:80])
        lines.append(
            f"  winner {a['winner']} at {_rate(t, a['rate_wei_per_kwh'])}: {_money(t, a['amount'])} {t} escrowed; "
            f"{a['losers']} losing offer{'' if a['losers'] == 1 else 's'} unopened"
        )
        lines.append(
            f"  locked: the winner's intervals {'yes' if a['winner_locked'] else 'NO'}, "
            f"the losers' {'YES' if a['losers_locked'] else 'no'}"
        )
        if "vouchers" in a:
            metered = ", ".join(f"{wh:,}" for wh in a["metered_wh"])
            lines.append(f"  metered per interval: {metered} Wh"[:80])
            lines.append(f"  vouchers: {', '.join(_money(t, v) for v in a['vouchers'])} {t}"[:80])
        else:
            lines.append(f"  metered {a['metered_wh'][0]:,} of {r['energy_wh']:,} Wh: a dispute, split pro rata")
        gas = ", ".join(f"{k} {v:,}" for k, v in a["gas"].items())
        lines.append(f"  {a['signed']}: paid {_money(t, a['paid'])}, refunded {_money(t, a['refunded'])} {t}")
        lines.append(f"  gas: {gas}")
        if a["lapsed"]:
            lines.append(f"  {a['lapsed']['offer']}'s offer after its deadline: {a['lapsed']['reason']}"[:80])
    cons = summary["conservation"]
    resold = sum(1 for a in summary["auctions"] if a["resold"])
    lines += [
        "",
        f"{len(summary['auctions'])} auctions' trades and {resold} sold elsewhere, from the escrow's events:",
        f"escrowed {_money(t, cons['escrowed'])} = paid {_money(t, cons['paid'])} + refunded "
        f"{_money(t, cons['refunded'])} {t}",
        f"escrow holds {cons['held_after'][0]} wei and {cons['held_after'][1]} coin units at the end: "
        + ("conserved" if cons["ok"] else "NOT CONSERVED"),
    ]
    return lines
