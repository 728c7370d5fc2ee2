"""`gridchain deploy access_log|data_access` (what the root CLI's DEPLOY registry calls), from `[monitoring]`:
the access log with the consensus nodes, then the consent contract over it."""

from __future__ import annotations

from gridchain.config.deploy import Deployed, deploy_once
from gridchain.config.file import Config
from gridchain.config.network import Network
from gridchain.config.record import DeploymentRecord, checked_address
from gridchain.errors import InputError
from gridchain.monitoring.cli.config import OWNER, SECTION, monitoring
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient


def deploy_access_log(config: Config, network: Network, record: DeploymentRecord, redeploy: bool) -> Deployed:
    """The access log of [monitoring] nodes and m, owned by [accounts] owner."""
    s = monitoring(config)
    args = [list(s.nodes), s.m]
    owner = network.address(OWNER)
    return deploy_once(network, record, "access_log", AccessLogClient, owner, args, s.deploy_settings(), redeploy)


def deploy_data_access(config: Config, network: Network, record: DeploymentRecord, redeploy: bool) -> Deployed:
    """The consent contract, judging records against the recorded access log (deploy that first)."""
    monitoring(config)  # the section is checked even though the contract takes none of it
    if "access_log" not in record.contracts:
        raise InputError("deployment.access_log", "is not deployed: run `gridchain deploy access_log` first")
    log = checked_address(record, "access_log", network.gateway.code)
    owner = network.address(OWNER)
    return deploy_once(network, record, "data_access", ConsentClient, owner, [log], {"access_log": log}, redeploy)


deploy_access_log.SECTION = deploy_data_access.SECTION = SECTION  # `deploy all` skips them without [monitoring]
