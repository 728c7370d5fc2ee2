"""`gridchain market verify RECORD.json`: anyone's check of a committed PETCON result, off chain and on.

Off chain (`petcon.audit.audit`): constraints, weak budget balance in dollars and in the entries' integers, the
final round's KKT conditions, the entries against the record, the digest. With --rpc-url and --committee: the
digest the LAG committee attested for the auction's round. Exit 0 when all hold, 1 listing the violations, 2 on
bad input (one line naming the field).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gridchain.checks import parse_address
from gridchain.errors import InputError
from gridchain.ui.chain_options import RPC_URL
from gridchain.ui.console import emit
from gridchain.ui.errors import bad_input_exits

EXIT_VIOLATIONS = 1


def read_document(path: Path) -> dict:
    """The JSON document at `path`; InputError naming RECORD for an unreadable file or bad JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError("RECORD", f"cannot read {str(path)!r}: {e.strerror or e}") from None
    except ValueError as e:
        raise InputError("RECORD", f"{str(path)!r} is not JSON: {e}") from None


def attested_violations(rpc_url: str, committee: str, document: dict) -> list[str]:
    """Whether the committee at `committee` attested the document's digest for its round."""
    from gridchain.chain.rpc_gateway import reach
    from gridchain.committee.client import CommitteeClient, kind_of
    from gridchain.market.petcon.result import KIND

    gateway = reach(rpc_url, [], "--rpc-url")
    held = "0x" + CommitteeClient(gateway, committee).attested(kind_of(KIND), document["round"]).hex()
    if held == document["digest"]:
        return []
    if held == "0x" + "00" * 32:
        return [f"attested: the committee {committee} attested nothing for round {document['round']}"]
    return [f"attested: the committee holds {held} for round {document['round']}, not {document['digest']}"]


@bad_input_exits
def verify(
    record: Path = typer.Argument(..., help="The published document (gridchain petcon demo writes one)."),
    rpc_url: str = RPC_URL,
    committee: str = typer.Option(None, "--committee", help="The LAG committee's address (with --rpc-url)."),
    as_json: bool = typer.Option(False, "--json", help="Print {ok, violations, digest} as one JSON object."),
) -> None:
    """Check a committed PETCON result: constraints, budget balance, the final round's KKT conditions, the
    digest; with --rpc-url and --committee, the digest the committee attested on chain.

    Example: gridchain market verify results/petcon/petcon_demo_6b8s_s0_unanimous.json
    """
    from gridchain.market.petcon.audit import audit

    if committee is not None:
        committee = parse_address("--committee", committee)
        if not rpc_url:
            raise InputError("--committee", "needs --rpc-url (the chain the committee lives on)")
    document = read_document(record)
    violations = audit(document)
    if committee is not None:
        violations += attested_violations(rpc_url, committee, document)
    lines = ["ok: every check holds"] if not violations else [f"violation: {v}" for v in violations]
    emit(as_json, {"ok": not violations, "violations": violations, "digest": document.get("digest")}, lines)
    if violations:
        raise typer.Exit(EXIT_VIOLATIONS)
