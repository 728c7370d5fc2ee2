# pragma version ~=0.4.3
"""
@title Charging coordinator for one community
@custom:contract-name charging_coordinator
@license MIT
@notice The utility (owner) posts each slot's charging capacity C - P_R; authorised ESUs submit
        charging requests (demand, state of charge, time to complete charging) into the current slot:
        either from a member account (`submit_request`, at most the member's request limit per slot, 1
        unless the owner sets another: the rule orders by U / demand, so a member that could split its
        demand into many small requests would jump ahead, and could flood a slot), or anonymously, from a
        one-time pseudonym that carries a blind-signature token of the utility, relayed by anyone who pays
        the gas, one request or a batch per transaction (`submit_request_anonymous`,
        `submit_requests_anonymous`; the checks are in `modules/anonymous_requests.vy`). Once a slot has
        ended anyone may close it. The close applies the scheduling rule of Baza et al. (Section IV) exactly
        as `gridchain.core` does: priority
        U = beta1 (1 - SoC) + beta2 F(TCC), greedy walk by U / demand with skip-and-continue, the leftover
        capacity to the unscheduled request of highest U, the rest deferred. Deferred and partial requests
        move to the next slot with TCC - 1 and their remaining demand (their SoC unchanged: the contract
        does not know battery sizes); a request whose TCC reaches 0 expires. The carry chain lists them in
        the order the close settles them: in the order of the walk, except that the leftover candidate is
        settled when a higher-priority one displaces it or, last, at the end of the walk.

        The contract does not sort (the paper's on-chain QuickSort costs O(n log n) storage operations):
        the closer passes the pending requests IN THE RULE'S ORDER as calldata, and the contract VERIFIES in
        O(n) that the list is strictly decreasing by the comparison of `gridchain.core.priority.precedes`
        (so its requests are distinct and the order is the rule's) and that it holds exactly the pending
        requests (two keccak hash chains kept in storage). `close_slot` does it in one call for up to
        MAX_REQUESTS requests; a larger slot closes in pages (`begin_close`, `close_sorted_page`,
        `close_pending_page`, `finish_close`) with the same result. Allocations are public through the
        verified calldata, from which anyone recomputes them with `gridchain.core`; the SlotClosed event
        carries the totals and the partial grant, and each expiry of a close in one call has an event (a
        paged close's pages walk before anything is verified, so they log none: its expiries are recomputed
        from its verified input, like its allocations).

        A paged close belongs to its caller: each account keeps its own (`paging[caller]`), so any number of
        keepers may page the same slot at once and the first to finish closes it; nobody can hold, reset or
        block anybody else's, and a close in one call needs nothing superseded. `begin_close` fixes the
        capacity, and `finish_close` refuses if the owner has posted another since. Every value a page lists
        must be a well-formed packed request (below 2**176, demand > 0, soc_pm < 1000, tcc > 0) before it
        enters the walk or the product: every pending request is one, so both multisets lie below the
        field's prime and equal products at the random point mean equal multisets (no `x + FIELD` aliasing).

        A request is one word: demand_w (bits 0-63) | soc_pm (64-79) | tcc (80-111) | arrival (112-175),
        where arrival = slot << 32 | k for the slot's k-th submission (k from 1): unique across the
        contract's life and increasing with time, it breaks all ties. A slot's submissions are one storage
        word, `submit_hash[slot]`: a keccak chain of its requests whose low 32 bits hold the count k
        (`_link`), so a submission reads and writes that one word and no global counter.
        A slot without a posted capacity uses the capacity of the slot before it (the constructor's for
        slot 0).

        Invariants: the power granted in a slot is at most that slot's capacity (asserted in `_finish`, the
        end of every close); every request in a hash chain is well-formed (checked at submission, kept by
        the carry-over), so a close walks only well-formed requests; a member records at most its request
        limit per slot (asserted in `submit_request`).
@dev The rule's walk itself is the stateless module `modules/greedy_walk.vy`; this contract keeps the state,
     the access rules and the two ways of closing. Python twin: `gridchain.core.coordinator` (packing, hash
     chains, carry-over, the whole state machine).
"""

from snekmate.auth import ownable
from snekmate.utils import eip712_domain_separator as eip712
from modules import anonymous_requests
from modules import greedy_walk

initializes: ownable
initializes: eip712
initializes: anonymous_requests[eip712 := eip712]
exports: (
    ownable.owner,
    ownable.transfer_ownership,
    eip712.eip712Domain,
    anonymous_requests.spent,
)


MAX_REQUESTS: constant(uint256) = greedy_walk.MAX_REQUESTS
MAX_BATCH: constant(uint256) = 32  # anonymous requests relayed in one transaction
MODULUS_WORDS: constant(uint256) = anonymous_requests.MODULUS_WORDS
EPOCH_SECONDS: constant(uint256) = anonymous_requests.EPOCH_SECONDS
POSITION_WORDS: constant(uint256) = 64  # 16 indices of 16 bits per word
PM: constant(uint256) = greedy_walk.PM
MASK16: constant(uint256) = greedy_walk.MASK16
MASK32: constant(uint256) = greedy_walk.MASK32
HIGH224: constant(uint256) = max_value(uint256) - MASK32  # a submit chain's hash bits
MASK64: constant(uint256) = greedy_walk.MASK64
REQUEST_BITS: constant(uint256) = 176  # a packed request lies below 2**176
ALLOWED: constant(uint256) = 1  # a member word's flag
LIMIT_BITS: constant(uint256) = MASK32 << 32  # a member word's request limit - 1
UNSET: constant(uint256) = greedy_walk.UNSET
CARRY_IV: constant(bytes32) = greedy_walk.CARRY_IV
# BN254's scalar field: the permutation check of a paged close works in it (packed requests < 2**176 < FIELD)
FIELD: constant(uint256) = 21888242871839275222246405745257275088548364400416034343698204186575808495617

event MemberChanged:
    member: indexed(address)
    allowed: bool

event RequestLimitChanged:
    member: indexed(address)
    limit: uint256  # requests per slot

event CapacityPosted:
    slot: indexed(uint256)
    capacity_w: uint256

event RequestSubmitted:
    slot: indexed(uint256)
    sender: indexed(address)
    request: uint256  # packed, see the header

event RequestBatchSubmitted:
    slot: indexed(uint256)
    requests: DynArray[uint256, MAX_BATCH]  # packed, in arrival order

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


struct Paging:  # one account's paged close
    slot: uint256
    n: uint256  # requests committed; 0 = never begun
    capacity: uint256  # the capacity when it began: finish_close refuses if the slot's has changed since
    sorted_target: bytes32  # the chain of the whole list in the rule's order, committed by begin_close
    challenge: uint256  # r, derived from the pending chains and sorted_target
    sorted_hash: bytes32  # chain of the sorted pages so far
    sorted_product: uint256  # product of (r - request) over the sorted pages, mod FIELD
    pending_count: uint256
    pending_hash: bytes32  # chain of the pending pages so far (the carried chain, then the submitted one)
    pending_product: uint256  # product of (r - request) over the pending pages, mod FIELD
    walk: greedy_walk.Walk


START_TIME: public(immutable(uint256))
SLOT_LENGTH: public(immutable(uint256))
BETA1_PM: public(immutable(uint256))

# per account: member flag (bit 0) | request limit - 1 (bits 32-63) | requests in `slot` (64-127) |
# slot of its last request (128-255). One word, read by every member submission anyway: the limit costs one
# write of a warm non-zero word.
member_state: public(HashMap[address, uint256])
posted_capacity: public(HashMap[uint256, uint256])  # capacity_w + 1; 0 = not posted
submit_hash: public(HashMap[uint256, bytes32])  # chain of a slot's submissions, their count in the low 32 bits
carry_hash: public(bytes32)  # chain (from CARRY_IV) of the requests carried into the next slot to close
# one word, written once per close: next_slot_to_close (bits 0-63) | carry_count (64-127) |
# last_capacity_w (128-191): the capacity used by the last close, the default for an unposted slot
close_state: uint256
paging: public(HashMap[address, Paging])  # each account's own paged close


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
    eip712.__init__("gridchain coordinator", "1")
    START_TIME = start_time
    SLOT_LENGTH = slot_length
    BETA1_PM = beta1_pm
    self.close_state = initial_capacity_w << 128
    self.carry_hash = CARRY_IV


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
@view
def members(member: address) -> bool:
    """
    @dev Whether `member` may submit requests from its account.
    """
    return self.member_state[member] & ALLOWED != 0


@external
@view
def request_limit(member: address) -> uint256:
    """
    @dev How many requests `member` may submit per slot (1 unless the owner has set another).
    """
    return ((self.member_state[member] >> 32) & MASK32) + 1


@external
@view
def member_requests(member: address, slot: uint256) -> uint256:
    """
    @dev How many requests `member` has submitted into `slot` if that is the slot of its last request, else 0
         (the member's word counts one slot only: the current one while it submits).
    """
    word: uint256 = self.member_state[member]
    if word >> 128 != slot:
        return 0
    return (word >> 64) & MASK64


@external
def set_member(member: address, allowed: bool):
    """
    @dev Owner only: admit or remove an ESU account (the non-anonymous mode). Its request limit and its
         count in the current slot are kept (removing and admitting again does not reset the count).
    """
    self._check_owner()
    word: uint256 = self.member_state[member] & (max_value(uint256) - ALLOWED)
    if allowed:
        word |= ALLOWED
    self.member_state[member] = word
    log MemberChanged(member=member, allowed=allowed)


@external
def set_request_limit(member: address, limit: uint256):
    """
    @dev Owner only: how many requests `member` may submit per slot, from the next submission on (a count
         already reached in the current slot stays). The paper's ESU sends one request per slot.
    @param limit 1 .. 2**32.
    """
    self._check_owner()
    assert limit > 0, "coordinator: request limit is 0"
    assert limit <= MASK32 + 1, "coordinator: request limit out of range"
    word: uint256 = self.member_state[member] & (max_value(uint256) - LIMIT_BITS)
    self.member_state[member] = word | ((limit - 1) << 32)
    log RequestLimitChanged(member=member, limit=limit)


@external
def post_capacity(slot: uint256, capacity_w: uint256):
    """
    @dev Owner only: the charging capacity C - P_R of `slot` [W], any time before that slot is closed (a paged
         close of it that began with another capacity then cannot finish, and is begun again).
    """
    self._check_owner()
    assert slot >= self.close_state & MASK64, "coordinator: slot closed"
    assert capacity_w <= MASK64, "coordinator: capacity out of range"
    self.posted_capacity[slot] = capacity_w + 1
    log CapacityPosted(slot=slot, capacity_w=capacity_w)


@external
def register_epoch_key(epoch: uint256, modulus: uint256[MODULUS_WORDS]):
    """
    @dev Owner only: the RSA-2048 public key (e = 65537) under which the utility signs this community's tokens
         for `epoch` (the UTC day, unix time // 86400). Once per epoch; not for an epoch that is over.
    """
    self._check_owner()
    anonymous_requests._register(epoch, modulus)


@external
@view
def epoch_key(epoch: uint256) -> bytes32:
    """
    @dev keccak256 of the modulus registered for `epoch` (256 bytes, big-endian), or empty when none is.
    """
    return anonymous_requests._epoch_key(epoch)


@external
@view
def staged_key() -> uint256[MODULUS_WORDS]:
    """
    @dev The modulus being registered, read by the key contract's init code; zero outside `register_epoch_key`.
    """
    return anonymous_requests.staged_key


@external
@view
def epoch_key_address(epoch: uint256) -> address:
    """
    @dev The data contract whose code is 0x00 || the modulus of `epoch` (no code while none is registered).
    """
    return anonymous_requests._key_address(epoch)


@external
def submit_request(demand_w: uint256, soc_pm: uint256, tcc: uint256, slot: uint256 = UNSET) -> uint256:
    """
    @dev Submit a charging request into the current slot from a member account (the non-anonymous mode), at
         most the member's request limit per slot. With `slot`, revert unless it is the current one.
    @param demand_w Energy wanted this slot [W], 1 .. 2**64 - 1.
    @param soc_pm State of charge, per-mille, 0 .. 999.
    @param tcc Time to complete charging [slots], 1 .. 2**32 - 1.
    @return The request's arrival number.
    """
    current: uint256 = self._current_slot()
    if slot != UNSET:
        self._check_slot(slot, current)
    word: uint256 = self.member_state[msg.sender]
    assert word & ALLOWED != 0, "coordinator: sender not authorised"
    self._check_fields(demand_w, soc_pm, tcc)
    count: uint256 = 0
    if word >> 128 == current:
        count = (word >> 64) & MASK64
    assert count <= (word >> 32) & MASK32, "coordinator: request limit reached"  # count < limit
    self.member_state[msg.sender] = (word & MASK64) | ((count + 1) << 64) | (current << 128)
    return self._record(current, demand_w, soc_pm, tcc, msg.sender)


@external
def submit_request_anonymous(slot: uint256, epoch: uint256, request: anonymous_requests.AnonymousRequest) -> uint256:
    """
    @dev Anyone (a relayer, or the funded pseudonym itself): submit one request into the current slot, signed
         by a one-time pseudonym that carries a token of the utility (see `modules/anonymous_requests.vy`).
         The pseudonym is spent.
    @param slot The current slot, as the pseudonym signed it.
    @param epoch The token's epoch (UTC day), as the pseudonym signed it; the slot's epoch.
    @return The request's arrival number.
    """
    current: uint256 = self._current_slot()
    self._check_slot(slot, current)
    n: Bytes[anonymous_requests.MODULUS_BYTES] = anonymous_requests._check_key(epoch, self._epoch_of(current))
    self._check_fields(request.demand_w, request.soc_pm, request.tcc)
    anonymous_requests._spend(request, slot, epoch, n)
    return self._record(current, request.demand_w, request.soc_pm, request.tcc, request.pseudonym)


@external
def submit_requests_anonymous(
    slot: uint256,
    epoch: uint256,
    requests: DynArray[anonymous_requests.AnonymousRequest, MAX_BATCH],
) -> uint256:
    """
    @dev A relayer's batch: up to MAX_BATCH anonymous requests for the current slot under one epoch key, all
         recorded or none (the relayer checks each beforehand). One RequestBatchSubmitted event lists them.
    @return The arrival number of the first; the others follow it in order.
    """
    assert len(requests) > 0, "coordinator: no requests"
    current: uint256 = self._current_slot()
    self._check_slot(slot, current)
    n: Bytes[anonymous_requests.MODULUS_BYTES] = anonymous_requests._check_key(epoch, self._epoch_of(current))
    h: bytes32 = self.submit_hash[current]
    first: uint256 = self._next_arrival(current, h)
    arrival: uint256 = first
    packed: DynArray[uint256, MAX_BATCH] = []
    for request: anonymous_requests.AnonymousRequest in requests:
        self._check_fields(request.demand_w, request.soc_pm, request.tcc)
        anonymous_requests._spend(request, slot, epoch, n)
        word: uint256 = request.demand_w | (request.soc_pm << 64) | (request.tcc << 80) | (arrival << 112)
        h = self._link(h, word)
        packed.append(word)
        arrival = unsafe_add(arrival, 1)
    self.submit_hash[current] = h
    log RequestBatchSubmitted(slot=current, requests=packed)
    return first


@external
def close_slot(slot: uint256, requests: DynArray[uint256, MAX_REQUESTS], positions: DynArray[uint256, POSITION_WORDS]):
    """
    @dev Anyone, once `slot` has ended and every earlier slot is closed: schedule the slot in one call.
    @param requests The pending requests, packed, in the rule's order (strictly decreasing).
    @param positions For each pending request in canonical order (the carried chain, then the submitted
           chain), its index in `requests`: 16 bits each, 16 per word (entry k in bits 16 (k % 16) of
           word k // 16).
    """
    capacity: uint256 = 0
    carried: uint256 = 0
    capacity, carried = self._open_close(slot)
    n: uint256 = len(requests)
    assert len(positions) == (n + 15) // 16, "coordinator: positions have the wrong length"
    self._check_pending(slot, requests, positions, n, carried)
    w: greedy_walk.Walk = greedy_walk.walk(slot, requests, greedy_walk.start(capacity), BETA1_PM, True)
    self._finish(slot, capacity, n, w, True)


@external
def begin_close(slot: uint256, n: uint256, sorted_hash: bytes32):
    """
    @dev Start closing `slot` in pages: commit to its n requests and to the keccak chain of the whole list
         in the rule's order. The paged close is the caller's own: only it adds pages to it, a new
         begin_close of the caller starts its own over, and other accounts' paged closes are untouched.
    """
    capacity: uint256 = 0
    carried: uint256 = 0
    capacity, carried = self._open_close(slot)
    assert n >= carried and n > 0, "coordinator: requests do not match the pending set"
    # r is fixed only after both lists are: the pending ones by their chains, the sorted one by sorted_hash
    seed: bytes32 = keccak256(abi_encode(self.carry_hash, self.submit_hash[slot], sorted_hash, slot, n))
    r: uint256 = convert(seed, uint256) % FIELD
    self.paging[msg.sender] = Paging(
        slot=slot, n=n, capacity=capacity, sorted_target=sorted_hash, challenge=r, sorted_hash=empty(bytes32),
        sorted_product=1, pending_count=0, pending_hash=CARRY_IV, pending_product=1, walk=greedy_walk.start(capacity),
    )


@external
def close_sorted_page(requests: DynArray[uint256, MAX_REQUESTS]):
    """
    @dev The next requests of the list in the rule's order: each checked to be a well-formed request, then
         chained, multiplied into the check and walked (no expiry is logged: nothing is verified yet).
    """
    p: Paging = self._paging()
    assert p.walk.walked + len(requests) <= p.n, "coordinator: more requests than committed"
    h: bytes32 = p.sorted_hash
    product: uint256 = p.sorted_product
    for request: uint256 in requests:
        # well-formed, as `_check_fields` and packing make every pending request: no value aliases another
        # modulo FIELD, and the walk's unchecked arithmetic stays in range
        assert request >> REQUEST_BITS == 0, "coordinator: listed request out of range"
        assert request & MASK64 != 0, "coordinator: demand is 0"
        assert (request >> 64) & MASK16 < PM, "coordinator: soc_pm above 999"
        assert (request >> 80) & MASK32 != 0, "coordinator: tcc is 0"
        h = keccak256(abi_encode(h, request))
        product = uint256_mulmod(product, p.challenge + FIELD - request, FIELD)
    p.walk = greedy_walk.walk(p.slot, requests, p.walk, BETA1_PM, False)
    p.sorted_hash = h
    p.sorted_product = product
    self.paging[msg.sender] = p


@external
def close_pending_page(requests: DynArray[uint256, MAX_REQUESTS]):
    """
    @dev The next requests of the pending set in canonical order (the carried chain, then the submitted
         chain): chained and multiplied into the check.
    """
    p: Paging = self._paging()
    assert p.pending_count + len(requests) <= p.n, "coordinator: more requests than committed"
    carried: uint256 = (self.close_state >> 64) & MASK64
    h: bytes32 = p.pending_hash
    product: uint256 = p.pending_product
    k: uint256 = p.pending_count
    for request: uint256 in requests:
        assert request >> REQUEST_BITS == 0, "coordinator: listed request out of range"
        if k == carried:
            assert h == self.carry_hash, "coordinator: requests do not match the pending set"
            h = empty(bytes32)
        h = keccak256(abi_encode(h, request))
        if k >= carried:  # the submit chain: `_link`, inlined
            h = convert((convert(h, uint256) & HIGH224) | ((request >> 112) & MASK32), bytes32)
        product = uint256_mulmod(product, p.challenge + FIELD - request, FIELD)
        k = unsafe_add(k, 1)
    p.pending_hash = h
    p.pending_product = product
    p.pending_count = k
    self.paging[msg.sender] = p


@external
def finish_close():
    """
    @dev Once every page is in: check that the slot's capacity is still the one the close began with, that
         the sorted list is the committed one and a permutation of the pending set (equal products at the
         random point r: Schwartz-Zippel; every listed value is below FIELD), then close the slot.
    """
    p: Paging = self._paging()
    assert self._capacity(p.slot, self.close_state) == p.capacity, "coordinator: capacity changed since begin_close"
    assert p.walk.walked == p.n and p.pending_count == p.n, "coordinator: pages missing"
    assert p.sorted_hash == p.sorted_target, "coordinator: pages differ from the committed order"
    h: bytes32 = p.pending_hash
    if p.n == (self.close_state >> 64) & MASK64:
        assert h == self.carry_hash, "coordinator: requests do not match the pending set"
        h = empty(bytes32)
    assert h == self.submit_hash[p.slot], "coordinator: requests do not match the pending set"
    assert p.sorted_product == p.pending_product, "coordinator: requests do not match the pending set"
    self._finish(p.slot, p.capacity, p.n, p.walk, False)  # the slot advances: every paged close of it is void


@internal
@view
def _open_close(slot: uint256) -> (uint256, uint256):
    """
    @dev Check that `slot` may close now; return its capacity and how many requests were carried into it.
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
    """
    posted: uint256 = self.posted_capacity[slot]
    if posted != 0:
        return posted - 1
    return state >> 128


@internal
@view
def _paging() -> Paging:
    """
    @dev The caller's paged close, if it is of the slot that closes next (a closed slot's is void).
    """
    p: Paging = self.paging[msg.sender]
    assert p.n > 0 and p.slot == self.close_state & MASK64, "coordinator: no paged close in progress"
    return p


@internal
def _finish(slot: uint256, capacity: uint256, n: uint256, walk: greedy_walk.Walk, log_expiries: bool):
    """
    @dev End of every close: the leftover, the invariant, the next slot's state, the event.
    """
    w: greedy_walk.Walk = walk
    partial_w: uint256 = 0
    partial_arrival: uint256 = 0
    w, partial_w, partial_arrival = greedy_walk.finish(slot, w, log_expiries)
    assert w.granted <= capacity, "coordinator: invariant broken"  # granted power <= capacity
    self.carry_hash = w.carry
    self.close_state = (slot + 1) | (w.carried << 64) | (capacity << 128)
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
@view
def _current_slot() -> uint256:
    assert block.timestamp >= START_TIME, "coordinator: not started"
    return (block.timestamp - START_TIME) // SLOT_LENGTH


@internal
@view
def _check_owner():
    assert msg.sender == ownable.owner, "coordinator: caller is not the owner"


@internal
@pure
def _check_slot(slot: uint256, current: uint256):
    assert slot >= current, "coordinator: slot closed"
    assert slot == current, "coordinator: slot not open"


@internal
@pure
def _check_fields(demand_w: uint256, soc_pm: uint256, tcc: uint256):
    assert demand_w > 0, "coordinator: demand is 0"
    assert demand_w <= MASK64, "coordinator: demand out of range"
    assert soc_pm < PM, "coordinator: soc_pm above 999"
    assert tcc > 0, "coordinator: tcc is 0"
    assert tcc <= MASK32, "coordinator: tcc out of range"


@internal
def _record(current: uint256, demand_w: uint256, soc_pm: uint256, tcc: uint256, sender: address) -> uint256:
    """
    @dev Chain a checked request into the current slot's submissions; return its arrival number.
    """
    h: bytes32 = self.submit_hash[current]
    arrival: uint256 = self._next_arrival(current, h)
    request: uint256 = demand_w | (soc_pm << 64) | (tcc << 80) | (arrival << 112)
    self.submit_hash[current] = self._link(h, request)
    log RequestSubmitted(slot=current, sender=sender, request=request)
    return arrival


@internal
@pure
def _next_arrival(current: uint256, h: bytes32) -> uint256:
    """
    @dev The arrival number of the next submission into `current`, whose submit chain is `h`: slot << 32 | k.
         (A slot cannot hold 2**32 submissions: at 30,000 gas each they would need 10**14 gas.)
    """
    assert current <= MASK32, "coordinator: slot out of range"
    return (current << 32) | ((convert(h, uint256) & MASK32) + 1)


@internal
@pure
def _link(h: bytes32, request: uint256) -> bytes32:
    """
    @dev One step of a submit chain: the high 224 bits of keccak256(h || request), the low 32 bits the
         request's index in its slot (the low 32 bits of its arrival number).
    """
    return convert(
        (convert(keccak256(abi_encode(h, request)), uint256) & HIGH224) | ((request >> 112) & MASK32),
        bytes32,
    )


@internal
@view
def _epoch_of(slot: uint256) -> uint256:
    """
    @dev The epoch (UTC day) in which `slot` begins: the tokens of its requests are that day's.
    """
    return (START_TIME + slot * SLOT_LENGTH) // EPOCH_SECONDS


@internal
@view
def _check_pending(
    slot: uint256,
    requests: DynArray[uint256, MAX_REQUESTS],
    positions: DynArray[uint256, POSITION_WORDS],
    n: uint256,
    carried: uint256,
):
    """
    @dev Taken in canonical order through `positions`, `requests` must be exactly the carried chain then
         the submitted chain of `slot`. (They are then n distinct requests of the list: no bitmap needed.)
    """
    assert n >= carried, "coordinator: requests do not match the pending set"
    h: bytes32 = CARRY_IV
    for k: uint256 in range(carried, bound=MAX_REQUESTS):  # the carry chain
        i: uint256 = (positions[k >> 4] >> ((k & 15) << 4)) & MASK16
        assert i < n, "coordinator: position out of range"
        h = keccak256(abi_encode(h, requests[i]))  # the same 64 bytes as concat, for less gas
    assert h == self.carry_hash, "coordinator: requests do not match the pending set"
    h = empty(bytes32)
    for k: uint256 in range(carried, n, bound=MAX_REQUESTS):  # the submit chain: `_link`, inlined
        i: uint256 = (positions[k >> 4] >> ((k & 15) << 4)) & MASK16
        assert i < n, "coordinator: position out of range"
        request: uint256 = requests[i]
        h = convert(
            (convert(keccak256(abi_encode(h, request)), uint256) & HIGH224) | ((request >> 112) & MASK32), bytes32
        )
    assert h == self.submit_hash[slot], "coordinator: requests do not match the pending set"
