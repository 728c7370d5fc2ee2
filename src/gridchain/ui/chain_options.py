"""Options shared by the commands that talk to a chain: --rpc-url and a key (or the embedded chain)."""

from __future__ import annotations

import os

import typer

from gridchain.errors import InputError

RPC_URL = typer.Option(None, "--rpc-url", envvar="GRIDCHAIN_RPC_URL", help="JSON-RPC URL of an EVM node.")
KEYS_HELP = (
    "Private keys (comma-separated, or GRIDCHAIN_PRIVATE_KEYS) of the accounts to send from; default: anvil's "
    "public development keys (only for a local node)."
)


def rpc_gateway(url: str, keys: str | None, accounts: int):
    """A JSON-RPC gateway to `url`, signing with `keys` or anvil's development keys."""
    from eth_account import Account

    from gridchain.chain.anvil import dev_keys
    from gridchain.chain.rpc_gateway import reach

    key_list = [k.strip() for k in (keys or os.environ.get("GRIDCHAIN_PRIVATE_KEYS", "")).split(",") if k.strip()]
    try:
        for key in key_list:
            Account.from_key(key)
    except ValueError as e:
        raise InputError("--keys", f"not a private key list: {e}") from None
    return reach(url, key_list or dev_keys(accounts), "--rpc-url")


def confirm_clock_moves(gateway, yes: bool, how: str = "about a day") -> None:
    """Before a demo moves a node's clock (evm_increaseTime): a chain that already has blocks may be shared, and
    its other users would find their slots over. Refused without --yes (one line naming --rpc-url); with it,
    a warning on stderr. A fresh chain (block 0) is the demo's own: no question."""
    import sys

    blocks = gateway.w3.eth.block_number
    if blocks == 0:
        return
    what = f"the node at {gateway.url} has {blocks} block{'' if blocks == 1 else 's'} already (a shared node?)"
    if not yes:
        raise InputError(
            "--rpc-url", f"{what}: the demo moves its clock {how} forward (evm_increaseTime); pass --yes to proceed"
        )
    print(f"warning: {what}: moving its clock {how} forward (evm_increaseTime)", file=sys.stderr, flush=True)
