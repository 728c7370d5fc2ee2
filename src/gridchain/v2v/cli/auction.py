"""`gridchain v2v auction open|end|session|settle|withdraw`: a consumer EV's trade, one step per command."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from eth_utils import to_checksum_address

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits
from gridchain.v2v.cli.common import EV, JSON, admitted, chain_call, consumer, open_v2v, show
from gridchain.v2v.cli.trade import session, settle

WAIT_POLL_S = 1.0  # `end --wait`: how often the chain's clock is read

auction_app = typer.Typer(
    help="A consumer EV's auction: open it, end it, take the energy, settle, withdraw.", no_args_is_help=True
)
auction_app.command("session")(session)
auction_app.command("settle")(settle)


@auction_app.command("open")
@bad_input_exits
def open_auction(
    ev: str = EV,
    amount_wh: int = typer.Option(..., "--amount-wh", help="Energy wanted [Wh]."),
    max_rate_wei_per_kwh: int = typer.Option(
        ..., "--max-rate-wei-per-kwh", help="The highest rate accepted: the auction's start rate [wei/kWh]."
    ),
    duration_s: int = typer.Option(60, "--duration-s", help="How long providers may bid [s], 1 .. 7 days."),
    min_collateral_wei: int = typer.Option(
        None, "--min-collateral-wei", help="The least collateral of a bid [wei] (default: the deposit)."
    ),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Open a reverse auction for --amount-wh: the deposit is its cost at --max-rate-wei-per-kwh.

    Example: gridchain v2v auction open --ev c1 --amount-wh 10000 --max-rate-wei-per-kwh 300000000000000
    """
    check_int("--amount-wh", amount_wh, 1, 2**64 - 1)
    check_int("--max-rate-wei-per-kwh", max_rate_wei_per_kwh, 1, 2**80 - 1)
    check_int("--duration-s", duration_s, 1, 7 * 86_400)
    if min_collateral_wei is not None:
        check_int("--min-collateral-wei", min_collateral_wei, 0, 2**80 - 1)
    v = open_v2v(config_file, ev)
    address = admitted(v, ev)
    current = v.client.auction(address)
    if current.closing_time:
        raise InputError(
            "--ev", f"{ev} has an auction open already (closing at {current.closing_time}): settle it first"
        )
    ev_party = consumer(v)
    receipt = chain_call(
        "--ev", lambda: ev_party.start_auction(amount_wh, duration_s, max_rate_wei_per_kwh, min_collateral_wei)
    )
    started = receipt.named("AuctionStarted")[0].args
    show(
        {
            "consumer": address,
            "amount_wh": amount_wh,
            "max_rate_wei_per_kwh": max_rate_wei_per_kwh,
            "deposit_wei": started["deposit_wei"],
            "min_collateral_wei": started["min_collateral_wei"],
            "closing_time": started["closing_time"],
            "block": receipt.block,
        },
        as_json,
    )


@auction_app.command("end")
@bad_input_exits
def end(
    ev: str = EV,
    wait: bool = typer.Option(False, "--wait", help="Wait for bidding to close instead of refusing (scripts)."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """End --ev's auction once bidding has closed: the winner, its rate, the access token and the winner's
    announced service URL (no bid: the deposit becomes withdrawable). With --wait, first wait for the chain's
    clock to pass the closing time.

    Example: gridchain v2v auction end --ev c1
    """
    v = open_v2v(config_file, ev)
    a = v.client.auction(v.ev)
    if not a.closing_time:
        raise InputError("--ev", f"{ev} has no open auction")
    if a.ended_at:
        raise InputError("--ev", f"{ev}'s auction ended already (at {a.ended_at})")
    now = v.network.gateway.now()
    while wait and now < a.closing_time:
        time.sleep(min(WAIT_POLL_S, a.closing_time - now))
        now = v.network.gateway.now()
    if now < a.closing_time:
        raise InputError("--ev", f"bidding is open until {a.closing_time} ({a.closing_time - now} s from now)")
    token = chain_call("--ev", lambda: consumer(v).end_auction())
    winner = None if token is None else to_checksum_address(a.provider)
    show(
        {
            "consumer": v.ev,
            "winner": winner,
            "rate_wei_per_kwh": a.rate_wei_per_kwh if winner else None,
            "amount_wh": a.amount_wh,
            "token": "0x" + token.hex() if token else None,
            "url": v.client.announced(winner, v.deployed_block) if winner else None,
            "note": None if winner else "no bid: the deposit is withdrawable (`auction withdraw`)",
        },
        as_json,
    )


@auction_app.command("withdraw")
@bad_input_exits
def withdraw(ev: str = EV, config_file: Path = CONFIG, as_json: bool = JSON) -> None:
    """Withdraw --ev's pending returns (a deposit without bids, an outbid collateral, a payout a push missed).
    Nothing pending: nothing is sent (withdrawn 0).

    Example: gridchain v2v auction withdraw --ev c1
    """
    v = open_v2v(config_file, ev)
    pending = v.client.pending_returns(v.ev)
    out = {"account": v.ev, "withdrawn_wei": 0, "block": None}
    if pending:
        receipt = chain_call("--ev", lambda: v.client.withdraw(v.ev))
        out |= {"withdrawn_wei": receipt.named("Withdrawn")[0].args["amount_wei"], "block": receipt.block}
    out["balance_wei"] = v.network.gateway.balance(v.ev)
    show(out, as_json)
