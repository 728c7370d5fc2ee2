"""What the anonymous mode's two loopback services share: serve an app in the foreground with a banner."""

from __future__ import annotations

import json
import signal

import typer

from gridchain.errors import InputError

PORT_HELP = "Port on 127.0.0.1 (0: any free port, printed at start)."


def serve(app, port: int, banner: dict, as_json: bool, host: str = "127.0.0.1", field: str = "--port") -> None:
    """Serve `app` on host:port in the foreground until SIGINT or SIGTERM (then return: exit 0), after printing
    the banner (with the URL and PID) on stdout; a port in use is an InputError naming `field`."""
    import os

    import uvicorn

    from gridchain.net.server import LoopbackServer

    try:
        server = LoopbackServer(app, port, host)
    except OSError as e:
        raise InputError(field, f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    banner = {**banner, "pid": os.getpid()}
    info = {**banner, "url": server.url}
    signal.signal(signal.SIGTERM, _interrupt)  # until uvicorn takes over: a SIGTERM stops as cleanly as Ctrl-C
    try:
        typer.echo(
            json.dumps(info) if as_json else "  ".join(f"{k}: {v}" for k, v in info.items()) + "  (Ctrl-C stops)"
        )
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[server._socket])
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the Ctrl-C it caught
        pass
    finally:
        server._socket.close()
    typer.echo(f"{banner['service']} stopped", err=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
