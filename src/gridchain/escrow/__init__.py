"""Trade escrow: PriWatt's trustless settlement of a trade between a buyer and a seller with an arbiter (the
distribution operator): the payment held until 2 of the 3 sign, refunds on time-out, instalment vouchers, and the
seller's metered energy locked so that it is never sold twice (contracts/trade_escrow.vy); the terms agreed
beforehand over the anonymous negotiation's message board (negotiation/; `negotiated` runs it for the demo).

Feature: gas > client > model inside; uses no other feature. The market and v2v use it through its package root
(the names below), and their twins its pure models (the escrow's and the negotiation's) directly.
"""

from gridchain.escrow.client import EscrowClient
from gridchain.escrow.model import ETH, INTERVAL_S, Terms
from gridchain.escrow.negotiated import local_board
from gridchain.escrow.negotiation.model import TradeKey
from gridchain.escrow.negotiation.parties import BoardPort

__all__ = ["ETH", "INTERVAL_S", "BoardPort", "EscrowClient", "Terms", "TradeKey", "local_board"]
