"""`gridchain utility serve`: the utility's token issuance service."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gridchain.checks import check_int
from gridchain.coordination.anonymous.cli.serve import PORT_HELP, serve
from gridchain.errors import InputError
from gridchain.ui.errors import bad_input_exits

utility_app = typer.Typer(help="The utility's services.", no_args_is_help=True)


@utility_app.command("serve")
@bad_input_exits
def utilityserve(
    members: Path = typer.Option(
        ...,
        "--members",
        help='JSON file {"<coordinator address>": ["<ESU identity>", ...]}: who may obtain tokens for which community.',
    ),
    quota: int = typer.Option(4, "--quota", help="Tokens per member, community and epoch (UTC day)."),
    lookahead: int = typer.Option(
        1,
        "--lookahead",
        help="Epochs (UTC days) ahead of today for which keys and tokens are given out (0: today only).",
    ),
    key: str = typer.Option(
        None,
        "--key",
        envvar="GRIDCHAIN_UTILITY_KEY",
        help="The utility's long-term private key (hex) that signs every answer; default: a new one.",
    ),
    port: int = typer.Option(8700, "--port", help=PORT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the banner as one JSON line."),
) -> None:
    """Token issuance over HTTP on 127.0.0.1: POST /tokens (blinded pseudonyms signed by a member's identity
    key -> blind signatures, signed by the utility), GET /keys/<community>/<epoch> (the epoch's RSA public key,
    which the utility registers on the coordinator with register_epoch_key). Keys exist only for the
    communities of --members and the epochs from today to --lookahead days ahead.

    Example: gridchain utility serve --members members.json --quota 4 --port 8700
    """
    from eth_account import Account

    from gridchain.coordination.anonymous.parties.issuer import Issuer
    from gridchain.coordination.anonymous.service.issuance import issuance_app

    check_int("--quota", quota, 1, 10_000)
    check_int("--lookahead", lookahead, 0, 30)
    check_int("--port", port, 0, 65535)
    try:
        table = json.loads(members.read_text())
    except (OSError, ValueError) as e:
        raise InputError("--members", f"cannot read {str(members)!r} as JSON: {e}") from None
    if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
        raise InputError("--members", "must be a JSON object mapping coordinator addresses to lists of identities")
    try:
        issuer = Issuer(
            bytes.fromhex(key.removeprefix("0x")) if key else bytes(Account.create().key),
            quota=quota,
            lookahead_epochs=lookahead,
        )
        Account.from_key(issuer.key)
    except ValueError as e:
        raise InputError("--key", f"not a private key: {e}") from None
    for community, identities in table.items():
        try:
            issuer.add_community(community)  # served even before it has members
        except ValueError:
            raise InputError("--members", f"{community!r} is not a coordinator address") from None
        for i, identity in enumerate(identities):
            try:
                issuer.admit(community, identity)
            except ValueError:
                raise InputError("--members", f"{community}[{i}]: {identity!r} is not an address") from None
    banner = {
        "service": "utility",
        "utility": issuer.address,
        "quota": quota,
        "communities": len(issuer.members),
        "members": sum(len(v) for v in issuer.members.values()),
        "lookahead": lookahead,
    }
    serve(issuance_app(issuer), port, banner, as_json)
