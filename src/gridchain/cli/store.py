"""`gridchain store`: the deployment's database (gridchain.toml's [store]): each party's schema and revision.

Services migrate their own schema when they start; `store upgrade` does it for every schema at once (before a
deployment's services start, or after an upgrade of gridchain), and `store status` tells where each stands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import typer

from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits


def make_store_app(schemas: Sequence) -> typer.Typer:
    """The `store` group over every feature's schemas (`SCHEMAS` of the registry)."""
    app = typer.Typer(help="The deployment's database: schemas and their revisions.", no_args_is_help=True)

    @app.command("status")
    @bad_input_exits
    def status(
        config_file: Path = CONFIG,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    ) -> None:
        """Each schema's revision in the store against the newest one gridchain has.

        Example: gridchain store status --config pilot/gridchain.toml
        """
        store = _open(config_file)
        try:
            _report(store, schemas, as_json)
        finally:
            store.close()

    @app.command("upgrade")
    @bad_input_exits
    def upgrade(
        config_file: Path = CONFIG,
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    ) -> None:
        """Bring every schema to its newest revision (each in one transaction; already current: nothing done).

        Example: gridchain store upgrade --config pilot/gridchain.toml
        """
        store = _open(config_file)
        try:
            for schema in schemas:
                store.migrate(schema)
            _report(store, schemas, as_json)
        finally:
            store.close()

    return app


def _open(config_file: Path | None):
    from gridchain.config.file import config_path, load_config
    from gridchain.config.store import config_store

    return config_store(load_config(config_path(config_file)))


def _report(store, schemas: Sequence, as_json: bool) -> None:
    from gridchain.store.migrate import head, revision

    rows = [{"schema": s.name, "revision": revision(store, s), "head": head(s)} for s in schemas]
    if as_json:
        typer.echo(json.dumps({"store": store.url, "schemas": rows}))
        return
    typer.echo(f"store {store.url}")
    typer.echo(f"{'schema':<20} {'revision':<10} {'newest':<10} state")
    for row in rows:
        state = "current" if row["revision"] == row["head"] else "not created" if row["revision"] is None else "old"
        typer.echo(f"{row['schema']:<20} {row['revision'] or '-':<10} {row['head'] or '-':<10} {state}")
