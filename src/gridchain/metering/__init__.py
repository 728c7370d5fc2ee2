"""Smart metering for e-mobility (Olivares-Rojas et al.): signed readings anchored as Merkle roots, roaming
sessions over OCPP 1.6 settled from the EV owner's escrow, bills; nilm/ finds EV charging in household load.

Feature: cli > scenarios | gas | plots > service > parties > client > model inside; uses coordination only
through its package root (the declared direction) and the shared ocpp adapter. The market's settlement demo uses
its client and parties (a household's meters, the gateway that anchors their days) through this package root;
nothing else imports metering but the root CLI.
"""

from gridchain.metering.client import MeteringClient
from gridchain.metering.parties import MeterGateway, SmartMeter

__all__ = ["MeterGateway", "MeteringClient", "SmartMeter"]
