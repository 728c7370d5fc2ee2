# pragma version ~=0.4.3
"""
@title Charging coordinator for one community
@custom:contract-name charging_coordinator
@license MIT
@notice The utility (owner) posts each slot's charging capacity C - P_R; authorised ESUs submit
        charging requests (demand, state of charge, time to complete charging) into the current slot;
        once a slot has ended anyone may close it. The close applies the scheduling rule of Baza et al.
        (Section IV) exactly as `gridchain.core` does: priority U = beta1 (1 - SoC) + beta2 F(TCC), greedy
        walk by U / demand with skip-and-continue, the leftover capacity to the unscheduled request of
        highest U, the rest deferred. Deferred and partial requests move to the next slot with TCC - 1 and
        their remaining demand (their SoC unchanged: the contract does not know battery sizes); a request
        whose TCC reaches 0 expires. The carry chain lists them in the order the close settles them: in
        the order of the walk, except that the leftover candidate is settled when a higher-priority one
        displaces it or, last, at the end of the walk.

        The contract does not sort (the paper's on-chain QuickSort costs O(n log n) storage operations):
        the closer passes the pending requests and their order as calldata, and the contract VERIFIES in
        O(n) that they are exactly the pending requests (two keccak hash chains kept in storage) and that
        the order is the unique one of the rule (a permutation, strictly decreasing by the comparison of
        `gridchain.core.priority.precedes`). Allocations are public through the verified calldata of the
        close transaction, from which anyone recomputes them with `gridchain.core`; its SlotClosed event
        carries the totals and the partial grant, and each expiry has an event.

        A request is one word: demand_w (bits 0-63) | soc_pm (64-79) | tcc (80-111) | arrival (112-175),
        where arrival is a sequence number unique across the contract's life (from 1); it breaks all ties.
        A slot without a posted capacity uses the capacity of the slot before it (the constructor's for
        slot 0).

        Invariant (asserted in `close_slot`): the power granted in a slot is at most that slot's capacity.
@dev Python twin: `gridchain.core.coordinator` (packing, hash chains, carry-over, the whole state machine).
"""

from snekmate.auth import ownable

initializes: ownable
exports: (ownable.owner, ownable.transfer_ownership)


MAX_REQUESTS: constant(uint256) = 1024  # per close call; memory is reserved for the whole bound
ORDER_WORDS: constant(uint256) = 64  # 16 indices of 16 bits per word
PM: constant(uint256) = 1000
MASK16: constant(uint256) = 2**16 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK64: constant(uint256) = 2**64 - 1
UNSET: constant(uint256) = max_value(uint256)
KEEP_FIELDS: constant(uint256) = ~(MASK64 | (MASK32 << 80))  # soc_pm and arrival of a packed request
# The carry chain starts from this IV (keccak256("gridchain.coordinator.carry")), so its storage word is never
# zero and each close rewrites it for 2,900 gas instead of 20,000.
CARRY_IV: constant(bytes32) = 0x46cad51d099c0f4bbb24ce2899de95b861de751b19c20aa4a5aa1250bbd9cf97


event MemberChanged:
    member: indexed(address)
    allowed: bool

event CapacityPosted:
    slot: indexed(uint256)
    capacity_w: uint256

event RequestSubmitted:
    slot: indexed(uint256)
    sender: indexed(address)
    request: uint256  # packed, see the header

event RequestExpired:
    slot: indexed(uint256)
    arrival: uint256
    remaining_w: uint256

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
BETA2_PM: immutable(uint256)

members: public(HashMap[address, bool])
next_arrival: public(uint256)
posted_capacity: public(HashMap[uint256, uint256])  # capacity_w + 1; 0 = not posted
submit_hash: public(HashMap[uint256, bytes32])  # chain of the requests submitted in a slot
carry_hash: public(bytes32)  # chain (from CARRY_IV) of the requests carried into the next slot to close
# one word, written once per close: next_slot_to_close (bits 0-63) | carry_count (64-127) |
# last_capacity_w (128-191): the capacity used by the last close, the default for an unposted slot
close_state: uint256


@deploy
def __init__(start_time: uint256, slot_length: uint256, beta1_pm: uint256, initial_capacity_w: uint256):
    """
    @dev The deployer becomes the owner (the utility).
    @param start_time Unix time at which slot 0 begins.
    @param slot_length Seconds per slot (the paper's evaluation uses one hour).
    @param beta1_pm Weight of (1 - SoC) in the priority, per-mille; F(TCC) weighs 1000 - beta1_pm.
    @param initial_capacity_w Capacity of slot 0 when none is posted for it [W].
    """
    assert slot_length > 0, "coordinator: slot length is 0"
    assert beta1_pm <= PM, "coordinator: beta1_pm above 1000"
    assert initial_capacity_w <= MASK64, "coordinator: capacity out of range"
    ownable.__init__()
    START_TIME = start_time
    SLOT_LENGTH = slot_length
    BETA1_PM = beta1_pm
    BETA2_PM = PM - beta1_pm
    self.close_state = initial_capacity_w << 128
    self.carry_hash = CARRY_IV
    self.next_arrival = 1  # paid here, so that no submission pays for a fresh storage slot for it


@external
@view
def current_slot() -> uint256:
    """
    @dev The slot that `block.timestamp` falls in; reverts before slot 0 begins.
    """
    return self._current_slot()


@external
@view
def slot_end(slot: uint256) -> uint256:
    """
    @dev Unix time at which `slot` ends and may be closed.
    """
    return START_TIME + (slot + 1) * SLOT_LENGTH


@external
@view
def next_slot_to_close() -> uint256:
    """
    @dev Slots close in order; this is the one that closes next.
    """
    return self.close_state & MASK64


@external
@view
def carry_count() -> uint256:
    """
    @dev How many requests are carried into the next slot to close (the length of `carry_hash`'s chain).
    """
    return (self.close_state >> 64) & MASK64


@external
@view
def last_capacity_w() -> uint256:
    """
    @dev The capacity the last close used: that of the next slot to close if none is posted for it.
    """
    return self.close_state >> 128


@external
def set_member(member: address, allowed: bool):
    """
    @dev Owner only: admit or remove an ESU account (the non-anonymous mode).
    """
    self._check_owner()
    self.members[member] = allowed
    log MemberChanged(member=member, allowed=allowed)


@external
def post_capacity(slot: uint256, capacity_w: uint256):
    """
    @dev Owner only: the charging capacity C - P_R of `slot` [W], any time before that slot is closed.
    """
    self._check_owner()
    assert slot >= self.close_state & MASK64, "coordinator: slot closed"
    assert capacity_w <= MASK64, "coordinator: capacity out of range"
    self.posted_capacity[slot] = capacity_w + 1
    log CapacityPosted(slot=slot, capacity_w=capacity_w)


@external
def submit_request(demand_w: uint256, soc_pm: uint256, tcc: uint256, slot: uint256 = UNSET) -> uint256:
    """
    @dev Submit a charging request into the current slot. With `slot`, revert unless it is the current one.
    @param demand_w Energy wanted this slot [W], 1 .. 2**64 - 1.
    @param soc_pm State of charge, per-mille, 0 .. 999.
    @param tcc Time to complete charging [slots], 1 .. 2**32 - 1.
    @return The request's arrival number.
    """
    current: uint256 = self._current_slot()
    if slot != UNSET:
        assert slot >= current, "coordinator: slot closed"
        assert slot == current, "coordinator: slot not open"
    self._check_authorised(msg.sender)
    assert demand_w > 0, "coordinator: demand is 0"
    assert demand_w <= MASK64, "coordinator: demand out of range"
    assert soc_pm < PM, "coordinator: soc_pm above 999"
    assert tcc > 0, "coordinator: tcc is 0"
    assert tcc <= MASK32, "coordinator: tcc out of range"
    arrival: uint256 = self.next_arrival
    self.next_arrival = arrival + 1
    request: uint256 = demand_w | (soc_pm << 64) | (tcc << 80) | (arrival << 112)
    self.submit_hash[current] = keccak256(abi_encode(self.submit_hash[current], request))
    log RequestSubmitted(slot=current, sender=msg.sender, request=request)
    return arrival


@external
def close_slot(slot: uint256, requests: DynArray[uint256, MAX_REQUESTS], order: DynArray[uint256, ORDER_WORDS]):
    """
    @dev Anyone, once `slot` has ended and every earlier slot is closed: schedule the slot.
    @param requests The pending requests, packed: first those carried into the slot (in the order of the
           carry chain), then those submitted in it (in submission order).
    @param order The requests' indices in the rule's order, 16 bits each, 16 per word (index k in
           bits 16 (k % 16) .. of word k // 16).
    """
    state: uint256 = self.close_state
    assert slot >= state & MASK64, "coordinator: slot already closed"
    assert slot == state & MASK64, "coordinator: earlier slot not closed"
    assert block.timestamp >= START_TIME + (slot + 1) * SLOT_LENGTH, "coordinator: slot not ended"
    n: uint256 = len(requests)
    self._check_pending(slot, requests, n, (state >> 64) & MASK64)
    assert len(order) == (n + 15) // 16, "coordinator: order has the wrong length"

    posted: uint256 = self.posted_capacity[slot]
    capacity: uint256 = state >> 128
    if posted != 0:
        capacity = posted - 1

    # One pass over the order: verify it, walk it greedily, and settle every request that will get nothing:
    # carry it into slot + 1 or expire it. The leftover candidate (the highest priority among the unscheduled
    # so far, earliest on ties) is held back until it is displaced or the walk ends, when it takes the
    # leftover capacity. The order is a permutation because it has n in-range indices and is STRICTLY
    # decreasing under a strict total order (arrivals are unique), so no request can appear twice.
    # Unchecked arithmetic below is bounded: soc_pm < 1000, u <= 10**6, demand < 2**64.
    remaining: uint256 = capacity
    granted_w: uint256 = 0
    scheduled: uint256 = 0
    held: uint256 = UNSET  # packed request of the leftover candidate
    held_u: uint256 = 0
    prev: uint256 = 0
    prev_u: uint256 = 0
    carry: bytes32 = CARRY_IV
    carried: uint256 = 0
    expired: uint256 = 0
    for k: uint256 in range(n, bound=MAX_REQUESTS):
        i: uint256 = (order[k >> 4] >> ((k & 15) << 4)) & MASK16
        assert i < n, "coordinator: order index out of range"
        request: uint256 = requests[i]
        # U = beta1 (1000 - soc) + beta2 F(tcc), F = 1000, 500, 0 for tcc = 1, 2, >= 3 (inlined: gas)
        tcc: uint256 = (request >> 80) & MASK32
        u: uint256 = unsafe_mul(BETA1_PM, unsafe_sub(PM, (request >> 64) & MASK16))
        if tcc == 1:
            u = unsafe_add(u, BETA2_PM * PM)
        elif tcc == 2:
            u = unsafe_add(u, BETA2_PM * (PM // 2))
        demand: uint256 = request & MASK64
        if k > 0:
            # prev strictly before request: higher U / demand (cross-multiplied), higher U, earlier arrival
            lhs: uint256 = unsafe_mul(prev_u, demand)
            rhs: uint256 = unsafe_mul(u, prev & MASK64)
            if lhs == rhs:
                if prev_u == u:
                    assert prev >> 112 < request >> 112, "coordinator: order not sorted"
                else:
                    assert prev_u > u, "coordinator: order not sorted"
            else:
                assert lhs > rhs, "coordinator: order not sorted"
        if demand <= remaining:
            remaining = unsafe_sub(remaining, demand)
            granted_w = unsafe_add(granted_w, demand)
            scheduled = unsafe_add(scheduled, 1)
        elif held == UNSET or u > held_u:
            if held != UNSET:
                carry, carried, expired = self._settle(slot, held, 0, carry, carried, expired)
            held = request
            held_u = u
        else:
            carry, carried, expired = self._settle(slot, request, 0, carry, carried, expired)
        prev = request
        prev_u = u
    partial_w: uint256 = 0
    partial_arrival: uint256 = UNSET
    if held != UNSET:
        if remaining > 0:
            partial_w = remaining
            partial_arrival = held >> 112
            granted_w += remaining
        carry, carried, expired = self._settle(slot, held, partial_w, carry, carried, expired)

    assert granted_w <= capacity, "coordinator: invariant broken"
    self.carry_hash = carry
    self.close_state = (slot + 1) | (carried << 64) | (capacity << 128)
    log SlotClosed(
        slot=slot,
        capacity_w=capacity,
        granted_w=granted_w,
        requests=n,
        scheduled=scheduled,
        partial_arrival=partial_arrival,
        partial_w=partial_w,
        expired=expired,
        carried=carried,
    )


@internal
def _settle(
    slot: uint256, request: uint256, granted: uint256, carry: bytes32, carried: uint256, expired: uint256
) -> (bytes32, uint256, uint256):
    """
    @dev A request not served in full: expire it if its TCC was 1, else carry it with TCC - 1 and the
         demand it still has. Returns the carry chain and the carried and expired counts.
    """
    # granted < demand (it is 0 or the leftover, which did not cover the demand) and tcc >= 1
    remaining_w: uint256 = unsafe_sub(request & MASK64, granted)
    tcc: uint256 = (request >> 80) & MASK32
    if tcc == 1:
        log RequestExpired(slot=slot, arrival=request >> 112, remaining_w=remaining_w)
        return carry, carried, unsafe_add(expired, 1)
    moved: uint256 = (request & KEEP_FIELDS) | remaining_w | (unsafe_sub(tcc, 1) << 80)
    return keccak256(abi_encode(carry, moved)), unsafe_add(carried, 1), expired


@internal
@view
def _current_slot() -> uint256:
    assert block.timestamp >= START_TIME, "coordinator: not started"
    return (block.timestamp - START_TIME) // SLOT_LENGTH


@internal
@view
def _check_owner():
    assert msg.sender == ownable.owner, "coordinator: caller is not the owner"


@internal
@view
def _check_authorised(sender: address):
    """
    @dev The one authorisation check for requests (the member list; anonymous tokens extend it).
    """
    assert self.members[sender], "coordinator: sender not authorised"


@internal
@view
def _check_pending(slot: uint256, requests: DynArray[uint256, MAX_REQUESTS], n: uint256, carried: uint256):
    """
    @dev `requests` must be exactly the carried chain followed by the submitted chain of `slot`.
    """
    assert n >= carried, "coordinator: requests do not match the pending set"
    h: bytes32 = CARRY_IV
    i: uint256 = 0
    for request: uint256 in requests:
        if i == carried:
            assert h == self.carry_hash, "coordinator: requests do not match the pending set"
            h = empty(bytes32)
        h = keccak256(abi_encode(h, request))  # the same 64 bytes as concat, for less gas
        i = unsafe_add(i, 1)
    if n == carried:
        assert h == self.carry_hash, "coordinator: requests do not match the pending set"
        h = empty(bytes32)
    assert h == self.submit_hash[slot], "coordinator: requests do not match the pending set"
