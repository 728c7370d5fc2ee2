# pragma version ~=0.4.3
"""
@title `slots` module reference implementation
@custom:contract-name slots_mock
@license MIT
@author gridchain
@notice Initializes `modules/slots.vy`, exports its interface and exposes its internal functions, with a
        setter for a slot's capacity, so that tests check the slot clock, the capacity rule and the end of a
        close on their own (`tests/contracts/test_modules.py`). Tests only: nothing deploys it.
"""

from ..modules import greedy_walk
from ..modules import slots

initializes: slots
exports: slots.__interface__


@deploy
@payable
def __init__(start_time: uint256, slot_length: uint256, beta1_pm: uint256, initial_capacity_w: uint256):
    """
    @dev Payable, so the constructor has no callvalue check.
    @param start_time Unix time at which slot 0 begins.
    @param slot_length Seconds per slot.
    @param beta1_pm Weight of (1 - SoC) in the priority, per-mille.
    @param initial_capacity_w Capacity of slot 0 when none is posted for it [W].
    """
    slots.__init__(start_time, slot_length, beta1_pm, initial_capacity_w)


@external
def post_capacity(slot: uint256, capacity_w: uint256):
    """
    @dev Post a slot's capacity, unchecked (the coordinator's owner-only rule is not the module's).
    @param slot The slot.
    @param capacity_w Its capacity [W].
    """
    slots.posted_capacity[slot] = capacity_w + 1


@external
@view
def open_close(slot: uint256) -> (uint256, uint256):
    """
    @dev `slots._open_close`: whether `slot` may close now.
    @param slot The slot.
    @return Its capacity [W].
    @return How many requests were carried into it.
    """
    return slots._open_close(slot)


@external
def finish(
    slot: uint256,
    requests: DynArray[uint256, greedy_walk.MAX_REQUESTS],
    walk_capacity: uint256,
    capacity: uint256,
):
    """
    @dev `slots._finish` after a walk over `requests`, unverified (the caller vouches for them). A walk over
         more than `capacity` breaks the invariant, which `_finish` asserts.
    @param slot The slot being closed.
    @param requests Packed requests in the rule's order.
    @param walk_capacity The capacity the walk grants [W].
    @param capacity The slot's capacity, reported and checked [W].
    """
    w: greedy_walk.Walk = greedy_walk.walk(slot, requests, greedy_walk.start(walk_capacity), slots.BETA1_PM, False)
    slots._finish(slot, capacity, len(requests), w, False)
