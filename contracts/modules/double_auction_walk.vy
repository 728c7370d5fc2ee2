# pragma version ~=0.4.3
"""
@title The pieces of a sealed-bid call market's clearing: effective prices and the two pricing rules
@custom:contract-name double_auction_walk
@license MIT
@author gridchain
@notice An order is one word: trader (bits 96-255) | price per kWh in micro-coins (32-95, uint64) |
        energy_wh (8-31, uint24) | zone (1-7) | side (bit 0: 0 = bid, 1 = ask). A zone's grid fee is 32 bits of
        `zone_fees` (zone z at bits 32z..32z+31). Effective prices: a bid's is price - fee (0 if price <= fee),
        an ask's price + fee. The walk goes down the bids (effective price descending) and up the asks
        (ascending) while the current bid's effective price is at least the current ask's, filling
        min(remaining bid, remaining ask) each step; bid K and ask L are the last with a fill.
        Rule 0 (uniform, pay-as-clear): both sides pay/receive (eff_bid[K] + eff_ask[L]) // 2, volume = the
        walk's total. Rule 1 (trade reduction, McAfee's rule on multi-unit orders): bid K and ask L are
        excluded, volume = min(energy of bids 0..K-1, energy of asks 0..L-1), buyers pay eff_bid[K], sellers
        receive eff_ask[L]; no trade if K or L is 0 (`outcome`).

        Invariant: the price rule returns buy_price >= sell_price, buy_price <= eff_bid[K] and
        sell_price >= eff_ask[L] whenever eff_bid[K] >= eff_ask[L] (which the walk guarantees), so every
        matched order is individually rational and the market weakly budget balanced; `outcome` asserts it.
@dev Stateless. Spec v2 runs no walk on chain: `call_market.clear` checks the keeper's claim about the walk's
     end (its marks) in one pass over the reveals and calls `outcome` with what that pass measured; it inlines
     `effective_price` in the pass (an internal call costs about 30 gas a call). The mock
     (`mocks/double_auction_walk_mock.vy`) tests this module, and the contract's tests check the inlined copy on
     the same books. Reverts read "call_market: ..." because they surface from the market. Python twin:
     `gridchain.market.model` (the same rule).
"""

MASK32: constant(uint256) = 2**32 - 1
MASK64: constant(uint256) = 2**64 - 1
RULE_UNIFORM: constant(uint256) = 0
RULE_TRADE_REDUCTION: constant(uint256) = 1


@internal
@pure
def effective_price(order: uint256, zone_fees: uint256) -> uint256:
    """
    @dev An order's effective price: a bid's price less its zone's fee (0 if the fee is not below the price),
         an ask's price plus its zone's fee.
    @param order The order word.
    @param zone_fees The market's fees, 32 bits per zone.
    @return The effective price [micro-coins per kWh], below 2**65.
    """
    price: uint256 = (order >> 32) & MASK64
    fee: uint256 = (zone_fees >> ((order & 254) << 4)) & MASK32  # zone z = (order >> 1) & 127, shift 32 z
    if order & 1 == 0:
        if price > fee:
            return unsafe_sub(price, fee)
        return 0
    return unsafe_add(price, fee)


@internal
@pure
def outcome(
    rule: uint256, traded: bool, eff_bid_k: uint256, eff_ask_l: uint256, walked_wh: uint256, k: uint256,
    l: uint256, before_k_wh: uint256, before_l_wh: uint256
) -> (uint256, uint256, uint256):
    """
    @dev The prices and volume of a finished walk under `rule`.
    @param rule 0 uniform (pay-as-clear), 1 trade reduction.
    @param traded Whether the walk filled anything.
    @param eff_bid_k Effective price of bid K, the last bid with a fill.
    @param eff_ask_l Effective price of ask L, the last ask with a fill.
    @param walked_wh The walk's total fill [Wh].
    @param k Bid K's index in the sorted bids.
    @param l Ask L's index in the sorted asks.
    @param before_k_wh Energy of bids 0..K-1 [Wh].
    @param before_l_wh Energy of asks 0..L-1 [Wh].
    @return buy_price [micro-coins per kWh], 0 without trade.
    @return sell_price [micro-coins per kWh], 0 without trade.
    @return volume [Wh], 0 without trade.
    """
    if not traded:
        return 0, 0, 0
    buy: uint256 = 0
    sell: uint256 = 0
    volume: uint256 = 0
    if rule == RULE_UNIFORM:
        buy = unsafe_add(eff_bid_k, eff_ask_l) // 2  # both below 2**65: no overflow
        sell = buy
        volume = walked_wh
    else:
        if k == 0 or l == 0:
            return 0, 0, 0
        buy = eff_bid_k
        sell = eff_ask_l
        volume = min(before_k_wh, before_l_wh)
    # individual rationality of the marginal pair (hence of every matched order), weak budget balance
    assert buy <= eff_bid_k and sell >= eff_ask_l and buy >= sell, "call_market: invariant broken"
    return buy, sell, volume
