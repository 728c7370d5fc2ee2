"""`gridchain deploy coordinator` and `gridchain init`'s coordination part (what the root CLI's registries call)."""

from __future__ import annotations

from gridchain.config.deploy import Deployed, deploy_once
from gridchain.config.file import Config
from gridchain.config.init import InitOptions
from gridchain.config.network import Network
from gridchain.config.record import DeploymentRecord
from gridchain.coordination.cli.config import community
from gridchain.coordination.client import CoordinatorClient

OWNER = "owner"  # the [accounts] entry that deploys and owns the coordinator (the utility's key)


def deploy_coordinator(config: Config, network: Network, record: DeploymentRecord, redeploy: bool) -> Deployed:
    """The community's coordinator, its first slot starting at the current slot boundary of the chain's clock."""
    c = community(config)
    start = network.gateway.now() // c.slot_length_s * c.slot_length_s
    args = [start, c.slot_length_s, c.beta1_pm, c.initial_capacity_w]
    owner = network.address(OWNER)
    return deploy_once(network, record, "coordinator", CoordinatorClient, owner, args, c.deploy_settings(), redeploy)


def init_coordination(opts: InitOptions) -> str:
    """ESU identities (one keystore each) and the members file; returns the coordination sections."""
    members = [opts.keystore(f"wallets/esu{i:02d}/identity.json") for i in range(1, opts.members + 1)]
    (opts.dir / "members.txt").write_text(
        "# the community's ESUs: identity addresses, one per line\n" + "".join(f"{m}\n" for m in members)
    )
    return f"""
[community]
{f"slot_length_s = {opts.slot_length_s}":<29} # seconds per slot
beta1_pm = 500                # weight of the state of charge in the priority [per-mille]
initial_capacity_w = 50000    # C - P_R until the utility posts another [W]
members = "members.txt"       # the ESUs' identity addresses, one per line
quota = 4                     # tokens per member and epoch (UTC day)
lookahead_epochs = 1          # epochs ahead of today with keys and tokens
"""
