"""What the anonymous mode's loopback services share: bind the listening socket (a port in use is bad input
naming the option), then serve an app on it in the foreground with a banner until SIGINT or SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections.abc import Callable, Iterator

import typer

from gridchain.errors import InputError
from gridchain.ui.banner import STOPS, print_banner

PORT_HELP = "Port on 127.0.0.1 (0: any free port, printed at start)."


def bind(field: str, host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port; an address in use or not this machine's is an InputError naming
    `field`. Bound before a service's slow start, so that the error comes first."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError, UnicodeError) as e:  # in use, not ours, a port past 65535, a bad host name
        sock.close()
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise InputError(field, f"cannot listen on {host}:{port}: {reason}") from None
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts them
    return sock


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Inside, SIGTERM stops the process like Ctrl-C: a KeyboardInterrupt that the service handles as a normal
    stop (exit 0). uvicorn stops gracefully on either, then raises the signal again for the handler it found.
    The previous handler is restored at the end (a command run in-process leaves its caller as it was)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(app, port: int, banner: dict, as_json: bool, host: str = "127.0.0.1", field: str = "--port") -> None:
    """Serve `app` on host:port (see `serve_on`); a port in use is an InputError naming `field`."""
    serve_on(bind(field, host, port), app, banner, as_json)


def serve_on(sock: socket.socket, app, banner: dict, as_json: bool, started: Callable[[], None] | None = None) -> None:
    """Print the banner (with the PID and URL) on stdout, call `started` (a service's background work), then
    serve until SIGINT or SIGTERM (uvicorn stops gracefully on either; then return: exit 0); `<service>
    stopped` on stderr at the end."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    info = {**banner, "pid": os.getpid(), "url": f"http://{host}:{port}"}
    try:
        with stop_on_sigterm():
            title = f"{banner['service']} at {info['url']} (pid {info['pid']}); {STOPS}"
            print_banner(title, info, as_json, hide=("service", "url", "pid"))
            if started is not None:
                started()
            uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the Ctrl-C it caught
        pass
    finally:
        sock.close()
    typer.echo(f"{banner['service']} stopped", err=True)
