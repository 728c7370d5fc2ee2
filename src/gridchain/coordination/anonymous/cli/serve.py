"""What the anonymous mode's two loopback services share: serve an app in the foreground with a banner."""

from __future__ import annotations

import json

import typer

PORT_HELP = "Port on 127.0.0.1 (0: any free port, printed at start)."


def serve(app, port: int, banner: dict, as_json: bool) -> None:
    import uvicorn

    from gridchain.net.server import LoopbackServer

    server = LoopbackServer(app, port)
    info = {**banner, "url": server.url}
    typer.echo(json.dumps(info) if as_json else "  ".join(f"{k}: {v}" for k, v in info.items()) + "  (Ctrl-C stops)")
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[server._socket])
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the Ctrl-C it caught
        pass
    finally:
        server._socket.close()
    typer.echo(f"{banner['service']} stopped", err=True)
