"""`gridchain deploy coordinator|v2v|metering|all`: deploy what the config describes, once, and record it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

FUND_BELOW_WEI = 10 * 10**18  # dev funding tops an account up when it holds less than this...
FUND_TO_WEI = 100 * 10**18  # ...to this


def make_deploy(deployers: dict):
    """The `deploy` command over the features' deployers ({name: fn(config, network, record, redeploy)})."""
    names = ", ".join([*deployers, "all"])

    @bad_input_exits
    def deploy(
        target: str = typer.Argument(..., help=f"What to deploy: {names}."),
        config_file: Path = CONFIG,
        redeploy: bool = typer.Option(
            False, "--redeploy", help="Deploy anew even if the record holds a valid deployment."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the deployments as one JSON object."),
        owner: str = typer.Option(
            None,
            "--owner",
            help="After deploying, hand every deployed contract that has an owner to this address: a Safe "
            "(checked on chain: getOwners and getThreshold must answer) unless --owner-not-safe.",
        ),
        owner_not_safe: bool = typer.Option(
            False, "--owner-not-safe", help="With --owner: the address need not be a Safe (an account, a timelock)."
        ),
    ) -> None:
        """Deploy the contracts gridchain.toml describes and write them to its deployment record.

        Idempotent: a recorded contract whose code is on chain, built from the same sources with the same
        settings, is reused (run it again after any failure). On a local anvil ([keys] dev_funding), the
        accounts are first topped up from anvil's development account.

        With --owner SAFE, each contract's ownership is then transferred from [accounts] owner to the Safe (a
        contract the Safe owns already is left alone), and the record's entry says who owns it.

        Example: gridchain deploy all --config pilot/gridchain.toml --owner 0x...
        """
        from gridchain.config.accounts import check_dev_funding
        from gridchain.config.file import config_path, load_config
        from gridchain.config.network import connect
        from gridchain.config.record import load_record

        if target != "all" and target not in deployers:
            raise InputError("TARGET", f"{target!r} is not one of {names}")
        config = load_config(config_path(config_file))
        network = connect(config, ["owner"])
        new_owner = _new_owner(network, owner, owner_not_safe) if owner is not None else None
        funded = _dev_fund(config, network) if check_dev_funding(config, network.settings.chain_id) else {}
        record = load_record(config, network.settings.chain_id)
        chosen = {name: fn for name, fn in deployers.items() if target in ("all", name)}
        skipped = [name for name, fn in chosen.items() if target == "all" and not _described(config, fn)]
        done = [fn(config, network, record, redeploy) for name, fn in chosen.items() if name not in skipped]
        if new_owner is not None:
            done = [_hand_over(network, record, d, *new_owner) for d in done]
        if as_json:
            out = {d.name: {"address": d.address, "reused": d.reused, **d.entry} for d in done}
            typer.echo(json.dumps({"record": str(record.path), "funded": funded, "contracts": out, "skipped": skipped}))
            return
        for account, wei in funded.items():
            typer.echo(f"funded {account} with {wei / 10**18:g} ETH (anvil dev account)")
        for name in skipped:
            typer.echo(f"{name:<12} skipped: gridchain.toml has no [{deployers[name].SECTION}] section")
        for d in done:
            how = "reused  " if d.reused else f"deployed (block {d.entry['block']}, {d.entry['gas_used']:,} gas)"
            typer.echo(f"{d.name:<12} {d.address}  {how}")
            if new_owner is not None and "owner_safe" in d.entry:
                safe = d.entry["owner_safe"]
                kind = f"a Safe, {safe['threshold']} of {len(safe['owners'])}" if safe else "not checked as a Safe"
                typer.echo(f"{'':<12} owned by {d.entry['owner']} ({kind})")
        typer.echo(f"record: {record.path}")

    return deploy


def _new_owner(network, owner: str, not_safe: bool) -> tuple[str, dict | None]:
    """--owner, checked before anything is deployed: an address, not zero, and a Safe on this chain (its owners and
    threshold) unless `not_safe`."""
    from gridchain.checks import parse_address
    from gridchain.governance import is_safe

    address = parse_address("--owner", owner)
    if int(address, 16) == 0:
        raise InputError("--owner", f"{owner!r} is the zero address (it would renounce ownership)")
    if not_safe:
        return address, None
    safe = is_safe(network.gateway, address)
    if safe is None:
        raise InputError(
            "--owner",
            f"{address} is not a Safe on chain {network.settings.chain_id} (getOwners and getThreshold do not "
            "answer there); pass --owner-not-safe to hand the contracts to it anyway",
        )
    owners, threshold = safe
    return address, {"owners": owners, "threshold": threshold}


def _hand_over(network, record, deployed, new_owner: str, safe: dict | None):
    """Transfer `deployed`'s ownership from [accounts] owner to `new_owner` (nothing if it holds it already; a
    contract without an owner is left as it is) and record who owns it."""
    from gridchain.chain.compiler import compile_contract
    from gridchain.config.deploy import Deployed

    artifact = compile_contract(deployed.entry["contract"])
    if not any(f.get("name") == "transfer_ownership" for f in artifact.abi):
        return deployed  # the call market: no owner role
    current = str(network.gateway.call(artifact, deployed.address, "owner", []))
    if current.lower() != new_owner.lower():
        account = network.address("owner")
        if current.lower() != account.lower():
            raise InputError(
                f"deployment.{deployed.name}",
                f"owned by {current}, not by [accounts] owner {account}: it cannot be handed to {new_owner}",
            )
        network.gateway.transact(artifact, deployed.address, "transfer_ownership", [new_owner], account)
    entry = {**deployed.entry, "owner": new_owner, "owner_safe": safe}
    record.put(deployed.name, entry)
    return Deployed(deployed.name, deployed.address, deployed.reused, entry)


def _described(config, deployer) -> bool:
    """Whether `deploy all` deploys this one: a deployer whose contract cannot be guessed (it names a `SECTION`,
    e.g. the committee's members) runs only when gridchain.toml has that section; `deploy NAME` always runs it."""
    section = getattr(deployer, "SECTION", None)
    return section is None or section in config.data


def _dev_fund(config, network) -> dict[str, int]:
    """Top every configured account up from anvil's first development account; returns what was sent."""
    from gridchain.chain.anvil import dev_keys
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.config.accounts import account_address

    funder = RpcGateway(network.settings.rpc_url, dev_keys(1))
    sent = {}
    for name in config.section("accounts").table:
        address = account_address(config, name)
        balance = funder.balance(address)
        if balance < FUND_BELOW_WEI:
            funder.transfer(funder.accounts[0], address, FUND_TO_WEI - balance)
            sent[address] = FUND_TO_WEI - balance
    return sent
