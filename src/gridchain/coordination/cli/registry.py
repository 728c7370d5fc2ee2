"""Coordination's registry for the root CLI (the package's names, loaded on first use): what it mounts.

Imports every command of the feature, hence its scenarios, parties, clients and the shared ui.
"""

from gridchain.coordination.anonymous.cli.config import init_relayer
from gridchain.coordination.cli import (
    bridge,
    capacity,
    demo,
    deploy,
    esu,
    fig2,
    keeper,
    keeper_config,
    schedule,
    utility,
    verify,
)
from gridchain.coordination.cli.esu_config import init_esu
from gridchain.coordination.client import CONTRACT
from gridchain.index.indexer import Source

COMMANDS = {"schedule": schedule.schedule, "demo": demo.demo, "verify": verify.verify}
EXPERIMENTS = {"fig2": fig2.fig2}
APPS = {"esu": esu.esu_app, "keeper": keeper.keeper_app}
INIT = (
    deploy.init_coordination,
    utility.init_utility,
    init_relayer,
    init_esu,
    keeper_config.init_keeper,
    bridge.init_bridge,
)
DEPLOY = {"coordinator": deploy.deploy_coordinator}
INDEX = {"coordinator": Source(CONTRACT)}  # every event of the coordinator, for `gridchain index run`
CAPACITY_SOURCES = capacity.CAPACITY_SOURCES  # the root hands every feature's sources to `utility serve`
PLUGS = {"ocpp.bridges": (bridge.open_bridge,)}  # the charge-point bridge runs in `ocpp serve`
