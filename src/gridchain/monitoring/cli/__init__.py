"""Monitoring's commands: `gridchain monitoring demo` (a month of audited access with injected breaches) and
`gridchain monitor` (the breach monitor of a deployment).

Entry point of the monitoring feature: nothing imports it but the root CLI, which mounts what APPS lists.
"""

import typer

from gridchain.index.indexer import Source
from gridchain.monitoring.cli import attest, data, demo, deploy, monitor
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.store import SCHEMA

app = typer.Typer(
    help="Consumer-controlled monitoring: sealed meter data, consent on chain, audited access, breach alerts.",
    no_args_is_help=True,
)
app.command("demo")(demo.demo)
app.command("attest")(attest.attest)  # the attestor: batches the processing nodes' records

APPS = {"monitoring": app, "data": data.app}  # what the root CLI mounts (`gridchain data`: the household's view)
COMMANDS = {"monitor": monitor.monitor}  # `gridchain monitor`: the breach monitor as a daemon
SCHEMAS = [SCHEMA]  # the threads, batches, roots and alerts (`gridchain monitor`, `gridchain data`)
DEPLOY = {"access_log": deploy.deploy_access_log, "data_access": deploy.deploy_data_access}  # in this order
INDEX = {  # every event of both, for `gridchain index run` (the dashboard reads them there)
    "access_log": Source(AccessLogClient.CONTRACT),
    "data_access": Source(ConsentClient.CONTRACT),
}
