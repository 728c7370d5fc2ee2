"""`gridchain verify`: recompute a slot's schedule from the chain and report any mismatch."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.ui.chain_options import RPC_URL, rpc_gateway
from gridchain.ui.errors import bad_input_exits

EXIT_MISMATCH = 1


@bad_input_exits
def verify(
    slot: int = typer.Option(..., "--slot", help="Slot to verify (every slot before it is recomputed too)."),
    address: str = typer.Option(..., "--address", envvar="GRIDCHAIN_COORDINATOR", help="Coordinator address."),
    rpc_url: str = RPC_URL,
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as one JSON object."),
) -> None:
    """Check a slot's schedule yourself: rebuild its requests from the chain, recompute, compare.

    Reads the submissions, capacity postings, closes and expiries the coordinator recorded, recomputes every
    slot up to --slot with gridchain's core (trusting nothing the keeper computed), and compares the result
    with the SlotClosed event, the expiry events and the close transaction's calldata. Exit code 0: the
    schedule is right; 1: it differs (each difference is printed); 2: bad input.

    Example: gridchain verify --slot 3 --address 0x5FbDB2315678afecb367f032d93F642f64180aa3 --rpc-url http://127.0.0.1:8545
    """
    from eth_utils import is_address, to_checksum_address

    from gridchain.chain.gateway import ChainRevert
    from gridchain.coordination.client import CoordinatorClient
    from gridchain.coordination.parties.verifier import verify as verify_slot

    check_int("--slot", slot, 0, 2**64 - 1)
    if not is_address(address):
        raise InputError("--address", f"{address!r} is not an address")
    if not rpc_url:
        raise InputError("--rpc-url", "needed: the embedded chain lives only inside one process")
    client = CoordinatorClient(rpc_gateway(rpc_url, None, 1), to_checksum_address(address))
    try:
        verdict = verify_slot(client, slot)
    except ChainRevert as e:
        raise InputError("--address", f"{address} does not answer as a coordinator ({e.reason})") from None
    result = verdict.result
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "slot": slot,
                    "ok": verdict.ok,
                    "mismatches": list(verdict.mismatches),
                    "allocations": [a.to_dict() for a in result.schedule.allocations] if result else [],
                }
            )
            + "\n"
        )
    else:
        console = Console()
        if result is not None:
            table = Table(title=f"Slot {slot} recomputed ({result.schedule.capacity_w / 1000:g} kW)")
            for col in ("request", "granted kW", "status", "priority", "rank"):
                table.add_column(col, justify="right")
            for a in result.schedule.allocations:
                table.add_row(a.id, f"{a.granted_w / 1000:g}", str(a.status), str(a.priority), str(a.rank))
            console.print(table)
        if verdict.ok:
            console.print(f"[green]slot {slot}: the schedule on chain is the one the rule gives[/green]")
        for m in verdict.mismatches:
            console.print(f"[red]MISMATCH[/red] {m}")
    if not verdict.ok:
        raise typer.Exit(EXIT_MISMATCH)
