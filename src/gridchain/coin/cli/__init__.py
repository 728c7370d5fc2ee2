"""The energy coin's commands: `gridchain coin mint|balance|transfer` and its part of `gridchain deploy`.

Entry point of the coin feature: imports its client and the shared config and ui; nothing imports it but the root
CLI, which mounts what the registries below list.
"""

import typer

from gridchain.coin.cli import commands, deploy
from gridchain.coin.client import CONTRACT
from gridchain.index.indexer import Source

app = typer.Typer(help="The energy coin: mint against payments, balances, transfers.", no_args_is_help=True)
app.command("mint")(commands.mint)
app.command("balance")(commands.balance)
app.command("transfer")(commands.transfer)

APPS = {"coin": app}
DEPLOY = {"coin": deploy.deploy_coin}
INDEX = {"coin": Source(CONTRACT)}  # every event of the coin (transfers, mints), for `gridchain index run`
