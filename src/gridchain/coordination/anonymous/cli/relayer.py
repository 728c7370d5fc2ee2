"""`gridchain relayer serve`: the relayer that submits anonymous requests and pays their gas."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from gridchain.checks import check_int
from gridchain.coordination.anonymous.cli.serve import PORT_HELP, serve
from gridchain.errors import InputError
from gridchain.ui.chain_options import KEYS_HELP, RPC_URL, rpc_gateway
from gridchain.ui.errors import bad_input_exits

relayer_app = typer.Typer(help="The relayer: submits anonymous requests and pays their gas.", no_args_is_help=True)
ADMIN_TOKEN_ENV = "GRIDCHAIN_RELAYER_ADMIN_TOKEN"


@relayer_app.command("serve")
@bad_input_exits
def relayerserve(
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
        serve(relayer_app(relayer, admin_token, flusher), port, banner, as_json)
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
