"""The option every command run against a deployment takes: --config (default ./gridchain.toml)."""

from __future__ import annotations

import typer

CONFIG = typer.Option(
    None,
    "--config",
    envvar="GRIDCHAIN_CONFIG",
    help="The deployment's gridchain.toml (written by `gridchain init`).  [default: ./gridchain.toml]",
    show_default=False,
)
