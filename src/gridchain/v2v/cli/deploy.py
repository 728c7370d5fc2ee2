"""`gridchain deploy v2v` and `gridchain init`'s V2V part (what the root CLI's registries call).

EVs are not `[accounts]`: they are other people's vehicles, each with its own key, not the operator's. On a
local anvil ([keys] dev_funding, chain 31337 only) this deployer tops every EV of the `evs` folder up from
anvil's development account, as the root deploy does for `[accounts]`; on a real network EV owners fund their
own keys.
"""

from __future__ import annotations

from gridchain.config.accounts import check_dev_funding
from gridchain.config.deploy import Deployed, deploy_once
from gridchain.config.file import Config
from gridchain.config.init import InitOptions
from gridchain.config.network import Network
from gridchain.config.record import DeploymentRecord
from gridchain.v2v.cli.config import ev_address, v2v_settings
from gridchain.v2v.client import V2VClient

OWNER = "owner"  # the [accounts] entry that deploys the contract and admits EVs (the organisation)
PROVIDERS, CONSUMERS = ("p1", "p2"), ("c1",)
FUND_BELOW_WEI = 10 * 10**18  # an EV is topped up when it holds less than this...
FUND_TO_WEI = 100 * 10**18  # ...to this


def deploy_v2v(config: Config, network: Network, record: DeploymentRecord, redeploy: bool) -> Deployed:
    """The V2V auction with [v2v]'s validity and grace, owned by [accounts] owner; EVs funded on anvil."""
    s = v2v_settings(config)
    owner = network.address(OWNER)
    deployed = deploy_once(
        network, record, "v2v", V2VClient, owner, [s.validity_s, s.grace_s], s.deploy_settings(), redeploy
    )
    if check_dev_funding(config, network.settings.chain_id):
        fund_evs(network, [ev_address(s, name) for name in s.ev_names()])
    return deployed


def fund_evs(network: Network, addresses: list[str]) -> dict[str, int]:
    """Top each EV up from anvil's first development account (chain 31337 only; checked by the caller)."""
    from gridchain.chain.anvil import dev_keys
    from gridchain.chain.rpc_gateway import RpcGateway

    funder = RpcGateway(network.settings.rpc_url, dev_keys(1))
    sent = {}
    for address in addresses:
        balance = funder.balance(address)
        if balance < FUND_BELOW_WEI:
            funder.transfer(funder.accounts[0], address, FUND_TO_WEI - balance)
            sent[address] = FUND_TO_WEI - balance
    return sent


def init_v2v(opts: InitOptions) -> str:
    """Two provider EVs and one consumer EV (a keystore each in evs/); returns the [v2v] sections."""
    for name in (*PROVIDERS, *CONSUMERS):
        opts.keystore(f"evs/{name}.json")
    listen = "".join(f'{name} = "127.0.0.1:{opts.port_base + 10 + k}"\n' for k, name in enumerate(PROVIDERS))
    return f"""
[v2v]
validity_s = 3600             # an access token's life [s] (the contract's VALIDITY)
grace_s = 600                 # [s] the consumer's time to end its auction, the parties' to settle (GRACE)
evs = "evs"                   # one keystore per EV: evs/<name>.json (each EV owner's key)
wallets = "v2v-wallets"       # a consumer EV's signed receipts: v2v-wallets/<name>.json
poll_s = 1.0                  # how often a provider reads new events [s]
increment_wh = 2000           # energy a provider delivers per receipt [Wh]

[v2v.listen]                  # provider EVs' services; `gridchain v2v register` announces them on chain
{listen}"""
