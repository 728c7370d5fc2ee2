"""`gridchain v2v provider serve`: a provider EV as a daemon: it bids, serves the trade's protocol over HTTP on its
[v2v.listen] address, and settles. Banner first on stdout, then one JSON line per action on stdout; SIGTERM or
SIGINT stop it cleanly (exit 0). Its sessions, receipts, bids and settlements are in the deployment's store.

`GRIDCHAIN_TEST_V2V_PROVIDER_KILL=after-settle-sent` (a test hook, never set in operation) makes it SIGKILL itself
right after a settle transaction is sent, before its outcome is stored."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import typer

from gridchain.checks import check_int
from gridchain.errors import InputError
from gridchain.ui.banner import STOPS, print_banner
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits
from gridchain.v2v.cli.common import EV, JSON, TWEI, admitted, open_v2v

KILL_HOOK = "GRIDCHAIN_TEST_V2V_PROVIDER_KILL"
provider_app = typer.Typer(help="A provider EV: bid in auctions, deliver energy, settle.", no_args_is_help=True)


def log(entry: dict) -> None:
    sys.stdout.write(json.dumps({"t": round(time.time(), 3), **entry}) + "\n")
    sys.stdout.flush()


@provider_app.command("serve")
@bad_input_exits
def serve(
    ev: str = EV,
    config_file: Path = CONFIG,
    rate_wei_per_kwh: int = typer.Option(
        200 * TWEI, "--rate-wei-per-kwh", help="Reserve rate: the least it sells at [wei/kWh]."
    ),
    capacity_wh: int = typer.Option(
        50_000, "--capacity-wh", help="The most energy it commits to at once (auctions it leads or won) [Wh]."
    ),
    step_pm: int = typer.Option(
        50, "--step-pm", help="How far below the current rate it bids, per mille (1000: its reserve at once)."
    ),
    as_json: bool = JSON,
) -> None:
    """Run provider EV --ev: watch for auctions, underbid those it can serve down to its reserve rate, answer
    the winner's consumer over HTTP (authentication, delivery against signed receipts), settle on chain once
    the receipts cover the trade (or shortly before the token expires), and withdraw outbid collateral.

    It listens on its address in the v2v.listen table, which `gridchain v2v register` announced on chain;
    GET /health there answers 503 when its node does not answer or its loop has failed 5 steps in a row.
    Prints a banner (its URL and PID), then one JSON line per action on stdout. SIGTERM or Ctrl-C stop it.

    Durable: every session, delivery and receipt is stored before it is acknowledged, in the deployment's store
    ([store] url, default sqlite:///state/gridchain.db next to the config; tables v2v_provider_*, keyed by the
    provider's address). A restart (after a crash too) takes them back, lets the consumer go on with its
    session, and settles each trade once: a settlement sent before the restart is checked on chain first.

    Example: gridchain v2v provider serve --ev p1 --rate-wei-per-kwh 150000000000000 --config pilot/gridchain.toml
    """
    from gridchain.chain.locked import LockedGateway
    from gridchain.config.store import config_store
    from gridchain.net.health import Health, node_check
    from gridchain.net.server import LoopbackServer
    from gridchain.v2v.client import V2VClient
    from gridchain.v2v.parties import ProviderEV
    from gridchain.v2v.parties.book import EventReader
    from gridchain.v2v.parties.provider import BidPolicy, ProviderDaemon
    from gridchain.v2v.parties.provider_store import SCHEMA, ProviderStore
    from gridchain.v2v.service import provider_app as http_app

    check_int("--rate-wei-per-kwh", rate_wei_per_kwh, 1, 2**80 - 1)
    check_int("--capacity-wh", capacity_wh, 1, 2**64 - 1)
    check_int("--step-pm", step_pm, 1, 1000)
    v = open_v2v(config_file, ev)
    if ev not in v.settings.listen:
        raise InputError(f"v2v.listen.{ev}", "is not configured: a provider needs an address to serve on")
    address = admitted(v, ev)
    url = v.settings.url(ev)
    announced = v.client.announced(address, v.deployed_block)
    chain = LockedGateway(v.network.gateway)  # the HTTP service answers from its own thread
    client = V2VClient(chain, v.client.address, v.client.artifact)
    store = config_store(v.config)
    store.migrate(SCHEMA)
    journal = ProviderStore(store, address)
    provider = ProviderEV(client, v.key, v.settings.increment_wh, journal=journal)
    host, port = v.settings.listen[ev]
    health = Health({"node": node_check(v.network.settings.rpc_url)})
    try:
        server = LoopbackServer(http_app(provider, chain.now, health), port, host)
    except OSError as e:
        raise InputError(f"v2v.listen.{ev}", f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    reader = EventReader(client, v.deployed_block, v.network.settings.confirmations)
    daemon = ProviderDaemon(provider, reader, BidPolicy(rate_wei_per_kwh, capacity_wh, step_pm), log, store=journal)
    health.add("loop", daemon.health)
    if os.environ.get(KILL_HOOK) == "after-settle-sent":
        daemon.on_settle_sent = lambda _token: os.kill(os.getpid(), signal.SIGKILL)
    restored = daemon.restore()
    banner = {
        "service": "v2v provider",
        "ev": ev,
        "address": address,
        "url": url,
        "pid": os.getpid(),
        "contract": client.address,
        "reserve_wei_per_kwh": rate_wei_per_kwh,
        "capacity_wh": capacity_wh,
        "store": store.url,
    }
    title = f"v2v provider {ev} at {url} (pid {banner['pid']}); {STOPS}"
    print_banner(title, banner, as_json, hide=("service", "ev", "url", "pid"))
    if announced != url:
        log(
            {
                "action": "warning",
                "reason": f"the chain announces {announced!r} for {ev}, not {url!r}: "
                f"consumers will not find it (run `gridchain v2v register --ev {ev}`)",
            }
        )
    log({"action": "restored", **restored})
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    reader.catch_up()  # the auctions open now, before the first bid
    server.start()
    try:
        daemon.run(stop, v.settings.poll_s)
    finally:
        server.stop()
        store.close()
        log({"action": "stopped"})
