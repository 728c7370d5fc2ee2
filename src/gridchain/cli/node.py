"""`gridchain node`: a local development chain (anvil from the npm package) on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import sys
import threading
from enum import StrEnum

import typer

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.ui.errors import bad_input_exits

Hardfork = StrEnum("Hardfork", {"prague": "prague", "osaka": "osaka"})


@bad_input_exits
def node(
    port: int = typer.Option(8545, "--port", help="Port on 127.0.0.1 (0: any free port)."),
    hardfork: Hardfork = typer.Option(
        "prague", "--hardfork", help="prague matches the embedded chain (py-evm); osaka adds EIP-7825's gas cap."
    ),
    accounts: int = typer.Option(10, "--accounts", help="Funded development accounts."),
    as_json: bool = typer.Option(False, "--json", help="Print the node's URL, PID and accounts as one JSON line."),
) -> None:
    """Run a local anvil node until Ctrl-C, then stop it cleanly.

    Its accounts are anvil's public development keys (the "test ... junk" mnemonic): never use them on a
    real network. Point other commands at it with --rpc-url http://127.0.0.1:PORT.

    Example: gridchain node --hardfork prague --port 8545
    """
    from gridchain.chain.anvil import start_anvil

    check_int("--port", port, 0, 65535)
    check_int("--accounts", accounts, 1, 1000)
    try:
        anvil = start_anvil(port=port or None, hardfork=str(hardfork), accounts=accounts)
    except (OSError, RuntimeError, TimeoutError) as e:
        raise InputError("--port", f"cannot start anvil on 127.0.0.1:{port}: {e}") from None
    from eth_account import Account

    info = {
        "url": anvil.url,
        "pid": anvil.pid,
        "hardfork": anvil.hardfork,
        "accounts": [{"address": Account.from_key(k).address, "private_key": k} for k in anvil.keys],
    }
    stop = threading.Event()  # handlers first: a Ctrl-C right after the announcement must still stop cleanly
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if as_json:
        print(json.dumps(info), flush=True)
    else:
        print(f"anvil {anvil.hardfork} at {anvil.url} (pid {anvil.pid}); Ctrl-C stops it", flush=True)
        for a in info["accounts"][:3]:
            print(f"  {a['address']}  key {a['private_key']}", flush=True)
        print(f"  ... {len(anvil.keys)} development accounts (public keys: never use them for real money)", flush=True)
    try:
        while not stop.wait(0.5):
            if anvil.process.poll() is not None:
                print(f"anvil exited with {anvil.process.returncode}", file=sys.stderr)
                raise typer.Exit(1)
    finally:
        anvil.stop()
    print("anvil stopped", file=sys.stderr)
