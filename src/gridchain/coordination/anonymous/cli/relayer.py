"""`gridchain relayer serve`: the relayer that submits anonymous requests and pays their gas, from gridchain.toml."""

from __future__ import annotations

from pathlib import Path

import typer

from gridchain.coordination.anonymous.cli.serve import serve
from gridchain.errors import InputError
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

relayer_app = typer.Typer(help="The relayer: submits anonymous requests and pays their gas.", no_args_is_help=True)
ACCOUNT = "relayer"  # the [accounts] entry that pays the gas
TICK_S = 0.25  # how often the flusher looks whether a flush is due
PROBE_S = 2.0  # /health's question to the node must be answered within this [s]


@relayer_app.command("serve")
@bad_input_exits
def relayerserve(
    config_file: Path = CONFIG,
    as_json: bool = typer.Option(False, "--json", help="Print the banner as one JSON line."),
) -> None:
    """Relay anonymous requests over HTTP at relayer.listen, for the coordinator of the deployment record,
    paying the gas from the relayer account (accounts.relayer).

    POST /requests is checked at once, like the contract will check it; a request for a slot that is over, or
    that ends within relayer.flush_margin_s, is refused naming `slot` (its ESU signs again for the next
    slot). GET /requests/<id> answers queued, submitted (with its arrival number) or failed (with the
    reason); ids are random, only the sender knows its own. Each slot's queue goes on chain flush_margin_s
    before the slot ends (or as soon as a batch of relayer.batch is full), each batch simulated first, so a
    request accepted for a slot lands in that slot. POST /flush (flush now) needs the admin token of
    relayer.admin_token_file.

    Durable: every acknowledged request is in the store ([store] url) before its 202, and every batch
    transaction is signed with an explicit nonce and stored before it is broadcast; at start the relayer
    migrates its tables, restores its tickets and reconciles unconfirmed batches with the chain (rebroadcast
    the same transaction, or find it mined, or re-check its requests). A flush waits up to
    relayer.receipt_timeout_s (default 60) for a receipt; a mined batch is read again until its block is
    relayer.confirmations deep (default 3: if the node lost that block, the same transaction goes again);
    failing flushes are retried with a doubling pause up to relayer.backoff_cap_s (default 30). /health
    answers 503 while the node does not answer or flushes fail. Logs one JSON line per settled request and per
    flush error on stderr; stops on SIGINT or SIGTERM (the flush in progress finishes; exit 0).

    Example: gridchain relayer serve --config pilot/gridchain.toml
    """
    from gridchain.config.file import config_path, load_config
    from gridchain.config.store import config_store
    from gridchain.coordination.anonymous.cli.config import relayer_settings
    from gridchain.coordination.anonymous.parties.relayer_store import RelayerStore
    from gridchain.store.lease import hold

    config = load_config(config_path(config_file))
    settings = relayer_settings(config)
    store = RelayerStore(config_store(config))  # a bad URL is refused before the node is asked anything
    try:
        with hold(store.store, "relayer", "store.url"):  # one relayer per store: two would sign the same requests
            _serve(config, settings, store, as_json)
    finally:
        store.store.close()


def _serve(config, settings, store, as_json: bool) -> None:
    """The relayer's service on `store` until SIGTERM (the caller holds the store's relayer lease)."""
    from gridchain.chain.locked import LockedGateway
    from gridchain.chain.rpc_gateway import ping
    from gridchain.config.network import connect
    from gridchain.config.record import checked_address, load_record
    from gridchain.coordination.anonymous.parties.relayer import Relayer
    from gridchain.coordination.anonymous.parties.relayer_submit import log_line
    from gridchain.coordination.anonymous.service.relayer import Flusher, relayer_app
    from gridchain.coordination.client import CoordinatorClient

    network = connect(config, [ACCOUNT])
    record = load_record(config, network.settings.chain_id)
    address = checked_address(record, "coordinator", network.gateway.code)
    gateway = LockedGateway(network.gateway)
    client = CoordinatorClient(gateway, address)
    slot_length = int(client.view("SLOT_LENGTH"))
    if settings.flush_margin_s >= slot_length:
        raise InputError(
            "relayer.flush_margin_s",
            f"{settings.flush_margin_s} s is not less than the coordinator's slot length ({slot_length} s)",
        )
    store.migrate()
    relayer = Relayer(
        client,
        network.address(ACCOUNT),
        batch_size=settings.batch,
        flush_margin_s=settings.flush_margin_s,
        store=store,
        receipt_timeout_s=settings.receipt_timeout_s,
        confirmations=settings.confirmations,
    )
    restored = relayer.restore()
    for ticket in relayer.reconcile():
        _log_settled(ticket)
    flusher = Flusher(
        relayer,
        TICK_S,
        aligned=True,
        on_settled=_log_settled,
        backoff_cap_s=settings.backoff_cap_s,
        log_line=log_line,
    ).start()
    banner = {
        "service": "relayer",
        "relayer": relayer.account,
        "coordinator": address,
        "batch": settings.batch,
        "flush_margin_s": settings.flush_margin_s,
        "flush": "admin token" if settings.admin_token else "disabled",
        "store": store.store.url,
        "restored": restored,
    }
    host, port = settings.listen
    try:
        app = relayer_app(relayer, settings.admin_token, flusher, lambda: ping(network.settings.rpc_url, PROBE_S))
        serve(app, port, banner, as_json, host, "relayer.listen")
    finally:
        flusher.stop()  # the flush in progress finishes first


def _log_settled(ticket) -> None:
    """One JSON line on stderr per request a flush settled (never its ticket id: that is the ESU's secret)."""
    from gridchain.coordination.anonymous.parties.relayer_submit import log_line

    line = {"event": "relayed", "slot": ticket.request.slot, "status": ticket.status, "arrival": ticket.arrival}
    line |= {"tx_hash": ticket.tx_hash} if ticket.tx_hash else {"reason": ticket.reason}
    log_line(line)
