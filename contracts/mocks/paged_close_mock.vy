# pragma version ~=0.4.3
"""
@title `paged_close` module reference implementation
@custom:contract-name paged_close_mock
@license MIT
@author gridchain
@notice Initializes `modules/slots.vy` and `modules/paged_close.vy` and exports the paged close, with a setter
        that gives the next slot to close any pending set (its carried count, carry chain and submit chain),
        so that tests check the paged close on its own, without submissions or members
        (`tests/contracts/test_modules.py`). Tests only: nothing deploys it.
"""

from ..modules import paged_close
from ..modules import slots

initializes: slots
initializes: paged_close[slots := slots]
exports: (
    paged_close.__interface__,
    slots.next_slot_to_close,
    slots.carry_count,
    slots.carry_hash,
    slots.last_capacity_w,
    slots.submit_hash,
)


@deploy
@payable
def __init__(start_time: uint256, slot_length: uint256, beta1_pm: uint256, initial_capacity_w: uint256):
    """
    @dev Payable, so the constructor has no callvalue check.
    @param start_time Unix time at which slot 0 begins.
    @param slot_length Seconds per slot.
    @param beta1_pm Weight of (1 - SoC) in the priority, per-mille.
    @param initial_capacity_w Capacity of a slot when none is posted for it [W].
    """
    slots.__init__(start_time, slot_length, beta1_pm, initial_capacity_w)


@external
def set_pending(carried: uint256, carry_hash: bytes32, submit_hash: bytes32):
    """
    @dev Give the next slot to close a pending set: `carried` requests chained into `carry_hash` (from
         CARRY_IV), then the submissions chained into `submit_hash`, written into the slot's ring word as it
         is (a chain tagged with another slot is no chain of this one).
    @param carried How many requests are carried into the slot.
    @param carry_hash Their carry chain.
    @param submit_hash The slot's submit chain.
    """
    state: uint256 = slots.close_state
    slot: uint256 = state & slots.MASK64
    slots.close_state = slot | (carried << 64) | ((state >> 128) << 128)
    slots.carry_hash = carry_hash
    slots.submit_ring[slot % slots.RING] = convert(submit_hash, uint256)


@external
def post_capacity(slot: uint256, capacity_w: uint256):
    """
    @dev Post a slot's capacity, unchecked.
    @param slot The slot.
    @param capacity_w Its capacity [W].
    """
    slots.posted_capacity[slot] = capacity_w + 1
