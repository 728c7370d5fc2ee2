"""`gridchain warp`: move a development chain's clock forward, as time passing would (chain id 31337 only)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

DAY_S = 86_400
PAST_MIDNIGHT_S = 60  # land a minute after midnight: the day before is over for every contract


@bad_input_exits
def warp(
    days: int = typer.Option(None, "--days", help="To a minute past the N-th UTC midnight from now (1: the next one)."),
    seconds: int = typer.Option(None, "--seconds", help="Forward by this many seconds."),
    config_file: Path = CONFIG,
    as_json: bool = typer.Option(False, "--json", help="Print the clock before and after as one JSON object."),
) -> None:
    """Move the node's clock forward (evm_increaseTime, then a block), on a development chain only (chain id
    31337): what a pilot on one machine does instead of waiting for tomorrow, e.g. before anchoring a day's
    meter readings. Services keep running and see the new time at once (the keeper then closes every slot in
    between).

    Example: gridchain warp --days 1 --config pilot/gridchain.toml
    """
    from gridchain.config.accounts import DEV_CHAIN_ID
    from gridchain.config.file import config_path, load_config
    from gridchain.config.network import connect

    if (days is None) == (seconds is None):
        raise InputError("--days", "give --days or --seconds (one of them)")
    if days is not None:
        check_int("--days", days, 1, 366)
    else:
        check_int("--seconds", seconds, 1, 366 * DAY_S)
    network = connect(load_config(config_path(config_file)))
    if network.settings.chain_id != DEV_CHAIN_ID:
        raise InputError(
            "network.chain_id",
            f"warp moves a development chain's clock: refused on chain id {network.settings.chain_id}",
        )
    gateway = network.gateway
    before = gateway.now()
    target = (before // DAY_S + days) * DAY_S + PAST_MIDNIGHT_S if days is not None else before + seconds
    gateway.advance_time(target - before)
    after = gateway.now()
    if as_json:
        typer.echo(json.dumps({"before": before, "after": after}))
    else:
        typer.echo(f"chain clock {before} -> {after} (+{after - before} s)")
