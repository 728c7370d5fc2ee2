"""Metering's commands: the demo, proving a reading, every party's action against a deployment, and the OCPP
central system and charge point as processes.

Entry point of the metering feature: imports its scenarios, service, parties and client, and the shared ui;
nothing imports it but the root CLI, which mounts what the registries below list.
"""

from gridchain.index.indexer import Source
from gridchain.metering.cli import bill, deploy, escrow, ocpp, registry, settlement
from gridchain.metering.cli.demo import meter_app, metering_app
from gridchain.metering.client import CONTRACT
from gridchain.metering.parties_store import SCHEMA as METERING_SCHEMA
from gridchain.ocpp.store import SCHEMA as OCPP_SCHEMA

for _name, _command in {
    "register-meter": registry.register_meter,
    "register-ev": registry.register_ev,
    "tariff": registry.tariff,
    "deposit": escrow.deposit,
    "withdraw": escrow.withdraw,
    "anchor": settlement.anchor,
    "settle": settlement.settle,
    "bill": bill.bill,
}.items():
    metering_app.command(_name)(_command)

APPS = {"metering": metering_app, "meter": meter_app, "ocpp": ocpp.ocpp_app}
INIT = (deploy.init_metering,)
DEPLOY = {"metering": deploy.deploy_metering}
SCHEMAS = [OCPP_SCHEMA, METERING_SCHEMA]  # the central system's tables (`ocpp serve`), the host's and gateway's

INDEX = {"metering": Source(CONTRACT)}  # every event of the metering contract, for `gridchain index run`
SEAMS = {"ocpp.bridges": ocpp.BRIDGES}  # other features' bridges run inside `ocpp serve`
