"""`gridchain dashboard`: serve the deployment's web dashboard (gridchain.dashboard), read-only."""

from __future__ import annotations

from pathlib import Path

import typer

from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits


@bad_input_exits
def dashboard(
    config_file: Path = CONFIG,
    listen: str = typer.Option(
        None, "--listen", help="host:port to serve on, instead of [dashboard] listen (port 0: any free port)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the banner as one JSON line (scripts, tests)."),
) -> None:
    """Serve the deployment's dashboard in a browser: the community's slots (C - P_R against the power granted,
    each schedule verified as `gridchain verify` does, live as slots close), a household's requests from its
    wallet's public view (`esu export`), the V2V auctions, and the experiments' results as charts.

    Read-only: it opens no keystore and sends no transaction. It reads the node ([network]) and the index in the
    deployment's store ([store]), so run `gridchain index run` beside it. Its settings are the optional
    [dashboard] section: listen (default 127.0.0.1:8709), poll_s (how often an open page asks for news,
    default 2 s), results (the experiments' JSON outputs, default results/). Pages use no file or script
    from another host: the charts (plotly.js) come from the installed `plotly` package.
    Prints a banner (its URL and PID); SIGTERM or Ctrl-C stop it.

    Example: gridchain dashboard --config pilot/gridchain.toml, then open http://127.0.0.1:8709
    """
    from gridchain.config.file import Config, config_path, load_config
    from gridchain.coordination.anonymous.cli.serve import bind, serve_on
    from gridchain.dashboard.app import create_app
    from gridchain.dashboard.deployment import Deployment
    from gridchain.errors import InputError

    path = config_path(config_file)
    if listen is not None:  # checked like the config's key, named as the option
        try:
            host, port = Config(path, {"dashboard": {"listen": listen}}).section("dashboard").listen("listen")
        except InputError as e:
            raise InputError("--listen", e.reason) from None
        field = "--listen"
    else:
        from gridchain.dashboard.settings import dashboard_settings

        (host, port), field = dashboard_settings(load_config(path)).listen, "dashboard.listen"
    sock = bind(field, host, port)
    try:
        deployment = Deployment.open(path)
    except BaseException:
        sock.close()
        raise
    try:
        banner = {"service": "dashboard", "config": str(path), "store": deployment.store.url}
        banner["contracts"] = {name: entry.get("address") for name, entry in deployment.record.contracts.items()}
        serve_on(sock, create_app(deployment), banner, as_json)
    finally:
        deployment.close()
