"""`gridchain escrow board serve` (the negotiation's message board, a daemon) and `gridchain escrow board health`;
`board_client`, the demo's way to a running board (its health asked first, so that a wrong URL is bad input)."""

from __future__ import annotations

import json
import os
import signal
import threading

import httpx
import typer

from gridchain.errors import InputError
from gridchain.ui.banner import STOPS, print_banner
from gridchain.ui.errors import bad_input_exits

DEFAULT_STORE = "sqlite:///state/board.db"
DEFAULT_PORT = 8712
board_app = typer.Typer(help="The negotiation's message board: listings and sealed envelopes.", no_args_is_help=True)


@board_app.command("serve")
@bad_input_exits
def serve(
    store_url: str = typer.Option(
        DEFAULT_STORE, "--store-url", help="The board's store (sqlite:///file.db or postgresql://...)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(DEFAULT_PORT, "--port", help="Port to listen on (0: any free port, printed at start)."),
    as_json: bool = typer.Option(False, "--json", help="Print the banner as one JSON line."),
) -> None:
    """Serve the message board (a daemon): public listings and sealed envelopes, never read.

    The board the buyers and sellers negotiate on (gridchain.escrow.negotiation): POST/GET
    /offers (public listings), POST/GET /mailboxes/<one-time key> (sealed envelopes of one size), GET /health
    (200 while the store answers, with the listings and envelopes held; else 503) and GET /metrics.

    It holds no key and reads no envelope; it checks what it can (a listing's fields, a key, an envelope's size)
    and keeps everything in the store, including what a hostile operator would log (each request's time,
    mailbox and size: table negotiation_observations), so a restart loses nothing. Prints a banner (its URL and
    PID), then one JSON line per change on stderr; SIGTERM or Ctrl-C stop it (exit 0). Parties should reach it
    over an anonymising transport (Tor, a mixnet): it sees their IP addresses otherwise (docs/escrow.md).

    Example: gridchain escrow board serve --store-url sqlite:///state/board.db --port 8712
    """
    from gridchain.escrow.negotiation.service.board import Board
    from gridchain.escrow.negotiation.service.http import board_app as http_app
    from gridchain.net.server import LoopbackServer
    from gridchain.store.engine import open_store

    if not 0 <= port <= 65535:
        raise InputError("--port", f"{port} is not a port (0 .. 65535)")
    store = open_store(store_url, "--store-url")
    try:
        board = Board(store)
        try:
            server = LoopbackServer(http_app(board), port, host)
        except (OSError, OverflowError, UnicodeError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise InputError("--port", f"cannot listen on {host}:{port}: {reason}") from None
        banner = {"service": "negotiation board", "url": server.url, "pid": os.getpid(), "store": store.url}
        print_banner(f"board at {server.url} (pid {banner['pid']}); {STOPS}", banner, as_json,
                     hide=("service", "url", "pid"))  # fmt: skip
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
        server.start()
        try:
            stop.wait()
        finally:
            server.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        store.close()
    typer.echo("negotiation board stopped", err=True)


@board_app.command("health")
@bad_input_exits
def health(
    board_url: str = typer.Option(f"http://127.0.0.1:{DEFAULT_PORT}", "--board-url", help="The board's URL."),
) -> None:
    """Ask a running board whether it is healthy (exit 0, 1 on 503, 2 if nothing answers).

    Ask a running board's GET /health: prints its answer (one JSON line); exit 0 when it is healthy, 1 when it
    answers 503, 2 when nothing answers there.

    Example: gridchain escrow board health --board-url http://127.0.0.1:8712
    """
    status, body = _health(board_url)
    typer.echo(json.dumps(body, sort_keys=True))
    if status != 200:
        raise typer.Exit(1)


def _health(url: str) -> tuple[int, dict]:
    from gridchain.net.server import loopback_client

    if not url.startswith(("http://", "https://")):
        raise InputError("--board-url", f"{url!r} is not an http:// or https:// URL")
    try:
        with loopback_client(url, timeout=5.0) as http:
            response = http.get("/health")
        body = response.json()
    except (httpx.HTTPError, ValueError) as e:
        raise InputError("--board-url", f"no board answers at {url!r}: {type(e).__name__}") from None
    if not isinstance(body, dict) or body.get("service") != "negotiation-board":
        raise InputError("--board-url", f"{url!r} is not a negotiation board (its /health says {str(body)[:60]})")
    return response.status_code, body


def board_client(url: str):
    """A client of the running board at `url` (an InputError naming --board-url if no healthy board answers)."""
    from gridchain.escrow.negotiation.service.http import BoardClient

    status, _ = _health(url)
    if status != 200:
        raise InputError("--board-url", f"the board at {url!r} is not healthy (/health answered {status})")
    return BoardClient(url)
