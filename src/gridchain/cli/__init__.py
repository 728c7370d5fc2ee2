"""The `gridchain` command line: parse, call core / sim, print and plot. No domain logic here."""

from __future__ import annotations

import typer

from gridchain import __version__
from gridchain.coordination.cli import demo, schedule, verify
from gridchain.cli import experiment, gas_report, node
from gridchain.metering import cli as metering
from gridchain.coordination.anonymous import cli as services
from gridchain.v2v import cli as v2v

app = typer.Typer(
    help=(
        "gridchain: blockchain-based coordination and settlement of EV and home-battery charging.\n\n"
        "Schedule a slot's charging requests, reproduce the papers' experiments, or watch a demo day."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gridchain {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    pass


app.command("schedule")(schedule.schedule)
app.command("demo")(demo.demo)
app.command("node")(node.node)
app.command("verify")(verify.verify)
app.command("gas-report")(gas_report.gas_report)
app.add_typer(services.utility_app, name="utility")
app.add_typer(services.relayer_app, name="relayer")
app.add_typer(experiment.app, name="experiment")
app.add_typer(v2v.app, name="v2v")
app.add_typer(metering.metering_app, name="metering")
app.add_typer(metering.meter_app, name="meter")


def main() -> None:
    app()
