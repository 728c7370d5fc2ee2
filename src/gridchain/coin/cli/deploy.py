"""`gridchain deploy coin`, from gridchain.toml's optional `[coin]` (what the root CLI's DEPLOY registry calls):

```toml
[coin]
name = "gridchain energy coin"   # the token's name (at most 25 characters; also its EIP-712 domain name)
symbol = "GEC"                   # at most 5 characters
```

The coin is deployed by `[accounts] owner` (the utility: its treasury mints; in production a Safe), who is its
owner and first minter (docs/coin.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridchain.coin.client import DEFAULT_NAME, DEFAULT_SYMBOL, CoinClient
from gridchain.config.deploy import Deployed, deploy_once
from gridchain.config.file import Config
from gridchain.config.network import Network
from gridchain.config.record import DeploymentRecord
from gridchain.errors import InputError

OWNER = "owner"  # the [accounts] entry that deploys the coin and mints (the utility's treasury)
MAX_NAME, MAX_SYMBOL = 25, 5  # the contract's String[25] and String[5]


@dataclass(frozen=True)
class CoinSettings:
    name: str
    symbol: str

    def deploy_settings(self) -> dict:
        """What the coin is deployed from (a change needs `deploy --redeploy`)."""
        return {"name": self.name, "symbol": self.symbol}


def coin_settings(config: Config) -> CoinSettings:
    """`[coin]`, every value checked (the section is optional: the defaults name the coin)."""
    section = config.section("coin", required=False)
    name, symbol = section.str("name", DEFAULT_NAME), section.str("symbol", DEFAULT_SYMBOL)
    for key, value, most in (("name", name, MAX_NAME), ("symbol", symbol, MAX_SYMBOL)):
        if not value or len(value) > most or not value.isprintable():
            raise InputError(section.option(key), f"{value!r} must be 1 to {most} printable characters")
    section.done()
    return CoinSettings(name, symbol)


def deploy_coin(config: Config, network: Network, record: DeploymentRecord, redeploy: bool) -> Deployed:
    """The energy coin named by [coin], owned by [accounts] owner (its first minter)."""
    s = coin_settings(config)
    owner = network.address(OWNER)
    return deploy_once(network, record, "coin", CoinClient, owner, [s.name, s.symbol], s.deploy_settings(), redeploy)
