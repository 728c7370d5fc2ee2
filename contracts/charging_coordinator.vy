# pragma version ~=0.4.3
"""
@title Charging coordinator for one community
@custom:contract-name charging_coordinator
@license MIT
@author gridchain
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
        MAX_REQUESTS requests; a larger slot closes in pages with the same result (`begin_close`,
        `close_sorted_page`, `close_pending_page`, `finish_close`, from `modules/paged_close.vy`). Allocations
        are public through the verified calldata, from which anyone recomputes them with `gridchain.core`;
        the SlotClosed event carries the totals and the partial grant, and each expiry of a close in one call
        has an event (a paged close's pages walk before anything is verified, so they log none: its expiries
        are recomputed from its verified input, like its allocations).

        A paged close belongs to its caller: each account keeps its own (`paging[caller]`), so any number of
        keepers may page the same slot at once and the first to finish closes it; nobody can hold, reset or
        block anybody else's, and a close in one call needs nothing superseded. `begin_close` fixes the
        capacity, and `finish_close` refuses if the owner has posted another since.

        A request is one word (`modules/request_chain.vy`): demand_w (bits 0-63) | soc_pm (64-79) |
        tcc (80-111) | arrival (112-175), where arrival = slot << 32 | k for the slot's k-th submission
        (k from 1): unique across the contract's life and increasing with time, it breaks all ties. A slot's
        submissions are one storage word: a keccak chain of its requests whose low 64 bits hold the slot and
        the count k (`request_chain.link`), so a submission reads and writes that one word and no global
        counter. The words form a ring of RING = 96 (`slots.vy`), written non-zero by the constructor and
        freed by each close, so no submission pays for a fresh word; a submission reverts while its word
        holds the chain of a slot RING or more slots older that is not closed (at most 96 slots with
        submissions pending at once). A slot without a posted capacity uses the capacity of the slot before it (the
        constructor's for slot 0).

        The owner may delegate the routine duty of posting capacity to a hot key, the capacity poster
        (`set_capacity_poster`): it may post any slot's capacity up to its bound, and do nothing else; the owner
        stays unbounded, replaces the poster or revokes it (the empty address) at any time. With the owner a
        Safe multisig (`gridchain.governance`), the poster is the utility's only single key.

        Invariants: the power granted in a slot is at most that slot's capacity (asserted in
        `slots._finish`, the end of every close); every request in a hash chain is well-formed (checked at
        submission, kept by the carry-over), so a close walks only well-formed requests; a member records at
        most its request limit per slot (asserted in `submit_request`); a slot's submit chain stays in its
        ring word from its first submission to its close, and a close reads no other slot's (`slots.vy`).
@dev Composed of modules (contracts/modules/): `slots.vy` (the slot clock, the capacities, the two chains and
     the end of every close), `paged_close.vy` (the close in pages, `uses: slots`), `greedy_walk.vy` (the
     rule's walk), `request_chain.vy` (a request's packing and the submit chain's link) and
     `anonymous_requests.vy` (epoch keys, tokens, pseudonyms). This contract keeps the members and the
     access rules, takes the submissions and verifies a close in one call. Its interface, for other
     contracts, and its events: `interfaces/ICoordinator.vyi`. Python twin: `gridchain.core.coordinator`
     (packing, hash chains, carry-over, the whole state machine).
"""

from snekmate.auth import ownable
from snekmate.utils import eip712_domain_separator as eip712
from interfaces import ICoordinator
from modules import anonymous_requests
from modules import greedy_walk
from modules import paged_close
from modules import request_chain
from modules import slots

implements: ICoordinator

initializes: ownable
initializes: eip712
initializes: anonymous_requests[eip712 := eip712]
initializes: slots
initializes: paged_close[slots := slots]
exports: (
    ownable.owner,
    ownable.transfer_ownership,
    eip712.eip712Domain,
    anonymous_requests.spent,
    slots.START_TIME,
    slots.SLOT_LENGTH,
    slots.BETA1_PM,
    slots.posted_capacity,
    slots.submit_hash,
    slots.carry_hash,
    slots.current_slot,
    slots.slot_end,
    slots.next_slot_to_close,
    slots.carry_count,
    slots.last_capacity_w,
    paged_close.begin_close,
    paged_close.close_sorted_page,
    paged_close.close_pending_page,
    paged_close.close_pages,
    paged_close.finish_close,
    paged_close.paging,
)


MAX_REQUESTS: constant(uint256) = greedy_walk.MAX_REQUESTS
MAX_BATCH: constant(uint256) = 32  # anonymous requests relayed in one transaction
MODULUS_WORDS: constant(uint256) = anonymous_requests.MODULUS_WORDS
EPOCH_SECONDS: constant(uint256) = anonymous_requests.EPOCH_SECONDS
POSITION_WORDS: constant(uint256) = 64  # 16 indices of 16 bits per word
MASK16: constant(uint256) = request_chain.MASK16
MASK32: constant(uint256) = request_chain.MASK32
HIGH192: constant(uint256) = request_chain.HIGH192
MASK64: constant(uint256) = request_chain.MASK64
ALLOWED: constant(uint256) = 1  # a member word's flag
LIMIT_BITS: constant(uint256) = MASK32 << 32  # a member word's request limit - 1
UNSET: constant(uint256) = greedy_walk.UNSET
CARRY_IV: constant(bytes32) = request_chain.CARRY_IV

# per account: member flag (bit 0) | request limit - 1 (bits 32-63) | requests in `slot` (64-127) |
# slot of its last request (128-255). One word, read by every member submission anyway: the limit costs one
# write of a warm non-zero word.
member_state: public(HashMap[address, uint256])

# the capacity poster (bits 0-159) | its bound [W] (160-223); 0 when there is none. One word: a poster's
# post_capacity reads it once; the owner's never reads it.
poster_state: uint256
POSTER_MASK: constant(uint256) = (1 << 160) - 1


@deploy
def __init__(start_time: uint256, slot_length: uint256, beta1_pm: uint256, initial_capacity_w: uint256):
    """
    @dev The deployer becomes the owner (the utility).
    @param start_time Unix time at which slot 0 begins.
    @param slot_length Seconds per slot (the paper's evaluation uses one hour).
    @param beta1_pm Weight of (1 - SoC) in the priority, per-mille; F(TCC) weighs 1000 - beta1_pm.
    @param initial_capacity_w Capacity of slot 0 when none is posted for it [W].
    """
    slots.__init__(start_time, slot_length, beta1_pm, initial_capacity_w)
    ownable.__init__()
    eip712.__init__("gridchain coordinator", "1")


@external
@view
def members(member: address) -> bool:
    """
    @dev Whether `member` may submit requests from its account.
    @param member The account.
    @return True if it is a member.
    """
    return self.member_state[member] & ALLOWED != 0


@external
@view
def request_limit(member: address) -> uint256:
    """
    @dev How many requests `member` may submit per slot (1 unless the owner has set another).
    @param member The account.
    @return Its request limit per slot.
    """
    return ((self.member_state[member] >> 32) & MASK32) + 1


@external
@view
def member_requests(member: address, slot: uint256) -> uint256:
    """
    @dev How many requests `member` has submitted into `slot` if that is the slot of its last request, else 0
         (the member's word counts one slot only: the current one while it submits).
    @param member The account.
    @param slot The slot.
    @return The number of its requests in `slot`.
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
    @param member The account.
    @param allowed True to admit, False to remove.
    """
    self._check_owner()
    word: uint256 = self.member_state[member] & (max_value(uint256) - ALLOWED)
    if allowed:
        word |= ALLOWED
    self.member_state[member] = word
    log ICoordinator.MemberChanged(member=member, allowed=allowed)


@external
def set_request_limit(member: address, limit: uint256):
    """
    @dev Owner only: how many requests `member` may submit per slot, from the next submission on (a count
         already reached in the current slot stays). The paper's ESU sends one request per slot.
    @param member The account (a member or not).
    @param limit Requests per slot, 1 .. 2**32.
    """
    self._check_owner()
    assert limit > 0, "coordinator: request limit is 0"
    assert limit <= MASK32 + 1, "coordinator: request limit out of range"
    word: uint256 = self.member_state[member] & (max_value(uint256) - LIMIT_BITS)
    self.member_state[member] = word | ((limit - 1) << 32)
    log ICoordinator.RequestLimitChanged(member=member, limit=limit)


@external
def set_capacity_poster(poster: address, max_capacity_w: uint256):
    """
    @dev Owner only: the hot key that may post capacities up to `max_capacity_w` (replacing any other), or,
         with the empty address, none (the bound must then be 0).
    @param poster The poster's account, or empty to revoke.
    @param max_capacity_w The highest capacity it may post [W], below 2**64.
    """
    self._check_owner()
    assert max_capacity_w <= MASK64, "coordinator: poster bound out of range"
    assert poster != empty(address) or max_capacity_w == 0, "coordinator: bound without a poster"
    self.poster_state = convert(poster, uint256) | (max_capacity_w << 160)
    log ICoordinator.CapacityPosterChanged(poster=poster, max_capacity_w=max_capacity_w)


@external
@view
def capacity_poster() -> (address, uint256):
    """
    @dev The capacity poster and its bound.
    @return The poster (empty: none).
    @return The highest capacity it may post [W].
    """
    word: uint256 = self.poster_state
    return convert(convert(word & POSTER_MASK, uint160), address), word >> 160


@external
def post_capacity(slot: uint256, capacity_w: uint256):
    """
    @dev Owner or capacity poster: the charging capacity C - P_R of `slot`, any time before that slot is closed
         (a paged close of it that began with another capacity then cannot finish, and is begun again). The
         poster's capacity is at most its bound.
    @param slot The slot, not closed yet.
    @param capacity_w Its capacity [W], below 2**64.
    """
    bound: uint256 = max_value(uint256)  # the owner's
    if msg.sender != ownable.owner:
        word: uint256 = self.poster_state
        assert word & POSTER_MASK == convert(msg.sender, uint256), "coordinator: caller is not the owner or poster"
        bound = word >> 160
    assert slot >= slots.close_state & MASK64, "coordinator: slot already closed"
    assert capacity_w <= MASK64, "coordinator: capacity out of range"
    assert capacity_w <= bound, "coordinator: capacity above the poster's bound"
    slots.posted_capacity[slot] = capacity_w + 1
    log ICoordinator.CapacityPosted(slot=slot, capacity_w=capacity_w)


@external
def register_epoch_key(epoch: uint256, modulus: uint256[MODULUS_WORDS]):
    """
    @dev Owner only: the RSA-2048 public key (e = 3) under which the utility signs this community's tokens
         for `epoch`. Once per epoch; not for an epoch that is over.
    @param epoch The UTC day, unix time // 86400.
    @param modulus The key's modulus n, 2048 bits, odd, as 8 big-endian words.
    """
    self._check_owner()
    anonymous_requests._register(epoch, modulus)


@external
@view
def epoch_key(epoch: uint256) -> bytes32:
    """
    @dev The key registered for `epoch`, by its hash.
    @param epoch The UTC day.
    @return keccak256 of its modulus (256 bytes, big-endian), or empty when none is registered.
    """
    return anonymous_requests._epoch_key(epoch)


@external
@view
def staged_key() -> uint256[MODULUS_WORDS]:
    """
    @dev The modulus being registered, read by the key contract's init code.
    @return The modulus as 8 big-endian words; zero outside `register_epoch_key`.
    """
    return anonymous_requests.staged_key


@external
@view
def epoch_key_address(epoch: uint256) -> address:
    """
    @dev Where the key of `epoch` lives (no code while none is registered).
    @param epoch The UTC day.
    @return The data contract whose code is 0x00 || the modulus of `epoch`.
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
    @param slot The slot the member means (default: whichever is current).
    @return The request's arrival number.
    """
    current: uint256 = slots._current_slot()
    if slot != UNSET:
        self._check_slot(slot, current)
    word: uint256 = self.member_state[msg.sender]
    assert word & ALLOWED != 0, "coordinator: sender not authorised"
    request_chain.check_fields(demand_w, soc_pm, tcc)
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
    @param request The request, its pseudonym, token and signature.
    @return The request's arrival number.
    """
    current: uint256 = slots._current_slot()
    self._check_slot(slot, current)
    n: Bytes[anonymous_requests.MODULUS_BYTES] = anonymous_requests._check_key(epoch, self._epoch_of(current))
    request_chain.check_fields(request.demand_w, request.soc_pm, request.tcc)
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
    @param slot The current slot, as each pseudonym signed it.
    @param epoch The tokens' epoch (UTC day), as each pseudonym signed it; the slot's epoch.
    @param requests The requests, 1 .. MAX_BATCH, each with its pseudonym, token and signature.
    @return The arrival number of the first; the others follow it in order.
    """
    assert len(requests) > 0, "coordinator: no requests"
    current: uint256 = slots._current_slot()
    self._check_slot(slot, current)
    n: Bytes[anonymous_requests.MODULUS_BYTES] = anonymous_requests._check_key(epoch, self._epoch_of(current))
    i: uint256 = current % slots.RING
    word: uint256 = slots.submit_ring[i]
    h: bytes32 = empty(bytes32)
    first: uint256 = 0
    if (word >> 32) & MASK32 == current:  # as in `_record`
        h = convert(word, bytes32)
        first = unsafe_add(word & MASK64, 1)
    else:
        assert word & MASK32 == 0, "coordinator: too many slots not closed"
        first = request_chain.next_arrival(current, h)
    arrival: uint256 = first
    packed: DynArray[uint256, MAX_BATCH] = []
    for request: anonymous_requests.AnonymousRequest in requests:
        request_chain.check_fields(request.demand_w, request.soc_pm, request.tcc)
        anonymous_requests._spend(request, slot, epoch, n)
        packed_request: uint256 = request_chain.pack(request.demand_w, request.soc_pm, request.tcc, arrival)
        h = request_chain.link(h, packed_request)
        packed.append(packed_request)
        arrival = unsafe_add(arrival, 1)
    slots.submit_ring[i] = convert(h, uint256)
    log ICoordinator.RequestBatchSubmitted(slot=current, requests=packed)
    return first


@external
def close_slot(slot: uint256, requests: DynArray[uint256, MAX_REQUESTS], positions: DynArray[uint256, POSITION_WORDS]):
    """
    @dev Anyone, once `slot` has ended and every earlier slot is closed: schedule the slot in one call.
    @param slot The next slot to close.
    @param requests The pending requests, packed, in the rule's order (strictly decreasing).
    @param positions For each pending request in canonical order (the carried chain, then the submitted
           chain), its index in `requests`: 16 bits each, 16 per word (entry k in bits 16 (k % 16) of
           word k // 16).
    """
    capacity: uint256 = 0
    carried: uint256 = 0
    capacity, carried = slots._open_close(slot)
    n: uint256 = len(requests)
    assert len(positions) == (n + 15) // 16, "coordinator: positions have the wrong length"
    self._check_pending(slot, requests, positions, n, carried)
    w: greedy_walk.Walk = greedy_walk.walk(slot, requests, greedy_walk.start(capacity), slots.BETA1_PM, True)
    slots._finish(slot, capacity, n, w, True)


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
def _record(current: uint256, demand_w: uint256, soc_pm: uint256, tcc: uint256, sender: address) -> uint256:
    """
    @dev Chain a checked request into the current slot's submissions; return its arrival number.
    """
    i: uint256 = current % slots.RING
    word: uint256 = slots.submit_ring[i]
    h: bytes32 = empty(bytes32)
    arrival: uint256 = 0
    if (word >> 32) & MASK32 == current:  # the slot's chain: its low 64 bits are its last arrival
        h = convert(word, bytes32)
        arrival = unsafe_add(word & MASK64, 1)
    else:  # another slot's word (see `slots.vy`): free, or that slot is not closed
        assert word & MASK32 == 0, "coordinator: too many slots not closed"
        arrival = request_chain.next_arrival(current, h)
    request: uint256 = request_chain.pack(demand_w, soc_pm, tcc, arrival)
    slots.submit_ring[i] = convert(request_chain.link(h, request), uint256)
    log ICoordinator.RequestSubmitted(slot=current, sender=sender, request=request)
    return arrival


@internal
@view
def _epoch_of(slot: uint256) -> uint256:
    """
    @dev The epoch (UTC day) in which `slot` begins: the tokens of its requests are that day's.
    """
    return (slots.START_TIME + slot * slots.SLOT_LENGTH) // EPOCH_SECONDS


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
    assert n >= carried, "coordinator: fewer requests than carried"
    h: bytes32 = CARRY_IV
    for k: uint256 in range(carried, bound=MAX_REQUESTS):  # the carry chain
        i: uint256 = (positions[k >> 4] >> ((k & 15) << 4)) & MASK16
        assert i < n, "coordinator: position out of range"
        h = keccak256(abi_encode(h, requests[i]))  # the same 64 bytes as concat, for less gas
    assert h == slots.carry_hash, "coordinator: carried chain mismatch"
    h = empty(bytes32)
    # the submit chain: `request_chain.link`, inlined in this loop only (the close in one call): a call per
    # request costs 47 gas more, 3% of the close at n = 500
    for k: uint256 in range(carried, n, bound=MAX_REQUESTS):
        i: uint256 = (positions[k >> 4] >> ((k & 15) << 4)) & MASK16
        assert i < n, "coordinator: position out of range"
        request: uint256 = requests[i]
        h = convert(
            (convert(keccak256(abi_encode(h, request)), uint256) & HIGH192)
            | ((request >> request_chain.ARRIVAL_SHIFT) & MASK64),
            bytes32,
        )
    assert h == slots._submitted(slot), "coordinator: submitted chain mismatch"
