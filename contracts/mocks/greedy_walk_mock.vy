# pragma version ~=0.4.3
"""
@title `greedy_walk` module reference implementation
@custom:contract-name greedy_walk_mock
@license MIT
@author gridchain
@notice Exposes the internal functions of the stateless module `modules/greedy_walk.vy` (and a whole walk:
        start, walk, finish), so that tests check the rule's walk on its own against the Python twin
        (`tests/contracts/test_modules.py`). Tests only: nothing deploys it.
"""

# @dev Stateless: imported, not initialized.
from ..modules import greedy_walk


@deploy
@payable
def __init__():
    """
    @dev Payable, so the constructor has no callvalue check.
    """
    pass


@external
@pure
def start(capacity: uint256) -> greedy_walk.Walk:
    """
    @dev A walk that has seen nothing yet.
    @param capacity The capacity to grant [W].
    @return The walk.
    """
    return greedy_walk.start(capacity)


@external
def walk(
    slot: uint256, requests: DynArray[uint256, greedy_walk.MAX_REQUESTS], w: greedy_walk.Walk, beta1_pm: uint256
) -> greedy_walk.Walk:
    """
    @dev Continue a walk over the next requests in the rule's order, logging expiries.
    @param slot The slot being closed.
    @param requests The next packed requests in the rule's order.
    @param w The walk so far.
    @param beta1_pm Weight of (1 - SoC) in the priority, per-mille.
    @return The walk after `requests`.
    """
    return greedy_walk.walk(slot, requests, w, beta1_pm, True)


@external
def close(
    slot: uint256, requests: DynArray[uint256, greedy_walk.MAX_REQUESTS], capacity: uint256, beta1_pm: uint256
) -> (greedy_walk.Walk, uint256, uint256):
    """
    @dev A whole walk, as a close in one call does it: start, walk every request, finish (expiries logged).
    @param slot The slot being closed.
    @param requests Its packed requests in the rule's order.
    @param capacity The slot's capacity [W].
    @param beta1_pm Weight of (1 - SoC) in the priority, per-mille.
    @return The finished walk.
    @return The partial grant [W].
    @return The arrival number it went to (2**256 - 1 if none).
    """
    return greedy_walk.finish(slot, greedy_walk.walk(slot, requests, greedy_walk.start(capacity), beta1_pm, True), True)
