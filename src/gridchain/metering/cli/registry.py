"""The operator's commands: `gridchain metering register-meter`, `register-ev` and `tariff`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.cli.chain import contract_refusals, emit, open_metering, read_config
from gridchain.metering.cli.config import GATEWAY, HOST, OWNER, ev_address, meter_address, metering
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

JSON = typer.Option(False, "--json", help="Print the result as one JSON object.")


@bad_input_exits
def register_meter(
    meter: str = typer.Option(..., "--meter", help="The meter: its keystore's name in metering.meters."),
    owner: str = typer.Option(HOST, "--owner", help="Who is credited for its sessions: an account name."),
    premises: int = typer.Option(1, "--premises", help="The premises' number (0 .. 2^64-1)."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Register a meter and name the gateway that anchors its readings (as accounts.owner).

    Example: gridchain metering register-meter --meter cp1 --owner host --config pilot/gridchain.toml
    """
    from gridchain.config.accounts import account_address

    if not 0 <= premises <= m.MAX_PREMISES:
        raise InputError("--premises", f"{premises} is outside 0..{m.MAX_PREMISES}")
    config = read_config(config_file)
    address, owner_address = meter_address(config, meter), account_address(config, owner)
    d = open_metering(config, [OWNER])
    community = metering(d.config).community
    gateway = account_address(d.config, GATEWAY)
    with contract_refusals():
        receipt = d.client.register_meter(d.address(OWNER), address, owner_address, community, premises)
        d.client.assign_gateway(d.address(OWNER), address, gateway)
    emit(
        as_json,
        {
            "meter": address,
            "owner": owner_address,
            "community": community,
            "premises": premises,
            "gateway": gateway,
            "block": receipt.block,
        },
        [
            f"meter {meter} registered: {address}",
            f"  owner {owner} {owner_address}",
            f"  community {community}, premises {premises}, gateway {gateway}",
        ],
    )


@bad_input_exits
def register_ev(
    ev: str = typer.Option(..., "--ev", help="The EV: its keystore's name in metering.evs."),
    owner: str = typer.Option("ev_owner", "--owner", help="Whose escrow pays its sessions: an account name."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Register an EV, whose roaming sessions are billed to its owner (as accounts.owner).

    Example: gridchain metering register-ev --ev ev1 --owner ev_owner --config pilot/gridchain.toml
    """
    from gridchain.config.accounts import account_address

    config = read_config(config_file)
    address, owner_address = ev_address(config, ev), account_address(config, owner)
    d = open_metering(config, [OWNER])
    with contract_refusals():
        receipt = d.client.register_ev(d.address(OWNER), address, owner_address)
    emit(
        as_json,
        {"ev": address, "owner": owner_address, "block": receipt.block},
        [f"EV {ev} registered: {address}", f"  billed to {owner} {owner_address}"],
    )


def parse_prices(text: str) -> tuple[int, ...]:
    """One price for every hour, or 24 comma-separated hourly prices (wei/kWh)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (1, m.HOURS) or not all(p.isdigit() for p in parts):
        raise InputError("--prices-wei-per-kwh", f"{text!r} is not 1 or 24 comma-separated integers")
    prices = tuple(int(p) for p in parts) * (m.HOURS if len(parts) == 1 else 1)
    if max(prices) > m.MAX_PRICE:
        raise InputError("--prices-wei-per-kwh", f"{max(prices)} is above {m.MAX_PRICE}")
    return prices


@bad_input_exits
def tariff(
    prices: str = typer.Option(
        ..., "--prices-wei-per-kwh", help="One price (wei/kWh) for all hours, or 24 hourly ones (UTC), comma-separated."
    ),
    effective_from: int = typer.Option(
        None, "--from", help="When it starts (unix s): a future 15-minute boundary. Default: the next one."
    ),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Add a time-of-use tariff for metering.community (as accounts.owner).

    Example: gridchain metering tariff --prices-wei-per-kwh 100000000000000 --config pilot/gridchain.toml
    """
    hourly = parse_prices(prices)
    if effective_from is not None and effective_from % m.INTERVAL_S:
        raise InputError("--from", f"{effective_from} is not a multiple of {m.INTERVAL_S} s")
    config = read_config(config_file)
    d = open_metering(config, [OWNER])
    now = d.network.gateway.now()
    start = (now // m.INTERVAL_S + 1) * m.INTERVAL_S if effective_from is None else effective_from
    if start < now:
        raise InputError("--from", f"{start} is in the past (the chain's clock is at {now})")
    community = metering(d.config).community
    with contract_refusals():
        receipt = d.client.set_tariff(d.address(OWNER), community, start, hourly)
    when = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%d %H:%M UTC")
    emit(
        as_json,
        {"community": community, "effective_from": start, "prices_wei_per_kwh": list(hourly), "block": receipt.block},
        [f"tariff of community {community} from {when} ({start})", f"  {min(hourly):,} .. {max(hourly):,} wei/kWh"],
    )
