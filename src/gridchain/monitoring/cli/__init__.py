"""Monitoring's commands: `gridchain monitoring demo` (a month of audited access with injected breaches) and
`gridchain monitor` (the breach monitor of a deployment).

Entry point of the monitoring feature: nothing imports it but the root CLI, which mounts what APPS lists.
"""

import typer

from gridchain.monitoring.cli import demo, monitor
from gridchain.monitoring.store import SCHEMA

app = typer.Typer(
    help="Consumer-controlled monitoring: sealed meter data, consent on chain, audited access, breach alerts.",
    no_args_is_help=True,
)
app.command("demo")(demo.demo)

APPS = {"monitoring": app}  # what the root CLI mounts
COMMANDS = {"monitor": monitor.monitor}  # `gridchain monitor`: the breach monitor as a daemon
SCHEMAS = [SCHEMA]  # the threads, batches, roots and alerts (`gridchain monitor`, `gridchain data`)
