# pragma version ~=0.4.3
"""
@title A community's slots: the clock, the capacities, the chains of pending requests, the end of a close
@custom:contract-name slots
@license MIT
@author gridchain
@notice Slot s runs from START_TIME + s SLOT_LENGTH to START_TIME + (s + 1) SLOT_LENGTH; slots close in order,
        each once it has ended. A slot's pending requests are those carried into it (the carry chain, from
        CARRY_IV, `carry_hash`: one chain, of the next slot to close) and those submitted into it (its submit
        chain, see `request_chain.vy`). A slot without a posted capacity uses the capacity of the slot before
        it (the constructor's for slot 0). Every close, in one call or in pages, ends in `_finish`: the
        leftover to the held candidate, the carry chain of the next slot, the SlotClosed event.

        The submit chains live in a ring of RING words, slot s's in `submit_ring[s % RING]`, so that no
        submission writes a fresh storage word (0 -> non-zero costs 17,100 gas more than a rewrite). A
        chain's low 64 bits are the arrival number slot << 32 | k of its last request: its slot (the tag) and
        its count k >= 1. A word whose count is 0 is free: the constructor writes every word so (non-zero,
        with a tag that is no slot of that word), and the close of a slot clears its chain's count
        (`_finish`). A submission into slot t (the coordinator's `_record` and batch) continues the word if
        its tag is t, starts t's chain afresh if the word is free, and otherwise reverts ("too many slots not
        closed"): the word holds the chain of slot t - j RING (j >= 1), not closed yet. Liveness
        bound: a slot's submissions need every slot with submissions that is RING or more slots older to be
        closed; at most RING slots with submissions are pending at once (96 slots: 4 days of one-hour slots,
        a day of 15-minute ones). A close of slot s reads s's chain (`_submitted`: the word if its tag is s
        and its count not 0, else the empty chain) and frees it.

        Invariant: the power granted in a slot is at most that slot's capacity (asserted in `_finish`, the
        end of every close). A ring word with a count k >= 1 holds the whole submit chain of its tag's slot,
        which is not closed: only submissions into the current slot (never closed: a slot closes once it has
        ended) write a count, only from that slot's own chain or a free word, and that slot's close, the one
        close that sees its tag, frees it. So a slot's chain is never overwritten before its close, and a
        close never reads another slot's.
@dev The state that the coordinator and its paged close (`paged_close.vy`, `uses: slots`) share; the
     coordinator initializes it. Reverts read "coordinator: ..." because they surface from the coordinator.
     Python twin: `CoordinatorModel` in `gridchain.core.coordinator`.
"""

from . import greedy_walk
from . import request_chain

MASK32: constant(uint256) = request_chain.MASK32
MASK64: constant(uint256) = request_chain.MASK64
RING: constant(uint256) = 96  # submit chains kept at once: the most slots with submissions that may be pending


event SlotClosed:
    slot: indexed(uint256)
    capacity_w: uint256
    granted_w: uint256
    requests: uint256
    scheduled: uint256
    partial_arrival: uint256  # UNSET (2**256 - 1) when no partial grant
    partial_w: uint256
    expired: uint256
    carried: uint256


START_TIME: public(immutable(uint256))
SLOT_LENGTH: public(immutable(uint256))
BETA1_PM: public(immutable(uint256))

posted_capacity: public(HashMap[uint256, uint256])  # capacity_w + 1; 0 = not posted
# the submit chains: slot s's in word s % RING, its low 64 bits slot << 32 | k (k = 0: free), see the header
submit_ring: uint256[RING]
carry_hash: public(bytes32)  # chain (from CARRY_IV) of the requests carried into the next slot to close
# one word, written once per close: next_slot_to_close (bits 0-63) | carry_count (64-127) |
# last_capacity_w (128-191): the capacity used by the last close, the default for an unposted slot
close_state: uint256


@deploy
def __init__(start_time: uint256, slot_length: uint256, beta1_pm: uint256, initial_capacity_w: uint256):
    """
    @dev Slot 0 is the next to close, nothing is carried into it; every ring word is free.
    @param start_time Unix time at which slot 0 begins.
    @param slot_length Seconds per slot.
    @param beta1_pm Weight of (1 - SoC) in the priority, per-mille.
    @param initial_capacity_w Capacity of slot 0 when none is posted for it [W].
    """
    assert slot_length > 0, "coordinator: slot length is 0"
    assert beta1_pm <= request_chain.PM, "coordinator: beta1_pm above 1000"
    assert initial_capacity_w <= MASK64, "coordinator: capacity out of range"
    START_TIME = start_time
    SLOT_LENGTH = slot_length
    BETA1_PM = beta1_pm
    self.close_state = initial_capacity_w << 128
    self.carry_hash = request_chain.CARRY_IV
    # word i free (count 0) and non-zero, so never 0 -> non-zero again; its tag i + 1 is no slot of word i
    # (not i modulo RING), so no submission takes it for its own chain
    for i: uint256 in range(RING):
        self.submit_ring[i] = (i + 1) << 32


@external
@view
def submit_hash(slot: uint256) -> bytes32:
    """
    @dev The submit chain of `slot` while it is not closed: empty if nothing was submitted into it, or once it
         is closed.
    @param slot The slot.
    @return Its chain; the low 32 bits count its requests.
    """
    return self._submitted(slot)


@external
@view
def current_slot() -> uint256:
    """
    @dev The slot that `block.timestamp` falls in; reverts before slot 0 begins.
    @return The current slot.
    """
    return self._current_slot()


@external
@view
def slot_end(slot: uint256) -> uint256:
    """
    @dev When `slot` ends and may be closed.
    @param slot The slot.
    @return Its end, unix time [s].
    """
    return START_TIME + (slot + 1) * SLOT_LENGTH


@external
@view
def next_slot_to_close() -> uint256:
    """
    @dev Slots close in order; this is the one that closes next.
    @return The next slot to close.
    """
    return self.close_state & MASK64


@external
@view
def carry_count() -> uint256:
    """
    @dev How many requests are carried into the next slot to close (the length of `carry_hash`'s chain).
    @return The number of carried requests.
    """
    return (self.close_state >> 64) & MASK64


@external
@view
def last_capacity_w() -> uint256:
    """
    @dev The capacity the last close used: that of the next slot to close if none is posted for it.
    @return The capacity [W].
    """
    return self.close_state >> 128


@internal
@view
def _current_slot() -> uint256:
    """
    @dev The slot that `block.timestamp` falls in.
    @return The current slot; reverts before slot 0 begins.
    """
    assert block.timestamp >= START_TIME, "coordinator: not started"
    return (block.timestamp - START_TIME) // SLOT_LENGTH


@internal
@view
def _submitted(slot: uint256) -> bytes32:
    """
    @dev The submit chain of `slot` (not closed): its ring word if the word is its chain, else empty.
    @param slot The slot.
    @return Its chain.
    """
    word: uint256 = self.submit_ring[slot % RING]
    if (word >> 32) & MASK32 != slot or word & MASK32 == 0:
        return empty(bytes32)
    return convert(word, bytes32)


@internal
@view
def _open_close(slot: uint256) -> (uint256, uint256):
    """
    @dev Check that `slot` may close now: it is the next to close and it has ended.
    @param slot The slot to close.
    @return Its capacity [W].
    @return How many requests were carried into it.
    """
    state: uint256 = self.close_state
    assert slot >= state & MASK64, "coordinator: slot already closed"
    assert slot == state & MASK64, "coordinator: earlier slot not closed"
    assert block.timestamp >= START_TIME + (slot + 1) * SLOT_LENGTH, "coordinator: slot not ended"
    return self._capacity(slot, state), (state >> 64) & MASK64


@internal
@view
def _capacity(slot: uint256, state: uint256) -> uint256:
    """
    @dev The capacity a close of `slot` (the next to close) uses: the one posted for it, else the last close's.
    @param slot The next slot to close.
    @param state The close state word.
    @return The capacity [W].
    """
    posted: uint256 = self.posted_capacity[slot]
    if posted != 0:
        return posted - 1
    return state >> 128


@internal
def _finish(slot: uint256, capacity: uint256, n: uint256, walk: greedy_walk.Walk, log_expiries: bool):
    """
    @dev End of every close: the leftover, the invariant, the next slot's state, the event.
    @param slot The slot being closed, the next to close.
    @param capacity Its capacity [W].
    @param n How many requests it had pending.
    @param walk The walk over all of them, in the rule's order.
    @param log_expiries Whether to log the held candidate's expiry (a verified close in one call).
    """
    w: greedy_walk.Walk = walk
    partial_w: uint256 = 0
    partial_arrival: uint256 = 0
    w, partial_w, partial_arrival = greedy_walk.finish(slot, w, log_expiries)
    assert w.granted <= capacity, "coordinator: invariant broken"  # granted power <= capacity
    self.carry_hash = w.carry
    self.close_state = (slot + 1) | (w.carried << 64) | (capacity << 128)
    self._free_chain(slot)
    log SlotClosed(
        slot=slot,
        capacity_w=capacity,
        granted_w=w.granted,
        requests=n,
        scheduled=w.scheduled,
        partial_arrival=partial_arrival,
        partial_w=partial_w,
        expired=w.expired,
        carried=w.carried,
    )


@internal
def _free_chain(slot: uint256):
    """
    @dev At the end of the close of `slot`: free its ring word if it holds its chain (the count set to 0; the
         word stays non-zero, its hash bits and tag kept).
    @param slot The slot being closed.
    """
    word: uint256 = self.submit_ring[slot % RING]
    if (word >> 32) & MASK32 == slot and word & MASK32 != 0:
        self.submit_ring[slot % RING] = word & (max_value(uint256) - MASK32)
