"""`gridchain utility serve` and `gridchain relayer serve`: the two loopback services of the anonymous mode."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.ui.chain_options import KEYS_HELP, RPC_URL, rpc_gateway
from gridchain.ui.errors import bad_input_exits

utility_app = typer.Typer(help="The utility's services.", no_args_is_help=True)
relayer_app = typer.Typer(help="The relayer: submits anonymous requests and pays their gas.", no_args_is_help=True)

PORT_HELP = "Port on 127.0.0.1 (0: any free port, printed at start)."
ADMIN_TOKEN_ENV = "GRIDCHAIN_RELAYER_ADMIN_TOKEN"


def _serve(app, port: int, banner: dict, as_json: bool) -> None:
    import uvicorn

    from gridchain.net.server import LoopbackServer

    server = LoopbackServer(app, port)
    info = {**banner, "url": server.url}
    typer.echo(json.dumps(info) if as_json else "  ".join(f"{k}: {v}" for k, v in info.items()) + "  (Ctrl-C stops)")
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[server._socket])
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the Ctrl-C it caught
        pass
    finally:
        server._socket.close()
    typer.echo(f"{banner['service']} stopped", err=True)


@utility_app.command("serve")
@bad_input_exits
def utility_serve(
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
    _serve(issuance_app(issuer), port, banner, as_json)


@relayer_app.command("serve")
@bad_input_exits
def relayer_serve(
    coordinator: str = typer.Option(..., "--coordinator", help="Address of the community's coordinator contract."),
    rpc_url: str = RPC_URL,
    keys: str = typer.Option(None, "--keys", help=KEYS_HELP + " The first pays the gas."),
    interval: float = typer.Option(10.0, "--interval", help="Seconds between batches."),
    batch: int = typer.Option(20, "--batch", help="Requests per transaction (at most 32)."),
    port: int = typer.Option(8701, "--port", help=PORT_HELP),
    admin_token_file: Path = typer.Option(
        None,
        "--admin-token-file",
        help="File holding the admin token (at least 16 "
        "characters) that POST /flush must present as `Authorization: Bearer "
        f"<token>`; or set {ADMIN_TOKEN_ENV}. Never on the command line. "
        "Without one, POST /flush is disabled.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the banner as one JSON line."),
) -> None:
    """Relay anonymous requests over HTTP on 127.0.0.1: POST /requests (checked at once, like the contract
    will), GET /requests/<id> (queued, submitted with its arrival number, or failed with the reason; ids are
    random, only the sender knows its own); every --interval seconds the queue goes on chain in batches of
    --batch, each simulated first so that a request which turned invalid fails alone. POST /flush (flush now)
    is for the operator only: it needs the admin token.

    Example: GRIDCHAIN_RELAYER_ADMIN_TOKEN=$(openssl rand -hex 24) gridchain relayer serve --rpc-url
    http://127.0.0.1:8545 --coordinator 0x... --interval 10
    """
    from eth_utils import to_checksum_address

    from gridchain.chain.locked import LockedGateway
    from gridchain.coordination.anonymous.parties.relayer import Relayer
    from gridchain.coordination.anonymous.service.relayer import Flusher, relayer_app
    from gridchain.coordination.client import CoordinatorClient

    if not rpc_url:
        raise InputError("--rpc-url", "the relayer needs a node (e.g. one started by `gridchain node`)")
    check_int("--batch", batch, 1, 32)
    check_int("--port", port, 0, 65535)
    if not 0.1 <= interval <= 3600:
        raise InputError("--interval", f"{interval} is outside 0.1..3600 seconds")
    admin_token = _admin_token(admin_token_file)
    try:
        address = to_checksum_address(coordinator)
    except ValueError:
        raise InputError("--coordinator", f"{coordinator!r} is not an address") from None
    gateway = LockedGateway(rpc_gateway(rpc_url, keys, 1))
    client = CoordinatorClient(gateway, address)
    try:
        client.chain_id()
    except Exception as e:
        raise InputError("--coordinator", f"no coordinator at {address}: {e}") from None
    relayer = Relayer(client, gateway.accounts[0], batch_size=batch)
    flusher = Flusher(relayer, interval).start()
    banner = {
        "service": "relayer",
        "relayer": relayer.account,
        "coordinator": address,
        "flush": "admin token" if admin_token else "disabled",
    }
    try:
        _serve(relayer_app(relayer, admin_token, flusher), port, banner, as_json)
    finally:
        flusher.stop()


def _admin_token(path: Path | None) -> str | None:
    """The relayer's admin token: from --admin-token-file, else from the environment, else none."""
    from gridchain.coordination.anonymous.service.relayer import ADMIN_TOKEN_MIN_CHARS

    if path is not None:
        try:
            token, field = path.read_text().strip(), "--admin-token-file"
        except OSError as e:
            raise InputError("--admin-token-file", f"cannot read {str(path)!r}: {e.strerror or e}") from None
    else:
        token, field = os.environ.get(ADMIN_TOKEN_ENV, "").strip(), ADMIN_TOKEN_ENV
        if not token:
            return None
    if len(token) < ADMIN_TOKEN_MIN_CHARS or any(c.isspace() for c in token):
        raise InputError(field, f"the admin token must be at least {ADMIN_TOKEN_MIN_CHARS} characters, no spaces")
    return token


APPS = {"utility": utility_app, "relayer": relayer_app}  # what the root CLI mounts
