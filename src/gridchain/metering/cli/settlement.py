"""After the sessions: `gridchain metering anchor` (the gateway) and `settle` (the host), from what the central
system (`gridchain ocpp serve`) handed over in ocpp.sessions."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.cli.chain import contract_refusals, emit, eth, open_metering, read_config
from gridchain.metering.cli.config import GATEWAY, HOST, ocpp
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

JSON = typer.Option(False, "--json", help="Print the result as one JSON object.")


def read_sessions(path: Path) -> dict:
    """The central system's sessions file; an error naming ocpp.sessions if it is missing or not one."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(
            "ocpp.sessions", f"{str(path)!r} does not exist (is `gridchain ocpp serve` running?)"
        ) from None
    except (OSError, ValueError) as e:
        raise InputError("ocpp.sessions", f"cannot read {str(path)!r}: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("sessions"), list):
        raise InputError("ocpp.sessions", f"{str(path)!r} is not a central system's sessions file")
    return data


@bad_input_exits
def anchor(
    archive: Path = typer.Option(None, "--archive", help="Also write the readings archive (for `meter prove`)."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Anchor the charge points' signed readings: one Merkle root per meter and finished day.

    As accounts.gateway, from ocpp.sessions. Days not over yet, or already anchored, are listed and left.

    Example: gridchain metering anchor --config pilot/gridchain.toml --archive readings.json
    """
    from gridchain.metering.parties import MeterGateway
    from gridchain.metering.service import reading_from_json

    config = read_config(config_file)
    data = read_sessions(ocpp(config).sessions_file)
    try:
        readings = [reading_from_json(r) for r in data.get("readings", [])]
    except (KeyError, TypeError, ValueError) as e:
        raise InputError("ocpp.sessions", f"a reading is malformed ({type(e).__name__}: {e})") from None
    d = open_metering(config, [GATEWAY])
    gateway = MeterGateway(d.client, d.address(GATEWAY), _metering_store(config))
    gateway.restore()
    fresh = [
        r for r in readings if (r.reading.meter.lower(), r.reading.interval_start // m.PERIOD_S) not in gateway.anchored
    ]
    kept = gateway.collect(fresh) + len(readings) - len(fresh)
    today = d.network.gateway.now() // m.PERIOD_S
    rows = []
    for meter, day in sorted(gateway.readings):
        count = len(gateway.readings[(meter, day)])
        if day >= today:
            rows.append({"meter": meter, "day": day, "readings": count, "status": "day not over"})
        elif (meter, day) in gateway.anchored or d.client.root(meter, day) is not None:
            rows.append({"meter": meter, "day": day, "readings": count, "status": "already anchored"})
        else:
            with contract_refusals():
                receipt = gateway.anchor(meter, day)
            rows.append({"meter": meter, "day": day, "readings": count, "status": "anchored", "gas": receipt.gas_used})
    if archive is not None:
        from gridchain.crypto.keystore import write_private

        write_private(archive, json.dumps(gateway.archive(), indent=1) + "\n")
    lines = [f"{'meter':<44} {'day':>6} {'readings':>8}  status"]
    lines += [f"{r['meter']:<44} {r['day']:>6} {r['readings']:>8}  {r['status']}" for r in rows]
    lines.append(f"{kept} of {len(readings)} signed readings kept (signed by their meter)")
    emit(as_json, {"kept": kept, "received": len(readings), "anchors": rows}, lines)


def _metering_store(config):
    """Metering's tables in the deployment's store (migrated)."""
    from gridchain.config.store import config_store
    from gridchain.metering.parties_store import MeteringStore

    return MeteringStore.open(config_store(config))


def _not_settled_before(d, sessions, session, transaction_id: int) -> None:
    """Refuse a session the store says settled, or whose settlement a killed run sent and the chain confirms
    (then recorded as settled): a session is settled once."""
    row = sessions.session(session)
    if row is not None and row.state == "settling":
        found = d.client.settlement_of(session, d.from_block)
        if found is not None:
            sessions.put_session(replace(row, state="settled", tx_hash=found[1]))
            row = sessions.session(session)
    if row is not None and row.state == "settled":
        raise InputError("--transaction", f"{transaction_id} is settled already (transaction {row.tx_hash})")


def _session(data: dict, transaction_id: int) -> dict:
    found = [s for s in data["sessions"] if s.get("transaction_id") == transaction_id]
    if not found:
        known = ", ".join(str(s.get("transaction_id")) for s in data["sessions"]) or "none"
        raise InputError("--transaction", f"{transaction_id} is no finished transaction (finished: {known})")
    if "error" in found[0]:
        raise InputError("--transaction", f"{transaction_id} cannot settle: {found[0]['error']}")
    return found[0]


@bad_input_exits
def settle(
    transaction_id: int = typer.Option(..., "--transaction", help="The central system's transaction id."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Settle a finished roaming session on chain, billed to the EV's owner (as accounts.host).

    Its energy is priced at the tariff in force per interval and paid from the EV owner's reservation and
    escrow to the host; the rest of the reservation returns to the escrow.

    The settlement is recorded in the deployment's store before it is sent and after it is mined, so a session
    is settled once, even if this command is killed and run again.

    Example: gridchain metering settle --transaction 1 --config pilot/gridchain.toml
    """
    from gridchain.metering.parties_store import SessionRow
    from gridchain.metering.service import id_tag_of, signed_session_from_json

    config = read_config(config_file)
    entry = _session(read_sessions(ocpp(config).sessions_file), transaction_id)
    try:
        session = signed_session_from_json(entry)
    except (KeyError, TypeError, ValueError) as e:
        raise InputError("ocpp.sessions", f"transaction {transaction_id} is malformed ({type(e).__name__})") from None
    d = open_metering(config, [HOST])
    sessions = _metering_store(config)
    sid = session.reading.session
    _not_settled_before(d, sessions, sid, transaction_id)
    row = SessionRow(sid, session.start, session.ev_signature, id_tag_of(session.start.ev), "settling", transaction_id)
    sessions.put_session(row)  # the intent, before the transaction
    try:
        with contract_refusals():
            s, receipt = d.client.settle_session(d.address(HOST), session)
    except InputError:  # the contract refused it: nothing was settled
        sessions.put_session(replace(row, state="pending"))
        raise
    sessions.put_session(replace(row, state="settled", tx_hash=receipt.tx_hash))
    out = {
        "transaction_id": transaction_id,
        "session": "0x" + s.session.hex(),
        "payer": s.payer,
        "host": s.host,
        "first_interval": s.first_interval,
        "intervals": s.intervals,
        "energy_wh": s.energy_wh,
        "cost_wei": s.cost_wei,
        "paid_wei": s.paid_wei,
        "unpaid_wei": s.unpaid_wei,
        "gas": receipt.gas_used,
    }
    emit(
        as_json,
        out,
        [
            f"transaction {transaction_id} settled: {s.intervals} intervals, {s.energy_wh:,} Wh, "
            f"cost {eth(s.cost_wei)}",
            f"  paid {eth(s.paid_wei)}" + (f", unpaid {eth(s.unpaid_wei)}" if s.unpaid_wei else ""),
            f"  by {s.payer} (the EV's owner)",
            f"  to {s.host} (the host)",
        ],
    )
