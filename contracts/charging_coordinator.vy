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
        whose TCC reaches 0 expires.

        The contract does not sort (the paper's on-chain QuickSort costs O(n log n) storage operations):
        the closer passes the pending requests and their order as calldata, and the contract VERIFIES in
        O(n) that they are exactly the pending requests (two keccak hash chains kept in storage) and that
        the order is the unique one of the rule (a permutation, strictly decreasing by the comparison of
        `gridchain.core.priority.precedes`). Allocations are public through the verified calldata of the
        close transaction and a commitment (`allocations_hash`) in its event; anyone recomputes them.

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
    allocations_hash: bytes32  # keccak chain over (arrival << 64 | granted_w), in the verified order


START_TIME: public(immutable(uint256))
SLOT_LENGTH: public(immutable(uint256))
BETA1_PM: public(immutable(uint256))

members: public(HashMap[address, bool])
next_arrival: public(uint256)
next_slot_to_close: public(uint256)
last_capacity_w: public(uint256)
posted_capacity: public(HashMap[uint256, uint256])  # capacity_w + 1; 0 = not posted
submit_hash: public(HashMap[uint256, bytes32])  # chain of the requests submitted in a slot
carry_hash: public(HashMap[uint256, bytes32])  # chain of the requests carried into a slot
carry_count: public(HashMap[uint256, uint256])


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
    self.last_capacity_w = initial_capacity_w
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
    assert slot >= self.next_slot_to_close, "coordinator: slot closed"
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
    self.submit_hash[current] = keccak256(concat(self.submit_hash[current], convert(request, bytes32)))
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
    assert slot >= self.next_slot_to_close, "coordinator: slot already closed"
    assert slot == self.next_slot_to_close, "coordinator: earlier slot not closed"
    assert block.timestamp >= START_TIME + (slot + 1) * SLOT_LENGTH, "coordinator: slot not ended"
    n: uint256 = len(requests)
    self._check_pending(slot, requests, n)
    assert len(order) == (n + 15) // 16, "coordinator: order has the wrong length"

    posted: uint256 = self.posted_capacity[slot]
    capacity: uint256 = self.last_capacity_w
    if posted != 0:
        capacity = posted - 1

    # Pass 1: verify the order (a permutation, strictly decreasing) and walk it greedily.
    seen: uint256[ORDER_WORDS] = empty(uint256[ORDER_WORDS])
    fits: uint256[ORDER_WORDS] = empty(uint256[ORDER_WORDS])  # bit i: request i scheduled in full
    remaining: uint256 = capacity
    best: uint256 = UNSET  # leftover candidate: highest priority among the unscheduled, earliest on ties
    best_u: uint256 = 0
    prev: uint256 = 0
    prev_u: uint256 = 0
    for k: uint256 in range(n, bound=MAX_REQUESTS):
        i: uint256 = (order[k >> 4] >> ((k & 15) << 4)) & MASK16
        assert i < n, "coordinator: order index out of range"
        bit: uint256 = 1 << (i & 255)
        assert seen[i >> 8] & bit == 0, "coordinator: order repeats a request"
        seen[i >> 8] |= bit
        request: uint256 = requests[i]
        u: uint256 = self._priority(request)
        if k > 0:
            assert self._precedes(prev, prev_u, request, u), "coordinator: order not sorted"
        demand: uint256 = request & MASK64
        if demand <= remaining:
            remaining -= demand
            fits[i >> 8] |= bit
        elif best == UNSET or u > best_u:
            best = i
            best_u = u
        prev = request
        prev_u = u
    partial_w: uint256 = 0
    partial_arrival: uint256 = UNSET
    if remaining > 0 and best != UNSET:
        partial_w = remaining
        partial_arrival = requests[best] >> 112
        remaining = 0

    # Pass 2, in the same order: commit the allocations, carry the unserved into slot + 1, expire the rest.
    allocations: bytes32 = empty(bytes32)
    carry: bytes32 = empty(bytes32)
    granted_w: uint256 = 0
    scheduled: uint256 = 0
    carried: uint256 = 0
    expired: uint256 = 0
    for k: uint256 in range(n, bound=MAX_REQUESTS):
        i: uint256 = (order[k >> 4] >> ((k & 15) << 4)) & MASK16
        request: uint256 = requests[i]
        demand: uint256 = request & MASK64
        granted: uint256 = 0
        if fits[i >> 8] & (1 << (i & 255)) != 0:
            granted = demand
            scheduled += 1
        elif i == best:
            granted = partial_w
        granted_w += granted
        allocations = keccak256(concat(allocations, convert(((request >> 112) << 64) | granted, bytes32)))
        if granted < demand:
            tcc: uint256 = (request >> 80) & MASK32
            if tcc == 1:
                expired += 1
                log RequestExpired(slot=slot, arrival=request >> 112, remaining_w=demand - granted)
            else:
                moved: uint256 = (request & ~(MASK64 | (MASK32 << 80))) | (demand - granted) | ((tcc - 1) << 80)
                carry = keccak256(concat(carry, convert(moved, bytes32)))
                carried += 1

    assert granted_w + remaining == capacity, "coordinator: invariant broken"  # granted_w <= capacity
    self.carry_hash[slot + 1] = carry
    self.carry_count[slot + 1] = carried
    self.last_capacity_w = capacity
    self.next_slot_to_close = slot + 1
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
        allocations_hash=allocations,
    )


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
def _check_pending(slot: uint256, requests: DynArray[uint256, MAX_REQUESTS], n: uint256):
    """
    @dev `requests` must be exactly the carried chain followed by the submitted chain of `slot`.
    """
    carried: uint256 = self.carry_count[slot]
    assert n >= carried, "coordinator: requests do not match the pending set"
    h: bytes32 = empty(bytes32)
    for i: uint256 in range(carried, bound=MAX_REQUESTS):
        h = keccak256(concat(h, convert(requests[i], bytes32)))
    assert h == self.carry_hash[slot], "coordinator: requests do not match the pending set"
    h = empty(bytes32)
    for i: uint256 in range(carried, n, bound=MAX_REQUESTS):
        h = keccak256(concat(h, convert(requests[i], bytes32)))
    assert h == self.submit_hash[slot], "coordinator: requests do not match the pending set"


@internal
@view
def _priority(request: uint256) -> uint256:
    """
    @dev U = beta1_pm (1000 - soc_pm) + (1000 - beta1_pm) F(tcc), F = 1000, 500, 0 for tcc = 1, 2, >= 3.
    """
    tcc: uint256 = (request >> 80) & MASK32
    f: uint256 = 0
    if tcc == 1:
        f = PM
    elif tcc == 2:
        f = PM // 2
    return BETA1_PM * (PM - ((request >> 64) & MASK16)) + (PM - BETA1_PM) * f


@internal
@pure
def _precedes(a: uint256, u_a: uint256, b: uint256, u_b: uint256) -> bool:
    """
    @dev a strictly before b: higher U / demand (cross-multiplied), then higher U, then earlier arrival.
    """
    lhs: uint256 = u_a * (b & MASK64)
    rhs: uint256 = u_b * (a & MASK64)
    if lhs != rhs:
        return lhs > rhs
    if u_a != u_b:
        return u_a > u_b
    return (a >> 112) < (b >> 112)
