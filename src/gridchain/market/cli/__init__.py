"""The call market's commands: `gridchain market demo`, `gridchain market verify` (a committed PETCON result) and
its part of `gridchain deploy` (`[market]`).

Entry point of the market feature: imports its scenarios, plots and client and the shared config and ui; nothing
imports it but the root CLI, which mounts what the registries below list.
"""

import typer

from gridchain.index.indexer import Source
from gridchain.market.cli import demo, deploy, verify
from gridchain.market.client import CONTRACT

app = typer.Typer(
    help="The prosumers' sealed-bid call market: demo and deployment; verify a committed PETCON result.",
    no_args_is_help=True,
)
app.command("demo")(demo.demo)
app.command("verify")(verify.verify)

APPS = {"market": app}
DEPLOY = {"market": deploy.deploy_market}
INDEX = {"market": Source(CONTRACT)}  # every event of the call market, for `gridchain index run`
