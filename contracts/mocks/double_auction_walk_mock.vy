# pragma version ~=0.4.3
"""
@title `double_auction_walk` module reference implementation
@custom:contract-name double_auction_walk_mock
@license MIT
@author gridchain
@notice Exposes the internal functions of the stateless module `modules/double_auction_walk.vy`, so that tests
        check effective prices and the two pricing rules on their own (`tests/market/test_contract.py`). Tests
        only: nothing deploys it.
"""

# @dev Stateless: imported, not initialized.
from ..modules import double_auction_walk as walk


@deploy
@payable
def __init__():
    """
    @dev Payable, so the constructor has no callvalue check.
    """
    pass


@external
@pure
def effective_price(order: uint256, zone_fees: uint256) -> uint256:
    """
    @dev An order's effective price.
    @param order The order word.
    @param zone_fees The market's fees, 32 bits per zone.
    @return The effective price [micro-coins per kWh].
    """
    return walk.effective_price(order, zone_fees)


@external
@pure
def outcome(
    rule: uint256, traded: bool, eff_bid_k: uint256, eff_ask_l: uint256, walked_wh: uint256, k: uint256,
    l: uint256, before_k_wh: uint256, before_l_wh: uint256
) -> (uint256, uint256, uint256):
    """
    @dev The prices and volume of a finished walk under `rule`.
    @param rule 0 uniform, 1 trade reduction.
    @param traded Whether the walk filled anything.
    @param eff_bid_k Effective price of bid K.
    @param eff_ask_l Effective price of ask L.
    @param walked_wh The walk's total fill [Wh].
    @param k Bid K's index.
    @param l Ask L's index.
    @param before_k_wh Energy of bids 0..K-1 [Wh].
    @param before_l_wh Energy of asks 0..L-1 [Wh].
    @return buy_price.
    @return sell_price.
    @return volume [Wh].
    """
    return walk.outcome(rule, traded, eff_bid_k, eff_ask_l, walked_wh, k, l, before_k_wh, before_l_wh)
