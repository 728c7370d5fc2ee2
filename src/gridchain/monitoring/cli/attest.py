"""`gridchain monitoring attest`: the attestor of a deployment (gridchain.monitoring.attesting) as a daemon, or one
round; and how a pilot's consensus node keys are read ([monitoring] node_keys)."""

from __future__ import annotations

from pathlib import Path

import typer

from gridchain.config.file import Config
from gridchain.errors import InputError
from gridchain.monitoring.cli.config import MonitoringSettings
from gridchain.monitoring.cli.monitor import check_poll, serve
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

OPTION = "monitoring.node_keys"


def node_key_files(settings: MonitoringSettings) -> list[Path]:
    """The keystores in [monitoring] node_keys, checked without decrypting: each holds one of [monitoring] nodes,
    no node twice, at least m of them (an InputError naming the option and the file)."""
    from gridchain.crypto.keystore import keystore_address

    folder = settings.node_keys
    files = sorted(folder.glob("*.json")) if folder is not None and folder.is_dir() else []
    nodes = {n.lower() for n in settings.nodes}
    seen: dict[str, Path] = {}
    for path in files:
        address = keystore_address(path, OPTION).lower()
        if address not in nodes:
            raise InputError(OPTION, f"{str(path)!r} holds {address}, which is not one of [monitoring] nodes")
        if address in seen:
            raise InputError(OPTION, f"{str(path)!r} and {str(seen[address])!r} hold one node's key ({address})")
        seen[address] = path
    if len(files) < settings.m:
        raise InputError(
            OPTION,
            f"{len(files)} consensus node keystores in {str(folder)!r}, fewer than [monitoring] m = {settings.m}",
        )
    return files


def node_keys(config: Config, settings: MonitoringSettings) -> list[str]:
    """The consensus nodes' keys of a pilot (`node_key_files`, decrypted with the keystores' password)."""
    from gridchain.config.accounts import password
    from gridchain.crypto.keystore import read_keystore

    files = node_key_files(settings)
    secret = password(config)
    return [read_keystore(path, secret, f"{OPTION} {path.name}") for path in files]


def round_lines(summary: dict) -> list[str]:
    """A round's summary for people (lines of at most 80 columns)."""
    if summary.get("event") == "error":
        return [f"error (next round in {summary['retry_in_s']:g} s): {summary['error']}"[:80]]
    if summary["batch"] is None:
        done = "no batch" + (f" ({summary['refused']})" if summary.get("refused") else "")
    else:
        done = f"batch {summary['batch']} attested ({summary['records']} records, gas {summary['gas']})"
    lines = [f"round at {summary['at']}: {done}; {summary['batches']} published"[:80]]
    if summary["settled"]:
        lines.append(f"  the intent a restart found: {summary['settled']}")
    for h in summary["held"]:
        lines.append(f"  held back: {h['reason']}"[:80])
    return lines


@bad_input_exits
def attest(
    config_file: Path = CONFIG,
    once: bool = typer.Option(False, "--once", help="One round, its summary printed, then exit 0."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per round (and the banner as JSON)."),
    poll_s: float = typer.Option(None, "--poll-s", help="Seconds between rounds (default [monitoring] poll_s)."),
) -> None:
    """Attest the processing nodes' records on the access log, batch by batch, as a daemon; restarts resume.

    Reads: from the store ([store] url) the records the processing nodes wrote (each household's thread) and the
    batches already published; on chain, the access log's batch count, threshold and Attested events. The
    consensus nodes' keys are the keystores in the [monitoring] node_keys folder (each one of [monitoring]
    nodes, at least m): a pilot's shortcut; in production each consensus node keeps its own key and signs on
    its own machine.

    Writes: each round batches the records no published batch holds that continue their threads (a record
    that does not is held back and named), has m consensus nodes sign the batch, submits it from the
    [monitoring] attestor account (attest on the access log; it pays the gas) and publishes it in the store,
    where `gridchain monitor` and the households read it. The batch is stored as an intent before it is
    sent: after a crash it is published from the chain's Attested event, dropped if the log moved past it,
    or sent again: never attested twice, never published unless the chain holds its root. One attestor per
    store (a second is refused).

    Prints a banner, then one line per round (errors are retried with backoff); SIGTERM or Ctrl-C stops it
    between rounds (exit 0).

    Example: gridchain monitoring attest --config pilot/gridchain.toml --once --json
    """
    check_poll(poll_s)
    from gridchain.monitoring.attesting import AttestService
    from gridchain.monitoring.cli.chain import open_monitoring, read_config
    from gridchain.monitoring.cli.config import monitoring
    from gridchain.store.lease import hold

    config = read_config(config_file)
    settings = monitoring(config)
    keys = node_keys(config, settings)
    d = open_monitoring(config, [settings.attestor])
    try:
        with hold(d.store.store, "attestor", "store.url"):  # two attestors would race for each index
            account = d.address(settings.attestor)
            service = AttestService(d.log, d.store, keys, account, d.network.gateway.now, None, d.from_block)
            banner = {
                "service": "attestor",
                "attestor": account,
                "access_log": d.log.address,
                "store": d.store.store.url,
                "node_keys": len(keys),
                "m": settings.m,
            }
            serve(service, banner, once, as_json, settings.poll_s if poll_s is None else poll_s, round_lines)
    finally:
        d.store.store.close()
