"""`gridchain v2v auctions`: the auctions on chain (open and ended; --all: closed too), with their bids."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits
from gridchain.v2v.cli.common import JSON, kwh, open_v2v, short, twei


@bad_input_exits
def auctions(
    config_file: Path = CONFIG,
    show_all: bool = typer.Option(False, "--all", help="Closed auctions too (settled, expired, no bid)."),
    as_json: bool = JSON,
) -> None:
    """The auctions on chain, oldest first, with their bids.

    Read from the contract's events: each auction's state (bidding, to end, ended, closed), energy, the
    current or winning rate, the leader or winner, when bidding closes, and every bid.

    Example: gridchain v2v auctions --config pilot/gridchain.toml
    """
    from gridchain.v2v.parties.book import EventReader

    v = open_v2v(config_file)
    reader = EventReader(v.client, v.deployed_block)
    reader.catch_up()
    now = v.network.gateway.now()
    shown = [a for a in reader.book.auctions if show_all or not a.closed]
    if as_json:
        typer.echo(
            json.dumps({"now": now, "block": reader.checkpoint - 1, "auctions": [a.to_json(now) for a in shown]})
        )
        return
    console = Console()
    table = Table(title=f"V2V auctions at chain time {now} (rates in Twei/kWh)", title_justify="left", box=box.SIMPLE)
    for col in ("#", "consumer", "state", "kWh", "rate", "bids", "leader/winner", "closes in"):
        table.add_column(col, justify="right" if col in ("#", "kWh", "rate", "bids") else "left", no_wrap=True)
    bids = Table(title="Bids", title_justify="left", box=box.SIMPLE)
    for col in ("#", "provider", "rate [Twei/kWh]", "block"):
        bids.add_column(col)
    for i, a in enumerate(shown, 1):
        closes = f"{a.closing_time - now} s" if a.closing_time > now else "closed"
        table.add_row(
            str(i),
            short(a.consumer),
            a.state(now),
            kwh(a.amount_wh),
            twei(a.rate_wei_per_kwh),
            str(len(a.bids)),
            short(a.winner or a.leader),
            closes,
        )
        for b in a.bids:
            bids.add_row(str(i), short(b.provider), twei(b.rate_wei_per_kwh), str(b.block))
    console.print(table if shown else "no auctions" + ("" if show_all else " open (--all shows closed ones)"))
    if any(a.bids for a in shown):
        console.print(bids)
