"""V2V's commands: the demos (the on-chain auction; the auction through the trade escrow), the organisation's
`register`, the provider daemon, the consumer's auction, the auctions' list; its parts of `gridchain init` and
`gridchain deploy`; its parties' tables in the store.

Entry point of the v2v feature: imports everything in it and the shared ui; nothing imports it but the root CLI,
which mounts what the registries below list.
"""

import typer

from gridchain.index.indexer import Source
from gridchain.v2v.cli import auction, auctions, demo, deploy, escrow_demo, provider, register
from gridchain.v2v.client import CONTRACT
from gridchain.v2v.parties.provider_store import SCHEMA as PROVIDER_SCHEMA

app = typer.Typer(
    help="V2V energy trading: reverse auction, mutual authentication, receipt settlement.", no_args_is_help=True
)
app.command("demo")(demo.demo)
app.command("escrow-demo")(escrow_demo.escrow_demo)
app.command("register")(register.register)
app.command("auctions")(auctions.auctions)
app.add_typer(auction.auction_app, name="auction")
app.add_typer(provider.provider_app, name="provider")

APPS = {"v2v": app}  # what the root CLI mounts
INIT = (deploy.init_v2v,)
DEPLOY = {"v2v": deploy.deploy_v2v}
INDEX = {"v2v": Source(CONTRACT)}  # every event of the auction, for `gridchain index run`

SCHEMAS = (PROVIDER_SCHEMA,)  # the provider's tables (gridchain store)
