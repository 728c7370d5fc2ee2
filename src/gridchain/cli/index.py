"""`gridchain index run|status`: the deployment's event indexer (gridchain.index) as a daemon, and how far it is.

What it reads comes from the features' `INDEX` registries ({record key: Source}); the addresses and start blocks
from the deployment record. Its settings are the `[index]` section of gridchain.toml:

```toml
[index]
confirmations = 0       # blocks below the head still taken as not final (default 0 on chain 31337, else 12)
max_range = 2000        # blocks per eth_getLogs request (public providers cap the range)
poll_s = 2.0            # wait between two looks at the chain once caught up [s]
```
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import typer

from gridchain.ui.banner import STOPS, print_banner
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

DEV_CHAIN = 31337
FINAL_DEPTH = 12  # confirmations by default off the development chain (a few minutes of Ethereum blocks)


@dataclass(frozen=True)
class IndexSettings:
    confirmations: int
    max_range: int
    poll_s: float


def index_settings(config, chain_id: int) -> IndexSettings:
    """The `[index]` section (all optional)."""
    from gridchain.chain.events import DEFAULT_MAX_RANGE

    section = config.section("index", required=False)
    default = 0 if chain_id == DEV_CHAIN else FINAL_DEPTH
    out = IndexSettings(
        section.int("confirmations", 0, 10_000, default),
        section.int("max_range", 1, 1_000_000, DEFAULT_MAX_RANGE),
        section.float("poll_s", 0.05, 3600.0, 2.0),
    )
    section.done()
    return out


def _log(line: dict) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def make_index_app(sources: Mapping) -> typer.Typer:
    """The `index` group over every feature's `INDEX` ({deployment record key: gridchain.index.indexer.Source})."""
    app = typer.Typer(help="The deployment's event indexer: every contract's events, once, in the store.")

    @app.command("run")
    @bad_input_exits
    def run(
        config_file: Path = CONFIG,
        as_json: bool = typer.Option(False, "--json", help="Print the banner as JSON too (the log always is)."),
    ) -> None:
        """Index the events of every deployed contract into the store, as a daemon; restarts resume.

        Reads [index] max_range blocks per eth_getLogs up to the head less [index] confirmations (default 0 on
        chain 31337, else 12), each step in one store transaction; rolls back what a reorganisation removed;
        once caught up looks again every [index] poll_s (default 2.0). Prints a banner, then one JSON line per
        step that read blocks (new events, checkpoints, lag), per reorganisation (from, to, events dropped) and
        per error (retried with backoff), on stdout. SIGTERM or Ctrl-C stops it between two steps (exit 0).

        Example: gridchain index run --config pilot/gridchain.toml
        """
        from gridchain.index.loop import IndexLoop

        config, network, store, settings, targets = _open(config_file, sources)
        indexer = _indexer(store, network, targets, settings)
        indexer.prepare()
        loop = IndexLoop(indexer, _log, settings.poll_s)
        for sig in (signal.SIGINT, signal.SIGTERM):  # before the banner: a stop right after it is still clean
            signal.signal(sig, lambda *_: loop.stop.set())
        banner = {
            "service": "index",
            "pid": os.getpid(),
            "store": store.url,
            "rpc_url": network.settings.rpc_url,
            "contracts": {t.name: t.address for t in targets},
            "confirmations": settings.confirmations,
            "max_range": settings.max_range,
        }
        print_banner(f"indexer (pid {banner['pid']}); {STOPS}", banner, as_json, hide=("service", "pid"))
        try:
            loop.run()
        finally:
            store.close()
        _log({"event": "stopped", "checkpoints": {n: b for n, (b, _) in indexer.cursors().items()}})

    @app.command("status")
    @bad_input_exits
    def status(
        config_file: Path = CONFIG,
        as_json: bool = typer.Option(False, "--json", help="Print the status as one JSON object."),
    ) -> None:
        """Each indexed contract's checkpoint, the head, the lag and the events stored, by name.

        Example: gridchain index status --config pilot/gridchain.toml
        """
        from gridchain.index.reader import IndexReader

        config, network, store, settings, _targets = _open(config_file, sources)
        try:
            reader = IndexReader(store)
            head = network.gateway.block_number()
            counts = reader.counts()
            rows = [
                {
                    "contract": c.contract,
                    "address": c.address,
                    "checkpoint": c.block,
                    "lag": max(0, head - settings.confirmations - c.block),
                    "events": sum(counts.get(c.contract, {}).values()),
                    "by_name": counts.get(c.contract, {}),
                }
                for c in reader.checkpoints()
            ]
        finally:
            store.close()
        _show(head, settings, rows, as_json)

    return app


def _open(config_file: Path | None, sources: Mapping):
    """The config, the node, the migrated store, the [index] settings and the deployed contracts to index."""
    from gridchain.chain.compiler import compile_contract
    from gridchain.config.file import config_path, load_config
    from gridchain.config.network import connect, network_settings
    from gridchain.config.record import checked_address, load_record
    from gridchain.config.store import config_store
    from gridchain.errors import InputError
    from gridchain.index.indexer import Target, abi_events
    from gridchain.index.tables import SCHEMA

    config = load_config(config_path(config_file))
    settings = index_settings(config, network_settings(config).chain_id)  # bad settings named before the node is asked
    network = connect(config)
    record = load_record(config, network.settings.chain_id)
    targets = []
    for name, source in sources.items():
        if name not in record.contracts:
            continue
        address = checked_address(record, name, network.gateway.code)
        artifact = compile_contract(source.contract)
        events = source.events or abi_events(artifact)
        targets.append(Target(name, address, artifact, events, int(record.entry(name).get("block", 0))))
    if not targets:
        raise InputError(
            "deployment.record", f"{str(record.path)!r} records no contract to index: run gridchain deploy"
        )
    store = config_store(config)
    store.migrate(SCHEMA)
    return config, network, store, settings, targets


def _indexer(store, network, targets, settings):
    from gridchain.index.indexer import Indexer

    return Indexer(store, network.gateway, targets, settings.confirmations, settings.max_range)


def _show(head: int, settings: IndexSettings, rows: list[dict], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"head": head, "confirmations": settings.confirmations, "contracts": rows}))
        return
    typer.echo(f"head {head} (confirmations {settings.confirmations})")
    typer.echo(f"{'contract':<14} {'checkpoint':>10} {'lag':>6} {'events':>7}  address")
    for r in rows:
        typer.echo(f"{r['contract']:<14} {r['checkpoint']:>10} {r['lag']:>6} {r['events']:>7}  {r['address']}")
