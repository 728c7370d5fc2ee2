"""`gridchain keeper run|status`: the daemon that closes every slot, and how far behind it is."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import typer

from gridchain.net.logs import EventLog
from gridchain.ui.banner import STOPS, print_banner
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

keeper_app = typer.Typer(help="The keeper: closes every slot once it has ended.", no_args_is_help=True)
ACCOUNT = "keeper"  # the [accounts] entry that sends the closes


_log = EventLog("keeper", "stdout").entry()  # one JSON line per event on stdout, after the banner


@keeper_app.command("run")
@bad_input_exits
def run(
    config_file: Path = CONFIG,
    as_json: bool = typer.Option(False, "--json", help="Print the banner as JSON too (the log always is)."),
) -> None:
    """Close every slot of the deployment's coordinator once it has ended, oldest first, as a daemon.

    Sends from [accounts] keeper; pages a slot with more than [keeper] page pending requests; sleeps until
    the next slot ends (plus [keeper] margin_s, at most [keeper] poll_s); retries with backoff when the node
    fails (from [keeper] poll_s, doubling, at most 30 s; no node outage ends it). Prints a banner line (its
    PID), then one JSON line per event on stdout (time, service, event: closed with slot, requests, gas, tx;
    dropped with slot, tx: a reorganisation took its last close off the chain, it closes the slot again; error
    with loop, error, attempt, retry_in_s; recovered; stopped). SIGTERM or Ctrl-C stops it between
    two closes (exit 0). With [keeper] listen (host:port; "" by default: none), it serves GET /health (200
    while the node answers and the loop works, else 503) and GET /metrics (Prometheus text) there.

    Example: gridchain keeper run --config pilot/gridchain.toml
    """
    from gridchain.config.accounts import account_address
    from gridchain.config.file import config_path, load_config
    from gridchain.coordination.cli.connect import coordinator
    from gridchain.coordination.cli.keeper_config import keeper_settings
    from gridchain.coordination.parties.keeper import Keeper
    from gridchain.coordination.parties.keeper_loop import KeeperLoop

    config = load_config(config_path(config_file))
    settings = keeper_settings(config)
    account_address(config, ACCOUNT)  # a missing or unreadable keystore is named before the node is asked
    # the keeper reads up to the head: the contract checks the pending set it is given, so an unconfirmed
    # log cannot make it close wrongly, and a reorganisation below what it read makes it read afresh
    network, client = coordinator(config, [ACCOUNT], settings.max_log_range, confirmations=0)
    keeper = Keeper(client, network.address(ACCOUNT), page=settings.page)
    loop = KeeperLoop(keeper, _log, settings.poll_s, settings.margin_s)
    status = _status_server(settings.listen, network.settings.rpc_url, loop, client.address)
    for sig in (signal.SIGINT, signal.SIGTERM):  # before the banner: a stop right after it is still clean
        signal.signal(sig, lambda *_: loop.stop.set())
    banner = {
        "service": "keeper",
        "pid": os.getpid(),
        "keeper": keeper.account,
        "coordinator": client.address,
        "rpc_url": network.settings.rpc_url,
        "next_slot": client.next_slot_to_close,
    }
    if status is not None:
        banner["url"] = status.url
    print_banner(f"keeper (pid {banner['pid']}); {STOPS}", banner, as_json, hide=("service", "pid"))
    try:
        if status is not None:
            status.start()
        loop.run()
    finally:
        if status is not None:
            status.stop()
    _log({"event": "stopped", "next_slot": loop.keeper.client.next_slot_to_close})


def _status_server(listen: tuple[str, int] | None, rpc_url: str, loop, coordinator: str):
    """The keeper's /health and /metrics on [keeper] listen (not started), or None without one."""
    if listen is None:
        return None
    from gridchain.errors import InputError
    from gridchain.net.server import LoopbackServer
    from gridchain.net.status import status_app

    app = status_app(
        "keeper", rpc_url, [loop.loop], lambda: {"keeper": loop.keeper.account, "coordinator": coordinator}
    )
    host, port = listen
    try:
        return LoopbackServer(app, port, host)
    except OSError as e:
        raise InputError("keeper.listen", f"cannot listen on {host}:{port}: {e.strerror or e}") from None


@keeper_app.command("status")
@bad_input_exits
def status(
    config_file: Path = CONFIG,
    as_json: bool = typer.Option(False, "--json", help="Print the status as one JSON object."),
) -> None:
    """Show the next slot to close, how many ended slots wait for a close, and the keeper's balance.

    Example: gridchain keeper status --config pilot/gridchain.toml
    """
    from gridchain.config.accounts import account_address
    from gridchain.config.file import config_path, load_config
    from gridchain.coordination.cli.connect import coordinator

    config = load_config(config_path(config_file))
    network, client = coordinator(config)
    keeper = account_address(config, ACCOUNT)
    now, next_slot = client.gateway.now(), client.next_slot_to_close
    current = int(client.view("current_slot"))
    ended = client.slot_end(next_slot)
    out = {
        "coordinator": client.address,
        "keeper": keeper,
        "keeper_balance_wei": network.gateway.balance(keeper),
        "chain_time": now,
        "current_slot": current,
        "next_slot_to_close": next_slot,
        "next_slot_end": ended,
        "due_slots": max(0, current - next_slot),  # ended and not closed
        "behind_s": max(0, now - ended),
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    typer.echo(f"coordinator  {out['coordinator']}")
    typer.echo(f"keeper       {keeper}  ({out['keeper_balance_wei'] / 10**18:.4g} ETH)")
    typer.echo(f"next slot    {next_slot}, ends at {ended} (chain time {now}; current slot {current})")
    typer.echo(f"behind       {out['due_slots']} ended slot(s) waiting, the oldest for {out['behind_s']} s")
