"""`gridchain node`: a local development chain (anvil from the npm package) on 127.0.0.1.

With `--block-time` the chain mines on a timer, so its clock follows the wall clock (slots end while nobody
sends a transaction); with `--state` it loads the chain from a file at start and saves it there when it stops
(SIGTERM or Ctrl-C), so a pilot's deployment survives a restart, and every `--state-interval` seconds while it
runs, so a SIGKILL loses only the last second or so of blocks (the last complete dump is kept beside the file:
`chain.anvil_state`). Killing this command kills its anvil too (it dies with its parent).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from enum import StrEnum
from pathlib import Path

import typer

from gridchain.chain.anvil_state import StateBackup, backup_of, restore
from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.ui.banner import STOPS, print_banner
from gridchain.ui.errors import bad_input_exits

Hardfork = StrEnum("Hardfork", {"prague": "prague", "osaka": "osaka"})
MAX_BLOCK_TIME_S = 3600


@bad_input_exits
def node(
    port: int = typer.Option(8545, "--port", help="Port on 127.0.0.1 (0: any free port)."),
    hardfork: Hardfork = typer.Option(
        "prague", "--hardfork", help="prague matches the embedded chain (py-evm); osaka adds EIP-7825's gas cap."
    ),
    accounts: int = typer.Option(10, "--accounts", help="Funded development accounts."),
    block_time: int = typer.Option(
        0, "--block-time", help="Mine a block every N seconds, so chain time follows the clock (0: one per tx)."
    ),
    state: Path | None = typer.Option(
        None,
        "--state",
        help="Load the chain from this file at start (if it exists); save it there at exit and every --state-interval.",
    ),
    state_interval: int = typer.Option(
        1,
        "--state-interval",
        help="With --state: save it every N seconds too, so a SIGKILL loses at most the last N (0: at exit only).",
    ),
    chain_id: int = typer.Option(31337, "--chain-id", help="Chain id (anvil's dev keys are refused off 31337)."),
    as_json: bool = typer.Option(False, "--json", help="Print the banner (URL, PIDs, accounts) as one JSON line."),
) -> None:
    """Run a local anvil node until Ctrl-C or SIGTERM, then stop it cleanly (saving --state).

    Its accounts are anvil's public development keys (the "test ... junk" mnemonic): never use them on a
    real network. The banner (stdout) gives the URL and PIDs; a JSON line on stderr says when it stopped.

    Example: gridchain node --state node-state.json --block-time 1 --port 8545
    """
    check_int("--port", port, 0, 65535)
    check_int("--accounts", accounts, 1, 1000)
    check_int("--block-time", block_time, 0, MAX_BLOCK_TIME_S)
    check_int("--chain-id", chain_id, 1, 2**63 - 1)
    check_int("--state-interval", state_interval, 0, MAX_BLOCK_TIME_S)
    backup = _prepare_state(state, state_interval) if state is not None else None
    anvil = _start(port, str(hardfork), accounts, block_time, state, chain_id, state_interval)
    stop = threading.Event()  # handlers first: a Ctrl-C right after the announcement must still stop cleanly
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    _banner(anvil, block_time, state, chain_id, as_json, state_interval)
    try:
        while not stop.wait(0.5):
            if backup is not None:
                backup.check()
            if anvil.process.poll() is not None:
                _log("exited", anvil_pid=anvil.pid, returncode=anvil.process.returncode)
                raise typer.Exit(1)
    finally:
        anvil.stop()  # SIGTERM: anvil dumps its state before it exits
        if backup is not None:
            backup.check()
    saved = state is not None and state.is_file()
    _log("stopped", anvil_pid=anvil.pid, state=str(state) if state else None, saved=saved)
    if state is not None and not saved:
        print(f"error: --state: anvil did not write {str(state)!r} at exit", file=sys.stderr)
        raise typer.Exit(1)


def _prepare_state(state: Path, interval: int) -> StateBackup | None:
    """Check the state file, put its last complete dump back if a kill cut it short; its backup keeper."""
    _check_state_file(state)
    if restore(state):
        _log("restored", state=str(state), backup=str(backup_of(state)))
    return StateBackup(state) if interval else None


def _check_state_file(state: Path) -> None:
    """The state file must be writable at exit (anvil fails silently there) and, if it exists, readable."""
    folder = state.parent if str(state.parent) else Path(".")
    if state.is_dir():
        raise InputError("--state", f"{str(state)!r} is a folder, not a file")
    if not folder.is_dir():
        raise InputError("--state", f"folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError("--state", f"folder {str(folder)!r} is not writable")
    if state.exists() and not os.access(state, os.R_OK | os.W_OK):
        raise InputError("--state", f"{str(state)!r} is not readable and writable")


def _start(port: int, hardfork: str, accounts: int, block_time: int, state: Path | None, chain_id: int, interval: int):
    """Start anvil; a port in use, or anvil's early exit, is bad input naming the option at fault."""
    from gridchain.chain.anvil import start_anvil

    try:
        return start_anvil(
            port=port or None,
            hardfork=hardfork,
            accounts=accounts,
            block_time=block_time or None,
            state=state,
            chain_id=chain_id,
            state_interval=interval if state is not None else None,
        )
    except OSError as e:
        raise InputError("--port", f"{e.strerror or e}: choose another port (0: any free port)") from None
    except (RuntimeError, TimeoutError) as e:
        text = str(e)
        if "Address already in use" in text:
            raise InputError("--port", f"127.0.0.1:{port} is in use: choose another port (0: any free port)") from None
        if state is not None and "--state" in text:
            raise InputError("--state", f"anvil cannot load {str(state)!r} (not an anvil state file?)") from None
        raise InputError("--port", f"anvil did not start on 127.0.0.1:{port}: {text.splitlines()[0][:200]}") from None


def _banner(anvil, block_time: int, state: Path | None, chain_id: int, as_json: bool, interval: int) -> None:
    from eth_account import Account

    info = {
        "url": anvil.url,
        "pid": anvil.pid,
        "gridchain_pid": os.getpid(),
        "hardfork": anvil.hardfork,
        "chain_id": chain_id,
        "block_time_s": block_time,
        "state": str(state) if state else None,
        "state_interval_s": interval if state else None,
        "accounts": [{"address": Account.from_key(k).address, "private_key": k} for k in anvil.keys],
    }
    mining = f"a block every {block_time} s" if block_time else "a block per transaction"
    text = {
        "pid": info["gridchain_pid"],
        "anvil_pid": anvil.pid,
        "chain_id": chain_id,
        "mining": mining,
        "state": f"{state} (at exit and every {interval} s)" if state and interval else state or "not saved",
        "accounts": f"{len(anvil.keys)} funded, the first {info['accounts'][0]['address']}",
    }
    title = f"anvil {anvil.hardfork} at {anvil.url}; {STOPS}"
    notes = ["the accounts' keys are public (--json): never use them for real money"]
    print_banner(title, info if as_json else text, as_json, notes=notes)


def _log(event: str, **fields: object) -> None:
    """One JSON line per event, on stderr (stdout holds the banner only)."""
    print(json.dumps({"event": event, **fields}), file=sys.stderr, flush=True)
