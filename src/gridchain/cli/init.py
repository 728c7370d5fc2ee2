"""`gridchain init`: a ready local pilot in one folder: gridchain.toml, keystores, secrets, members."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import typer

from gridchain.checks import check_int
from gridchain.config.init import InitOptions, align_comments
from gridchain.crypto.keystore import LIGHT_SCRYPT_N, STANDARD_SCRYPT_N, write_private
from gridchain.errors import InputError
from gridchain.ui.errors import bad_input_exits

ACCOUNTS = ("owner", "keeper", "relayer", "issuer")
"""owner deploys and owns the contracts (the utility's on-chain key); keeper closes slots; relayer pays the gas of
anonymous requests; issuer signs the utility's token answers (needs no funds)."""


def make_init(hooks):
    """The `init` command over the features' init hooks (each writes its files, returns its TOML sections)."""

    @bad_input_exits
    def init(
        folder: Path = typer.Argument(..., help="Folder to create the pilot in (must not hold a gridchain.toml)."),
        rpc_url: str = typer.Option("http://127.0.0.1:8545", "--rpc-url", help="JSON-RPC URL of the node."),
        chain_id: int = typer.Option(31337, "--chain-id", help="Chain id the node must report (31337: anvil)."),
        members: int = typer.Option(20, "--members", help="ESUs to create, each with its identity keystore."),
        port_base: int = typer.Option(8700, "--port-base", help="Services listen on 127.0.0.1 from this port up."),
        slot_length_s: int = typer.Option(
            60, "--slot-length-s", help="The community's slot length in seconds (community.slot_length_s)."
        ),
        light: bool = typer.Option(
            False, "--light-keystores", help="Cheaper keystore encryption (scrypt n=2^14): local tests only."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print what was written as one JSON object."),
    ) -> None:
        """Write a ready local pilot: gridchain.toml, encrypted keystores for every account, a random keystore
        password in secrets/ (readable by you only), admin tokens, and the members file.

        On chain id 31337 (a local anvil), `gridchain deploy` tops the accounts up from anvil's development
        account ([keys] dev_funding); on any other chain, fund them yourself and set dev_funding = false.

        Example: gridchain init pilot && cd pilot && gridchain node --state node-state.json --block-time 1
        """
        check_int("--members", members, 0, 1000)
        check_int("--port-base", port_base, 1024, 65535 - 16)
        check_int("--chain-id", chain_id, 1, 2**63 - 1)
        check_int("--slot-length-s", slot_length_s, 1, 86_400)
        if not rpc_url.startswith(("http://", "https://")):
            raise InputError("--rpc-url", f"{rpc_url!r} is not an http:// or https:// URL")
        config = folder / "gridchain.toml"
        if config.exists():
            raise InputError("FOLDER", f"{str(config)!r} exists already: choose another folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError("FOLDER", f"cannot create {str(folder)!r}: {e.strerror or e}") from None
        password = secrets.token_urlsafe(24)
        write_private(folder / "secrets/keystore-password", password + "\n")
        scrypt_n = LIGHT_SCRYPT_N if light else STANDARD_SCRYPT_N
        opts = InitOptions(folder, password, scrypt_n, members, port_base, slot_length_s)
        addresses = {name: opts.keystore(f"keys/{name}.json") for name in ACCOUNTS}
        sections = "".join(hook(opts) for hook in hooks)  # first: hooks may add accounts to [accounts]
        addresses.update({name: account_address_of(folder, name) for name, _ in opts.accounts})
        text = _common(rpc_url, chain_id, opts.accounts) + sections
        config.write_text(align_comments(text))
        summary = {"config": str(config), "accounts": addresses, "members": members}
        if as_json:
            typer.echo(json.dumps(summary))
        else:
            typer.echo(f"wrote {config} and keystores for {', '.join(ACCOUNTS)} and {members} ESUs")
            typer.echo(f"next: gridchain node --state {folder}/node-state.json --block-time 1   (another terminal)")
            typer.echo(f"      gridchain deploy all --config {config}")

    return init


def account_address_of(folder: Path, name: str) -> str:
    from gridchain.crypto.keystore import keystore_address

    return keystore_address(folder / f"keys/{name}.json", f"accounts.{name}")


def _common(rpc_url: str, chain_id: int, extra: list[tuple[str, str]]) -> str:
    entries = [(f'{n} = "keys/{n}.json"', c) for n, c in extra]
    more = "".join(f"{entry:<29} # {c}\n" for entry, c in entries)
    dev = "true" if chain_id == 31337 else "false"
    return f"""# gridchain.toml: one gridchain deployment. Paths are relative to this file.

[network]
rpc_url = "{rpc_url}"
{f"chain_id = {chain_id}":<29} # the node must report this chain id
confirmations = 0             # blocks below an event before a service acts on it

[keys]
password_env = "GRIDCHAIN_KEYSTORE_PASSWORD"   # the keystores' password, if this variable is set...
password_file = "secrets/keystore-password"     # ...else from this file (never on the command line)
{f"dev_funding = {dev}":<29} # top accounts up from anvil's public dev account (chain 31337 only)

[accounts]                    # encrypted JSON keystores
owner = "keys/owner.json"     # deploys and owns the contracts: the utility's on-chain key
keeper = "keys/keeper.json"   # closes slots
relayer = "keys/relayer.json" # pays the gas of anonymous requests
issuer = "keys/issuer.json"   # signs the utility's token answers (no funds needed)
{more}
[deployment]
record = "deployment.json"    # written by `gridchain deploy`, read by every other command

[store]                       # every service's state, one database (or $GRIDCHAIN_STORE_URL)
url = "sqlite:///state/gridchain.db"   # or postgresql://user@host:5432/name
"""
