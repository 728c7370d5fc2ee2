"""The escrow's commands: `gridchain escrow demo` (PriWatt's negotiation and settlement stories on the embedded
chain or a node) and `gridchain escrow board` (the negotiation's message board); the board's tables in the store.

Entry point of the escrow feature: imports its scenarios and plots and the shared UI; nothing imports it but the
root CLI, which mounts what the registry below lists.
"""

from __future__ import annotations

from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.escrow.cli.board import board_app, board_client
from gridchain.escrow.negotiation.service.board import SCHEMA as BOARD_SCHEMA
from gridchain.ui.chain_options import RPC_URL, confirm_clock_moves, rpc_gateway
from gridchain.ui.console import emit
from gridchain.ui.errors import bad_input_exits, make_out_dir
from gridchain.ui.results import write_results

ACCOUNTS = 1  # the relayer (deployer, funder, submitter); the parties are fresh keys


@bad_input_exits
def demo(
    meters: int = typer.Option(3, "--meters", help="Registered PV meters the trades take in turn, 1 .. 6."),
    seed: int = typer.Option(0, "--seed", help="Seed of the PV draw, the shortfalls and every key."),
    rpc_url: str = RPC_URL,
    board_url: str = typer.Option(
        "", "--board-url", help="A running board (`gridchain escrow board serve`) to negotiate on; default in-process."
    ),
    yes: bool = typer.Option(False, "--yes", help="Move a node's clock (to 2030 and a day on) even if it has blocks."),
    out: Path = typer.Option(Path("results/escrow"), "--out", help="Folder for escrow_demo_<config>.json and .png."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object on stdout."),
) -> None:
    """Trades negotiated anonymously and settled through the trade escrow: release, refund, vouchers.

    PriWatt's negotiation and trade settlement through the trade escrow (contracts/trade_escrow.vy): the
    metering contract with registered PV meters, the energy coin, the escrow, and trades between fresh buyer and
    seller addresses. Each trade is negotiated first on the message board: the meter's owner lists the energy
    under a one-time key, a buyer bids from another, they agree over sealed envelopes of one size, and the buyer
    opens the escrow on the agreed terms with the owner's offer signature. The stories:
    (a) ETH released by buyer and seller, (b) coin released by seller and arbiter after the buyer vanished, (c) a
    revocation (the energy freed and sold again), (d) a dispute split by arbiter and buyer, (e) a long delivery
    paid by cumulative vouchers, (f) a refund after the deadline, (g) a buyer paid by trade notes bought days
    before (blind-signed, redeemed by the relayer into its escrow balance); and the double spends the contract
    refuses, with its reasons. Per trade: who signed, paid and refunded (measured), gas; then the conservation
    check. Runs on the embedded chain unless --rpc-url names a node with a funded account (its clock moves to
    2030-01-01 if behind); negotiates on an in-process board unless --board-url names a running one (then the
    one-time keys and fresh addresses come from the OS, not the seed: that board has seen the seeded ones).

    Example: gridchain escrow demo --meters 3 --seed 0
    """
    from gridchain.chain.boa_gateway import BoaGateway
    from gridchain.escrow import plots, scenarios

    try:
        config = scenarios.DemoConfig(meters, seed)
    except InputError as e:
        raise InputError(f"--{e.field}", e.reason) from None
    for option, url in (("--rpc-url", rpc_url), ("--board-url", board_url)):
        if url and not url.startswith(("http://", "https://")):
            raise InputError(option, f"{url!r} is not an http:// or https:// URL")
    make_out_dir(out)
    board = board_client(board_url) if board_url else None
    try:
        gateway = rpc_gateway(rpc_url, None, ACCOUNTS) if rpc_url else BoaGateway(accounts=ACCOUNTS)
        if rpc_url:
            confirm_clock_moves(gateway, yes, "to 2030-01-01 and a day on")
        progress = lambda step: typer.echo(step, err=True)  # noqa: E731
        summary = scenarios.run(gateway, config, board, progress, board_url or None)
    finally:
        if board is not None:
            board.close()
    written = write_results(out, config.name, summary, lambda path: plots.demo_figure(summary, path))
    files = [str(p) for p in written]
    emit(as_json, summary | {"files": files}, demo_lines(summary) + [f"wrote {f}" for f in files])


def _money(token: str, amount: int) -> str:
    return f"{amount / (1e18 if token == 'ETH' else 1e6):.6f}"


def _short(address: str) -> str:
    return address[:6] + ".." + address[-4:]


def demo_lines(summary: dict) -> list[str]:
    """The demo's answer in lines of at most 80 columns."""
    c, d = summary["config"], summary["deploy_gas"]
    lines = [
        f"trade escrow demo: {c['meters']} meters, seed {c['seed']} ({summary['chain']} chain)",
        f"escrow {_short(summary['contracts']['escrow'])}, arbiter (the operator) {_short(summary['arbiter'])}",
        f"deployed: metering {d['metering']:,}, coin {d['coin']:,}, escrow {d['escrow']:,} gas",
        "every trade: a fresh buyer and seller address; ETH in ETH, coin in coins",
        f"{'tr':<3} {'tok':<4} {'story':<19} {'signed by':<15} {'paid':>8} {'refunded':>8} {'open':>7} {'settle':>7}",
    ]
    for t in summary["trades"]:
        lines.append(
            f"{t['trade']:<3} {t['token']:<4} {t['story']:<19} {t['signed']:<15} {_money(t['token'], t['paid']):>8} "
            f"{_money(t['token'], t['refunded']):>8} {t['gas']['open']:>7,} {t['gas']['settle']:>7,}"
        )
    n = summary["negotiation"]
    sizes = ", ".join(map(str, n["envelope_bytes"]))
    counts = f"{n['listings']} listings, {n['envelopes']} envelopes of {sizes} bytes"
    where = "the in-process board" if n["board"] == "in-process" else f"the board {n['board']}"
    line = f"negotiated on {where}: {counts}"
    lines.append(line if len(line) <= 80 else f"negotiated on a running board: {counts}")  # its URL: in --json
    lines.append(f"{'tr':<3} {'agreed/kWh':>10} {'posted/kWh':>10} {'rounds':>6} {'envelopes':>9}")
    for t in summary["trades"]:
        g = t["negotiation"]
        lines.append(
            f"{t['trade']:<3} {_money(t['token'], g['price_per_kwh']):>10} "
            f"{_money(t['token'], g['posted_per_kwh']):>10} {g['rounds']:>6} {g['envelopes']:>9}"
        )
    for t in summary["trades"]:
        if "freed" in t:
            lines.append(f"{t['trade']}: after the revocation its energy is {'free' if t['freed'] else 'STILL LOCKED'}")
        if t["story"] == "dispute split":
            lines.append(
                f"{t['trade']}: metered {t['metered_wh']:,} of {t['energy_wh']:,} Wh; the arbiter and the buyer split"
            )
        if "funded" in t:
            f = t["funded"]
            lines += [
                f"{t['trade']}: the buyer paid with notes a household bought days before (blind-signed);",
                f"   the relayer redeemed them for fees of {_money('ETH', f['gas_fee'])} ETH and "
                f"{_money('coin', f['coin_fee'])} coin;",
                f"   its own coins before it opened: {_money('coin', f['coins_held'])}; change taken out: "
                f"{_money('coin', f['change'])}",
            ]
        if "vouchers" in t:
            lines.append(
                f"{t['trade']}: {len(t['vouchers'])} vouchers signed per metered interval, the seller claimed the last"
            )
    for r in summary["refusals"]:
        lines += [f"refused ({r['by']}): {r['attempt']}"[:80], f"  -> {r['reason']}"[:80]]
    cons = summary["conservation"]
    for token in ("ETH", "coin"):
        m = cons[token]
        lines.append(
            f"{token + ':':<5} escrowed {_money(token, m['escrowed'])} = paid {_money(token, m['paid'])} "
            f"+ refunded {_money(token, m['refunded'])}"
        )
    held = cons["held_after"]
    lines.append(
        f"escrow holds {held[0]} wei and {held[1]} coin units at the end, {cons['credited']} credited: "
        + ("conserved" if cons["ok"] else "NOT CONSERVED")
    )
    return lines


app = typer.Typer(
    help="PriWatt's trade escrow: 2-of-3 release, refunds, locked energy, vouchers.", no_args_is_help=True
)
app.command("demo")(demo)
app.add_typer(board_app, name="board")

APPS = {"escrow": app}
SCHEMAS = (BOARD_SCHEMA,)  # the board's tables (gridchain store)
