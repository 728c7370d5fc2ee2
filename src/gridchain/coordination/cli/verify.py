"""`gridchain verify`: recompute slots' schedules from the chain and report any mismatch or unclosed slot."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import typer
from rich.table import Table

from gridchain.checks import check_int, check_seconds_within
from gridchain.errors import InputError
from gridchain.ui.chain_options import RPC_URL, rpc_gateway
from gridchain.ui.config_options import CONFIG
from gridchain.ui.console import console
from gridchain.ui.errors import bad_input_exits

EXIT_MISMATCH = 1
EXIT_NOT_CLOSED = 3
MAX_SLOTS = 100_000  # slots one run verifies
MAX_WAIT_S, WAIT_POLL_S = 86_400, 2.0  # --wait: at most a day, looking every 2 s
OK, MISMATCH, NOT_CLOSED = "ok", "mismatch", "not yet closed"


@bad_input_exits
def verify(
    slots: str = typer.Option(None, "--slots", help="Slots to verify, A..B (both included), e.g. 0..23."),
    slot: int = typer.Option(None, "--slot", help="One slot to verify, with its allocations."),
    config_file: Path = CONFIG,
    address: str = typer.Option(
        None, "--address", envvar="GRIDCHAIN_COORDINATOR", help="A coordinator's address (instead of --config)."
    ),
    rpc_url: str = RPC_URL,
    wait_s: float = typer.Option(
        0, "--wait", help="Wait up to this many seconds for the slots to close (scripts: verify what is due)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the verdicts as one JSON object."),
    from_index: bool = typer.Option(
        False, "--from-index", help="Read the events from the deployment's index (gridchain index run), not the node."
    ),
) -> None:
    """Check slots' schedules yourself: rebuild their requests from the chain, recompute, compare.

    Reads the submissions, capacity postings, closes and expiries the coordinator recorded (once, however
    many slots), recomputes every slot up to the last one asked for with gridchain's core (trusting nothing
    the keeper computed), and compares the result with the SlotClosed events, the expiry events and the close
    transactions' calldata. The coordinator is the deployment's (--config), or --address on --rpc-url.
    With --from-index the events come from the deployment's store, as far as `gridchain index run` has read
    (a slot it has not reached is not yet closed); views and calldata still come from the node.
    Exit code 0: every schedule is right; 1: one differs (each difference is printed); 2: bad input; 3: no
    mismatch, but a slot is not closed yet.

    Example: gridchain verify --config pilot/gridchain.toml --slots 0..23
    """
    from gridchain.chain.events import ChainReorganized
    from gridchain.chain.gateway import ChainRevert
    from gridchain.coordination.parties.verifier import verify_range

    first, last = _range(slots, slot)
    check_seconds_within("--wait", wait_s, MAX_WAIT_S)
    if from_index and address is not None:
        raise InputError("--from-index", "reads the deployment's index: give --config, not --address")
    client, field = _client(config_file, address, rpc_url)
    attach = _index_history(client, config_file) if from_index else lambda: None
    attach()
    deadline = time.monotonic() + wait_s
    while True:
        try:
            try:
                verdicts = verify_range(client, first, last)
            except ChainReorganized:  # the chain changed under the read: read it once more, afresh
                client.reset_history()
                attach()
                verdicts = verify_range(client, first, last)
        except ChainRevert as e:
            raise InputError(field, f"{client.address} does not answer as a coordinator ({e.reason})") from None
        if all(v.result is not None for v in verdicts) or time.monotonic() >= deadline:
            break
        time.sleep(min(WAIT_POLL_S, max(0.0, deadline - time.monotonic())))
    rows = [_row(v) for v in verdicts]
    if as_json:
        _print_json(rows, verdicts, slot)
    else:
        _print(rows, verdicts, slot is not None)
    verdict_set = {r["verdict"] for r in rows}
    if MISMATCH in verdict_set:
        raise typer.Exit(EXIT_MISMATCH)
    if NOT_CLOSED in verdict_set:
        raise typer.Exit(EXIT_NOT_CLOSED)


def _range(slots: str | None, slot: int | None) -> tuple[int, int]:
    """The slots asked for: --slots A..B or --slot N (exactly one of them)."""
    if slots is not None and slot is not None:
        raise InputError("--slots", "give --slots or --slot, not both")
    if slot is not None:
        check_int("--slot", slot, 0, 2**64 - 1)
        return slot, slot
    if slots is None:
        raise InputError("--slots", "needed: the slots to verify, A..B (or --slot N)")
    match = re.fullmatch(r"\s*(\d+)\s*\.\.\s*(\d+)\s*", slots)
    if match is None:
        raise InputError("--slots", f"{slots!r} is not A..B (two slot numbers, e.g. 0..23)")
    first, last = int(match[1]), int(match[2])
    if first > last:
        raise InputError("--slots", f"{slots!r} is empty: {first} comes after {last}")
    if last - first >= MAX_SLOTS:
        raise InputError("--slots", f"{slots!r} holds {last - first + 1} slots, more than {MAX_SLOTS}")
    return first, last


def _client(config_file: Path | None, address: str | None, rpc_url: str | None):
    """The coordinator to verify and the option naming it: --address on --rpc-url, else the deployment's."""
    from eth_utils import is_address, to_checksum_address

    from gridchain.coordination.client import CoordinatorClient

    if address is None:
        from gridchain.config.file import config_path, load_config
        from gridchain.coordination.cli.connect import coordinator

        return coordinator(load_config(config_path(config_file)))[1], "deployment.coordinator"
    if not is_address(address):
        raise InputError("--address", f"{address!r} is not an address")
    if not rpc_url:
        raise InputError("--rpc-url", "needed with --address: the embedded chain lives only inside one process")
    gateway = rpc_gateway(rpc_url, None, 1)
    address = to_checksum_address(address)
    if not gateway.code(address):
        raise InputError("--address", f"no contract at {address} on {rpc_url}")
    return CoordinatorClient(gateway, address), "--address"


def _index_history(client, config_file: Path | None):
    """A function that points the client's history at the deployment's index (again after a reset)."""
    from gridchain.config.file import config_path, load_config
    from gridchain.config.store import config_store
    from gridchain.coordination.client import HISTORY
    from gridchain.index.reader import IndexedLog, IndexReader
    from gridchain.index.tables import SCHEMA
    from gridchain.store.migrate import revision

    store = config_store(load_config(config_path(config_file)))
    reader = IndexReader(store)
    checkpoint = reader.checkpoint("coordinator") if revision(store, SCHEMA) is not None else None
    if checkpoint is None or checkpoint.address != client.address:
        raise InputError("--from-index", "the index holds no events of this coordinator: run `gridchain index run`")

    def attach() -> None:
        client.log = IndexedLog(reader, "coordinator", client.artifact, HISTORY, client.gateway)

    return attach


def _row(verdict) -> dict:
    if verdict.result is None:
        return {"slot": verdict.slot, "verdict": NOT_CLOSED, "mismatches": []}
    event = verdict.result.event()
    return {
        "slot": verdict.slot,
        "verdict": OK if verdict.ok else MISMATCH,
        "requests": event["requests"],
        "scheduled": event["scheduled"],
        "capacity_w": event["capacity_w"],
        "granted_w": event["granted_w"],
        "mismatches": list(verdict.mismatches),
    }


def _print_json(rows: list[dict], verdicts, slot: int | None) -> None:
    if slot is not None:  # one slot: its verdict and allocations
        result = verdicts[0].result
        allocations = [a.to_dict() for a in result.schedule.allocations] if result else []
        out = {**rows[0], "ok": rows[0]["verdict"] == OK, "allocations": allocations}
    else:
        counts = {v: sum(r["verdict"] == v for r in rows) for v in (OK, MISMATCH, NOT_CLOSED)}
        out = {"first": rows[0]["slot"], "last": rows[-1]["slot"], "ok": counts[OK] == len(rows), "counts": counts}
        out["slots"] = rows
    typer.echo(json.dumps(out))


def _print(rows: list[dict], verdicts, allocations: bool) -> None:
    out = console()
    result = verdicts[0].result
    if allocations and result is not None:
        table = Table(title=f"Slot {verdicts[0].slot} recomputed ({result.schedule.capacity_w / 1000:g} kW)")
        for col in ("request", "granted kW", "status", "priority", "rank"):
            table.add_column(col, justify="right")
        for a in result.schedule.allocations:
            table.add_row(a.id, f"{a.granted_w / 1000:g}", str(a.status), str(a.priority), str(a.rank))
        out.print(table)
    summary = Table(title=f"Slots {rows[0]['slot']}..{rows[-1]['slot']} verified against the chain")
    for col in ("slot", "verdict", "requests", "scheduled", "capacity kW", "granted kW"):
        summary.add_column(col, justify="left" if col == "verdict" else "right")
    for r in rows:
        if r["verdict"] == NOT_CLOSED:
            summary.add_row(str(r["slot"]), r["verdict"])
        else:
            numbers = [str(r["requests"]), str(r["scheduled"]), _kw(r["capacity_w"]), _kw(r["granted_w"])]
            summary.add_row(str(r["slot"]), r["verdict"], *numbers)
    out.print(summary)
    for r in rows:
        for m in r["mismatches"]:
            out.print(f"[red]MISMATCH[/red] {m}", soft_wrap=True)
    counts = {v: sum(r["verdict"] == v for r in rows) for v in (OK, MISMATCH, NOT_CLOSED)}
    if counts[OK] == len(rows):
        out.print(f"[green]{len(rows)} slot(s): every schedule on chain is the one the rule gives[/green]")
    else:
        out.print(", ".join(f"{n} {v}" for v, n in counts.items() if n), soft_wrap=True)


def _kw(watts: int) -> str:
    return f"{watts / 1000:g}"
