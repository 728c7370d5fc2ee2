"""The `gridchain` command line, whole: the root app mounts every feature's commands from one registry, `FEATURES`.

Entry point: imports the features' `cli` modules; nothing imports it. A feature's cli module lists what it adds:
`COMMANDS` (top-level commands), `APPS` (command groups), `EXPERIMENTS` (under `gridchain experiment`), `INIT`
(hooks writing its part of a new pilot), `DEPLOY` (its contracts, for `gridchain deploy`), `CAPACITY_SOURCES`
(where C - P_R may come from: {name: factory(section)}), `APP_FACTORIES` (command groups built with the
collected capacity sources: `utility`), `SCHEMAS` (its parties' tables in the store, for `gridchain store`),
`INDEX` (its contracts' events for the indexer: {record key: Source}),
`SEAMS` (named lists of hooks its commands run) and `PLUGS` (hooks for other features' seams: one feature's
command runs another's part without either cli importing the other).
A new system adds one line to `FEATURES`.
"""

from __future__ import annotations

import typer

from gridchain import __version__
from gridchain.cli import dashboard, deploy, gas_report, index, init, node, store, warp
from gridchain.coin import cli as coin_cli
from gridchain.committee import cli as committee_cli
from gridchain.coordination import cli as coordination_cli
from gridchain.coordination.anonymous import cli as anonymous_cli
from gridchain.dashboard.settings import init_dashboard
from gridchain.escrow import cli as escrow_cli
from gridchain.grid import cli as grid_cli
from gridchain.index.tables import SCHEMA as INDEX_SCHEMA
from gridchain.market import cli as market_cli
from gridchain.market.feeder import cli as market_feeder_cli
from gridchain.market.petcon import cli as petcon_cli
from gridchain.metering import cli as metering_cli
from gridchain.metering.nilm import cli as nilm_cli
from gridchain.monitoring import cli as monitoring_cli
from gridchain.ui.help import HelpGroup
from gridchain.v2v import cli as v2v_cli

FEATURES = (
    coordination_cli,
    anonymous_cli,
    v2v_cli,
    metering_cli,
    nilm_cli,
    grid_cli,
    coin_cli,
    committee_cli,
    petcon_cli,
    market_cli,
    market_feeder_cli,
    escrow_cli,
    monitoring_cli,
)

app = typer.Typer(
    help=(
        "gridchain: blockchain-based coordination and settlement of EV and home-battery charging.\n\n"
        "Run a pilot from one gridchain.toml (init, node, deploy, then each party's command: docs/operate.md), "
        "schedule a slot's charging requests, reproduce the papers' experiments, or watch a demo day."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=HelpGroup,  # --help without `<bool>` beside flags, paragraphs wrapped between words
)
experiment_app = typer.Typer(
    help="Reproduce the papers' experiments (results JSON + PNG plot + table).", no_args_is_help=True
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


for feature in FEATURES:
    for name, command in getattr(feature, "COMMANDS", {}).items():
        app.command(name)(command)
seams = {name: hooks for f in FEATURES for name, hooks in getattr(f, "SEAMS", {}).items()}
for feature in FEATURES:  # a feature's SEAMS take the hooks other features PLUG in (names match)
    for name, hooks in getattr(feature, "PLUGS", {}).items():
        seams[name].extend(hooks)
app.command("node")(node.node)
app.command("warp")(warp.warp)
app.command("init")(init.make_init([h for f in FEATURES for h in getattr(f, "INIT", ())] + [init_dashboard]))
app.command("deploy")(deploy.make_deploy({k: v for f in FEATURES for k, v in getattr(f, "DEPLOY", {}).items()}))
app.command("gas-report")(gas_report.gas_report)
app.command("dashboard")(dashboard.dashboard)
SCHEMAS = [INDEX_SCHEMA] + [schema for f in FEATURES for schema in getattr(f, "SCHEMAS", ())]
app.add_typer(store.make_store_app(SCHEMAS), name="store")
INDEX = {name: source for f in FEATURES for name, source in getattr(f, "INDEX", {}).items()}
app.add_typer(index.make_index_app(INDEX), name="index")
app.add_typer(experiment_app, name="experiment")
for feature in FEATURES:
    for name, command in getattr(feature, "EXPERIMENTS", {}).items():
        experiment_app.command(name)(command)
    for name, group in getattr(feature, "APPS", {}).items():
        app.add_typer(group, name=name)
CAPACITY_SOURCES = {k: v for f in FEATURES for k, v in getattr(f, "CAPACITY_SOURCES", {}).items()}
for feature in FEATURES:
    for name, factory in getattr(feature, "APP_FACTORIES", {}).items():
        app.add_typer(factory(capacity_sources=CAPACITY_SOURCES), name=name)
