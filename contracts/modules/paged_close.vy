# pragma version ~=0.4.3
"""
@title A slot's close in pages: commit to the sorted list, stream both lists, verify
@custom:contract-name paged_close
@license MIT
@author gridchain
@notice A slot with more pending requests than one call takes closes in pages. The keeper commits to the
        number n of requests and to the keccak chain of the whole list in the rule's order (`begin_close`),
        then sends that list in pages, each walked at once (`close_sorted_page`), and the pending set in
        canonical order, the carried chain then the submitted chain (`close_pending_page`); `close_pages`
        takes a page of each in one call, as a keeper sends them (one transaction less per page pair, and a
        pending page's light execution no longer pays the EIP-7623 calldata floor alone). `finish_close` checks that the sorted pages are the committed list, that the pending pages are the slot's two
        chains, and that both are the same multiset: their products of (r - request) at a random point r of
        BN254's scalar field are equal (Schwartz-Zippel), r being fixed by `begin_close` only after both
        lists are (by the chains and the commitment); then it closes the slot as a close in one call would.
        Every value a page lists must lie below 2**176 before it enters the walk or the product: both
        multisets then lie below the field's prime, and equal products mean equal multisets (no `x + FIELD`
        aliasing). The pending values are the slot's requests (the chains bind every bit of them), so a
        sorted list that passes is made of well-formed requests; a sorted value that is not one (a zero
        demand, a soc_pm above 999, a TCC of 0) is walked in the walk's unchecked arithmetic, in the
        caller's own `Paging` only, and `finish_close` refuses it. Checking its fields on every page cost
        87 gas per request (issue 22).

        A paged close belongs to its caller (`paging[caller]`): any number of keepers may page the same slot
        at once and the first to finish closes it; nobody can hold, reset or block anybody else's. It is
        void once its slot is no longer the next to close.

        Invariant: `finish_close` closes a slot only with a walk over exactly the pending requests of the
        slot, in the rule's order, under the capacity the paged close began with: the walk of a close in one
        call (so the slot's grants stay within its capacity, asserted in `slots._finish`).
@dev Keeps `paging`; reads the slots' state and ends the close through `slots.vy` (`uses: slots`). The
     coordinator initializes both and exports these functions; `mocks/paged_close_mock.vy` tests the module
     on its own. Reverts read "coordinator: ..." because they surface from the coordinator. Python twin:
     `CoordinatorModel.begin_close` ... `finish_close` in `gridchain.core.coordinator`.
"""

from . import greedy_walk
from . import request_chain
from . import slots

uses: slots

MAX_REQUESTS: constant(uint256) = greedy_walk.MAX_REQUESTS
# BN254's scalar field: the permutation check works in it (packed requests < 2**176 < FIELD)
FIELD: constant(uint256) = 21888242871839275222246405745257275088548364400416034343698204186575808495617


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


paging: public(HashMap[address, Paging])  # each account's own paged close


@external
def begin_close(slot: uint256, n: uint256, sorted_hash: bytes32):
    """
    @dev Start closing `slot` in pages: commit to its n requests and to the keccak chain of the whole list
         in the rule's order. The paged close is the caller's own: only it adds pages to it, a new
         begin_close of the caller starts its own over, and other accounts' paged closes are untouched.
    @param slot The next slot to close, ended.
    @param n How many requests the slot has pending (carried and submitted), at least 1.
    @param sorted_hash The keccak chain (from zero) of the pending requests in the rule's order.
    """
    capacity: uint256 = 0
    carried: uint256 = 0
    capacity, carried = slots._open_close(slot)
    assert n >= carried, "coordinator: fewer requests than carried"
    assert n > 0, "coordinator: no requests to page"  # an empty slot closes in one call
    # r is fixed only after both lists are: the pending ones by their chains, the sorted one by sorted_hash
    seed: bytes32 = keccak256(abi_encode(slots.carry_hash, slots._submitted(slot), sorted_hash, slot, n))
    self.paging[msg.sender] = Paging(
        slot=slot, n=n, capacity=capacity, sorted_target=sorted_hash, challenge=convert(seed, uint256) % FIELD,
        sorted_hash=empty(bytes32), sorted_product=1, pending_count=0, pending_hash=request_chain.CARRY_IV,
        pending_product=1, walk=greedy_walk.start(capacity),
    )


@external
def close_sorted_page(requests: DynArray[uint256, MAX_REQUESTS]):
    """
    @dev The next requests of the caller's paged close in the rule's order: each checked to be below
         2**176, then chained, multiplied into the check and walked (no expiry is logged: nothing is
         verified yet). Reads and writes only the fields it uses (a whole Paging is 21 words).
    @param requests The next packed requests in the rule's order.
    """
    self._sorted_page(self._check_paging(), requests)


@external
def close_pending_page(requests: DynArray[uint256, MAX_REQUESTS]):
    """
    @dev The next requests of the caller's paged close in canonical order (the carried chain, then the
         submitted chain): chained and multiplied into the check. The page that reaches the end of the
         carried part checks it against the carry chain. Reads and writes only the fields it uses.
    @param requests The next packed pending requests in canonical order.
    """
    self._check_paging()
    self._pending_page(requests)


@external
def close_pages(
    sorted_requests: DynArray[uint256, MAX_REQUESTS], pending_requests: DynArray[uint256, MAX_REQUESTS]
):
    """
    @dev A sorted page and a pending page in one call: `close_sorted_page(sorted_requests)` then
         `close_pending_page(pending_requests)`, either may be empty. A pending page alone costs the
         EIP-7623 calldata floor (its execution is light for its bytes); beside a sorted page, whose walk is
         heavy, the call pays the standard price, and one transaction's 21,000 less.
    @param sorted_requests The next packed requests in the rule's order.
    @param pending_requests The next packed pending requests in canonical order.
    """
    slot: uint256 = self._check_paging()
    if len(sorted_requests) > 0:
        self._sorted_page(slot, sorted_requests)
    if len(pending_requests) > 0:
        self._pending_page(pending_requests)


@internal
def _sorted_page(slot: uint256, requests: DynArray[uint256, MAX_REQUESTS]):
    """
    @dev `close_sorted_page`'s work, the paging checked.
    @param slot The paged close's slot.
    @param requests The next packed requests in the rule's order.
    """
    walk: greedy_walk.Walk = self.paging[msg.sender].walk
    assert walk.walked + len(requests) <= self.paging[msg.sender].n, "coordinator: more requests than committed"
    h: bytes32 = self.paging[msg.sender].sorted_hash
    product: uint256 = self.paging[msg.sender].sorted_product
    r: uint256 = self.paging[msg.sender].challenge + FIELD  # r - request + FIELD stays positive below
    for request: uint256 in requests:
        # below FIELD: no value aliases another modulo FIELD (its fields are checked by the multiset check)
        assert request >> request_chain.REQUEST_BITS == 0, "coordinator: listed request out of range"
        h = keccak256(abi_encode(h, request))
        product = uint256_mulmod(product, unsafe_sub(r, request), FIELD)
    self.paging[msg.sender].walk = greedy_walk.walk(slot, requests, walk, slots.BETA1_PM, False)
    self.paging[msg.sender].sorted_hash = h
    self.paging[msg.sender].sorted_product = product


@internal
def _pending_page(requests: DynArray[uint256, MAX_REQUESTS]):
    """
    @dev `close_pending_page`'s work, the paging checked.
    @param requests The next packed pending requests in canonical order.
    """
    k: uint256 = self.paging[msg.sender].pending_count
    assert k + len(requests) <= self.paging[msg.sender].n, "coordinator: more requests than committed"
    carried: uint256 = (slots.close_state >> 64) & request_chain.MASK64
    h: bytes32 = self.paging[msg.sender].pending_hash
    product: uint256 = self.paging[msg.sender].pending_product
    r: uint256 = self.paging[msg.sender].challenge + FIELD  # r - request + FIELD stays positive below
    for request: uint256 in requests:
        assert request >> request_chain.REQUEST_BITS == 0, "coordinator: listed request out of range"
        if k >= carried:
            if k == carried:
                assert h == slots.carry_hash, "coordinator: carried chain mismatch"
                h = empty(bytes32)
            # `request_chain.link`, inlined (as in the coordinator's `_check_pending`): a call per request
            # costs more
            h = convert(
                (convert(keccak256(abi_encode(h, request)), uint256) & request_chain.HIGH192)
                | ((request >> request_chain.ARRIVAL_SHIFT) & request_chain.MASK64),
                bytes32,
            )
        else:
            h = keccak256(abi_encode(h, request))
        product = uint256_mulmod(product, unsafe_sub(r, request), FIELD)
        k = unsafe_add(k, 1)
    self.paging[msg.sender].pending_hash = h
    self.paging[msg.sender].pending_product = product
    self.paging[msg.sender].pending_count = k


@external
def finish_close():
    """
    @dev Once every page of the caller's paged close is in: check that the slot's capacity is still the one
         the close began with, that the sorted list is the committed one, that the pending pages are the
         slot's carried and submitted chains, and that the sorted list is a permutation of them (equal
         products at r; every listed value is below FIELD), then close the slot.
    """
    p: Paging = self._paging()
    assert slots._capacity(p.slot, slots.close_state) == p.capacity, "coordinator: capacity changed since begin_close"
    assert p.walk.walked == p.n, "coordinator: sorted pages missing"
    assert p.pending_count == p.n, "coordinator: pending pages missing"
    assert p.sorted_hash == p.sorted_target, "coordinator: pages differ from the committed order"
    h: bytes32 = p.pending_hash
    if p.n == (slots.close_state >> 64) & request_chain.MASK64:  # no page reached the end of the carried part
        assert h == slots.carry_hash, "coordinator: carried chain mismatch"
        h = empty(bytes32)
    assert h == slots._submitted(p.slot), "coordinator: submitted chain mismatch"
    assert p.sorted_product == p.pending_product, "coordinator: not a permutation of the pending set"
    slots._finish(p.slot, p.capacity, p.n, p.walk, False)  # the slot advances: every paged close of it is void


@internal
@view
def _check_paging() -> uint256:
    """
    @dev That the caller has a paged close of the slot that closes next (reading two of its words).
    @return Its slot.
    """
    slot: uint256 = self.paging[msg.sender].slot
    assert self.paging[msg.sender].n > 0 and slot == slots.close_state & request_chain.MASK64, (
        "coordinator: no paged close in progress"
    )
    return slot


@internal
@view
def _paging() -> Paging:
    """
    @dev The caller's paged close, if it is of the slot that closes next (a closed slot's is void).
    @return The caller's paged close.
    """
    p: Paging = self.paging[msg.sender]
    assert p.n > 0 and p.slot == slots.close_state & request_chain.MASK64, "coordinator: no paged close in progress"
    return p
