"""The `[network]` section: which node, which chain, how many confirmations; a gateway signing for named accounts.

```toml
[network]
rpc_url = "http://127.0.0.1:8545"
chain_id = 31337        # the node must report this chain id: a wrong URL never signs for another chain
confirmations = 0       # blocks a service waits below an event before acting on it
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gridchain.config.accounts import account_key
from gridchain.config.file import Config
from gridchain.errors import InputError


@dataclass(frozen=True)
class NetworkSettings:
    rpc_url: str
    chain_id: int
    confirmations: int


def network_settings(config: Config) -> NetworkSettings:
    section = config.section("network")
    url = section.str("rpc_url")
    if not url.startswith(("http://", "https://")):
        raise InputError("network.rpc_url", f"{url!r} is not an http:// or https:// URL")
    settings = NetworkSettings(url, section.int("chain_id", 1, 2**63 - 1), section.int("confirmations", 0, 1000, 0))
    section.done()
    return settings


@dataclass
class Network:
    """A connected node: its gateway signs for the accounts asked for, by name (`address(name)`)."""

    settings: NetworkSettings
    gateway: object  # an RpcGateway
    named: dict[str, str]  # account name -> address

    def address(self, name: str) -> str:
        return self.named[name]


def connect(config: Config, accounts: Sequence[str] = (), extra_keys: Sequence[str] = ()) -> Network:
    """Connect to the node [network] names, check its chain id, and decrypt the named accounts' keystores.

    `extra_keys` are keys held elsewhere (an ESU's wallet), signed for as well."""
    from gridchain.chain.rpc_gateway import RpcGateway, reach

    settings = network_settings(config)
    probe = reach(settings.rpc_url, [], "network.rpc_url", timeout=10.0)
    if probe.chain_id != settings.chain_id:
        raise InputError(
            "network.chain_id",
            f"the node at {settings.rpc_url} is chain {probe.chain_id}, not {settings.chain_id}",
        )
    keys = [account_key(config, name, settings.chain_id) for name in accounts]
    gateway = RpcGateway(settings.rpc_url, [*keys, *extra_keys])
    from eth_account import Account

    return Network(settings, gateway, {n: Account.from_key(k).address for n, k in zip(accounts, keys)})
