"""`gridchain deploy market`, from gridchain.toml's optional `[market]` (what the root CLI's DEPLOY registry calls):

```toml
[market]
interval_s = 900           # a delivery interval [s]
reveal_s = 300             # the reveal window [s]
gate_s = 300               # gate closure: the reveal window ends this long before the interval starts [s]
horizon = 96               # how many intervals ahead commits may go, 1 .. 128
zones = 1                  # grid zones, 1 .. 8
zone_fees = [0]            # each zone's grid fee [micro-coins per kWh], one per zone, each < 2**32
rule = "uniform"           # or "trade-reduction"
```

The market is deployed by `[accounts] owner`; it has no owner role (its parameters are immutable), so the
account only pays the deployment.
"""

from __future__ import annotations

from dataclasses import asdict

from gridchain.checks import show
from gridchain.config.deploy import Deployed, deploy_once
from gridchain.config.file import Config, Section
from gridchain.config.network import Network
from gridchain.config.record import DeploymentRecord
from gridchain.errors import InputError
from gridchain.market.client import CallMarketClient
from gridchain.market.model import MASK32, MAX_HORIZON, MAX_ZONES, Params

OWNER = "owner"  # the [accounts] entry that pays the deployment
RULES = ("uniform", "trade-reduction")


def _fees(section: Section, zones: int) -> int:
    """`zone_fees`: one integer per zone in 0 .. 2**32 - 1, packed 32 bits per zone."""
    section.read.add("zone_fees")
    fees = section.table.get("zone_fees", [0] * zones)
    if not isinstance(fees, list) or len(fees) != zones:
        raise InputError(section.option("zone_fees"), f"{show(fees)} must be a list of {zones} fees (one per zone)")
    for z, f in enumerate(fees):
        if isinstance(f, bool) or not isinstance(f, int) or not 0 <= f <= MASK32:
            raise InputError(section.option("zone_fees"), f"zone {z}: {show(f)} is not an integer in 0..{MASK32}")
    return sum(f << (32 * z) for z, f in enumerate(fees))


def market_params(config: Config) -> Params:
    """`[market]`, every value checked (the section is optional: the defaults are a 15-minute market)."""
    section = config.section("market", required=False)
    interval_s = section.int("interval_s", 1, 86_400, 900)
    reveal_s = section.int("reveal_s", 1, 86_400, 300)
    gate_s = section.int("gate_s", 0, 86_400, 300)
    horizon = section.int("horizon", 1, MAX_HORIZON, 96)
    zones = section.int("zones", 1, MAX_ZONES, 1)
    zone_fees = _fees(section, zones)
    rule = RULES.index(section.str("rule", "uniform", choices=RULES))
    section.done()
    if reveal_s + gate_s >= horizon * interval_s:
        why = f"reveal_s + gate_s = {reveal_s + gate_s} must be below horizon x interval_s = {horizon * interval_s}"
        raise InputError(section.option("reveal_s"), why)
    return Params(interval_s, reveal_s, gate_s, horizon, zones, zone_fees, rule)


def deploy_market(config: Config, network: Network, record: DeploymentRecord, redeploy: bool) -> Deployed:
    """The call market with [market]'s parameters, deployed by [accounts] owner."""
    p = market_params(config)
    args = [p.interval_s, p.reveal_s, p.gate_s, p.horizon, p.zones, p.zone_fees, p.rule]
    owner = network.address(OWNER)
    return deploy_once(network, record, "market", CallMarketClient, owner, args, asdict(p), redeploy)
