"""Smart metering for e-mobility (Olivares-Rojas et al.): signed readings anchored as Merkle roots, roaming
sessions over OCPP 1.6 settled from the EV owner's escrow, bills; nilm/ finds EV charging in household load.

Feature: cli > scenarios | gas | plots > service > parties > client > model inside; uses coordination only
through its package root (the declared direction) and the shared ocpp adapter. The markets use it through this
root: PETCON's escrow and the call market's settlement settle on its anchored readings; the market's settlement
demo runs a household's meters and the gateway that anchors their days. Nothing else imports metering but the
root CLI.
"""

from gridchain.metering.client import MeteringClient
from gridchain.metering.model import INTERVAL_S, PERIOD_S, Reading, domain, merkle_proof, merkle_root
from gridchain.metering.parties import MeterGateway, SmartMeter

__all__ = [
    "INTERVAL_S",
    "PERIOD_S",
    "MeterGateway",
    "MeteringClient",
    "Reading",
    "SmartMeter",
    "domain",
    "merkle_proof",
    "merkle_root",
]
