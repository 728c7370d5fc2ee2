"""`gridchain v2v register`: the organisation admits an EV and announces its service URL on chain.

Where a consumer finds its winner: the URL travels in `add_ev`'s info string, logged in `EVAdded` (at most 64
characters). The contract is unchanged: the organisation already vouches for every EV it admits, and a wrong URL
can misdirect a consumer but never fool it (the winner must prove its key on chain). A URL that changes is
announced again by removing and re-admitting the EV (its open trades still settle).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits
from gridchain.v2v.cli.common import EV, JSON, chain_call, open_v2v
from gridchain.v2v.cli.config import MAX_INFO, ev_address
from gridchain.v2v.cli.deploy import OWNER


@bad_input_exits
def register(ev: str = EV, config_file: Path = CONFIG, as_json: bool = JSON) -> None:
    """Admit EV --ev to the V2V market (signed by the owner account: the organisation).

    A provider EV (one with an address in the v2v.listen table) has its service URL announced on chain with
    it, so that a consumer that it wins against finds it. Run it again after changing the address: the EV is re-admitted
    with the new URL. Already admitted with the same URL: nothing is sent.

    Example: gridchain v2v register --ev p1 --config pilot/gridchain.toml
    """
    v = open_v2v(config_file, accounts=(OWNER,))
    address = ev_address(v.settings, ev)
    info = v.settings.url(ev) or ""
    if len(info) > MAX_INFO:
        raise InputError(f"v2v.listen.{ev}", f"{info!r} is longer than the contract's {MAX_INFO} characters")
    owner = v.network.address(OWNER)
    action = "admitted"
    if v.client.admitted_at(address):
        if v.client.announced(address, v.deployed_block) == info:
            action = "already admitted"
        else:
            chain_call("--ev", lambda: v.client.remove_ev(owner, address))
            action = "re-admitted"
    if action != "already admitted":
        chain_call("--ev", lambda: v.client.add_ev(owner, address, info))
    out = {"ev": ev, "address": address, "url": info or None, "action": action, "contract": v.client.address}
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(f"{ev} {address} {action}" + (f", service {info}" if info else " (no service: a consumer)"))
