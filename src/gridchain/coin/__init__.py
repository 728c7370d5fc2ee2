"""The energy coin: an ERC-20 with permit (snekmate's erc20) that the markets settle in, minted by the
utility's treasury against money paid in and burnt when redeemed.

Feature: cli > gas > client > model inside; uses no other feature. Markets and escrow use it through its package
root.
"""

from gridchain.coin.client import CoinClient
from gridchain.coin.model import UNIT

__all__ = ["UNIT", "CoinClient"]
