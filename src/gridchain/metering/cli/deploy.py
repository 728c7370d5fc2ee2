"""`gridchain deploy metering` and `gridchain init`'s metering part (what the root CLI's registries call)."""

from __future__ import annotations

from gridchain.config.deploy import Deployed, deploy_once
from gridchain.config.file import Config
from gridchain.config.init import InitOptions
from gridchain.config.network import Network
from gridchain.config.record import DeploymentRecord
from gridchain.metering.cli.config import EV_OWNER, GATEWAY, HOST, OWNER, metering
from gridchain.metering.client import MeteringClient

OCPP_PORT_OFFSET = 20  # the central system listens on port_base + 20


def deploy_metering(config: Config, network: Network, record: DeploymentRecord, redeploy: bool) -> Deployed:
    """The metering contract, owned by the operator, with accounts.gateway allowed to anchor readings."""
    settings = metering(config)
    owner = network.address(OWNER)
    deployed = deploy_once(
        network, record, "metering", MeteringClient, owner, [settings.notice_s], settings.deploy_settings(), redeploy
    )
    from gridchain.config.accounts import account_address

    gateway = account_address(config, GATEWAY)
    client = MeteringClient(network.gateway, deployed.address)
    if not client.is_gateway(gateway):  # idempotent: a second deploy finds it allowed
        client.set_gateway(owner, gateway)
    return deployed


def init_metering(opts: InitOptions) -> str:
    """The roaming parties' accounts, a charge point's meter and an EV (device keystores); the metering sections."""
    opts.account(EV_OWNER, "the EV's owner (or its home operator): funds the escrow")
    opts.account(HOST, "the charge point's owner (the roaming operator): reserves, settles")
    opts.account(GATEWAY, "the meter gateway (AMI head-end): anchors readings")
    opts.keystore("meters/cp1.json")
    opts.keystore("evs/ev1.json")
    return f"""
[metering]
notice_s = 172800             # notice before escrow can be withdrawn [s]
community = 1                 # the tariff community of the meters registered here
meters = "meters"             # one keystore per meter (device keys: sign readings, need no funds)
evs = "evs"                   # one keystore per EV (device keys: sign session starts)
min_reservation_wei = 5000000000000000  # least maximum cost a charge point admits an EV with [wei]

[ocpp]
listen = "127.0.0.1:{opts.port_base + OCPP_PORT_OFFSET}"    # the central system (charge points connect to /<id>)
sessions = "ocpp-sessions.json"  # the central system's sessions, for `metering anchor` and `settle`
heartbeat_interval_s = 300    # [s] asked of every charge point at boot
charge_points = {{ CP1 = "cp1" }}  # charge-point id -> its meter (a keystore in metering.meters)
"""
