# pragma version ~=0.4.3
"""
@title The walk of the scheduling rule over requests in the rule's order
@custom:contract-name greedy_walk
@license MIT
@author gridchain
@notice Baza et al., Section IV, made exact: walk the requests by decreasing U / demand, grant each in full
        if it fits (skip-and-continue otherwise), give the leftover capacity to the unscheduled request of
        highest U (earliest on ties), and settle every request not served in full: carry it into the next
        slot with TCC - 1 and its remaining demand, or expire it if its TCC was 1. Stateless: the caller
        keeps the Walk (in memory for a close in one call, in storage between the pages of a paged close).
        A request is one word (`request_chain.vy`): demand_w (bits 0-63) | soc_pm (64-79) | tcc (80-111) |
        arrival (112-175). The walk trusts its input to be well-formed requests (the caller checks them, or has verified them
        against the hash chains), and an expiry is logged only when the caller says the walk is part of a
        close already verified (`log_expiries`): the pages of a paged close walk before anything is verified
        and may never finish, so they log nothing.

        Invariant: granted + remaining = the capacity the walk started with (a grant moves demand from one to
        the other only if it fits), so the walk never grants more than its capacity; every request walked is
        strictly after the one before it in the rule's order, so none is walked twice.
@dev Python twin: `gridchain.core.coordinator.close` (the walk is `core`'s greedy policy; the settling
     order and the carry chain are the twin's).
"""

from . import request_chain

MAX_REQUESTS: constant(uint256) = 1024  # per call; memory is reserved for the whole bound
PM: constant(uint256) = request_chain.PM
MASK16: constant(uint256) = request_chain.MASK16
MASK32: constant(uint256) = request_chain.MASK32
MASK64: constant(uint256) = request_chain.MASK64
UNSET: constant(uint256) = max_value(uint256)
KEEP_FIELDS: constant(uint256) = ~(MASK64 | (MASK32 << 80))  # soc_pm and arrival of a packed request


struct Walk:
    remaining: uint256  # capacity not yet granted [W]
    granted: uint256  # granted so far [W]
    scheduled: uint256  # requests granted in full
    held: uint256  # the leftover candidate (packed), UNSET if none yet
    held_u: uint256
    prev: uint256  # the request walked last (packed)
    prev_u: uint256
    walked: uint256  # requests walked so far
    carry: bytes32  # chain of the requests settled into the next slot
    carried: uint256
    expired: uint256


event RequestExpired:
    slot: indexed(uint256)
    arrival: uint256
    remaining_w: uint256


@internal
@pure
def start(capacity: uint256) -> Walk:
    """
    @dev A walk that has seen nothing yet.
    @param capacity The capacity to grant [W].
    @return The walk: nothing granted, no candidate held, the carry chain at its IV.
    """
    return Walk(
        remaining=capacity, granted=0, scheduled=0, held=UNSET, held_u=0, prev=0, prev_u=0, walked=0,
        carry=request_chain.CARRY_IV, carried=0, expired=0,
    )


@internal
def walk(
    slot: uint256, requests: DynArray[uint256, MAX_REQUESTS], w: Walk, beta1_pm: uint256, log_expiries: bool
) -> Walk:
    """
    @dev Continue the walk over `requests` (the next part of the list in the rule's order): check that
         each comes strictly after the one before, grant it in full if it fits, and settle every request
         that will get nothing: carry it into slot + 1 or expire it. The leftover candidate (the highest
         priority among the unscheduled so far, earliest on ties) is held back until a higher priority
         displaces it or the walk ends. Strictly decreasing under a strict total order (arrivals are
         unique) means no request appears twice. Unchecked arithmetic is bounded: soc_pm < 1000,
         u <= 10**6, demand < 2**64 (the caller's well-formed requests).
    @param slot The slot being closed (for the expiry events).
    @param requests The next packed requests in the rule's order.
    @param w The walk so far (`start` for the first part).
    @param beta1_pm Weight of (1 - SoC) in the priority, per-mille.
    @param log_expiries Whether to log RequestExpired: only when the close is already verified.
    @return The walk after `requests`.
    """
    for request: uint256 in requests:
        # U = beta1 (1000 - soc) + beta2 F(tcc), F = 1000, 500, 0 for tcc = 1, 2, >= 3
        tcc: uint256 = (request >> 80) & MASK32
        u: uint256 = unsafe_mul(beta1_pm, unsafe_sub(PM, (request >> 64) & MASK16))
        if tcc == 1:
            u = unsafe_add(u, unsafe_mul(unsafe_sub(PM, beta1_pm), PM))
        elif tcc == 2:
            u = unsafe_add(u, unsafe_mul(unsafe_sub(PM, beta1_pm), PM // 2))
        demand: uint256 = request & MASK64
        if w.walked > 0:
            # prev strictly before request: higher U / demand (cross-multiplied), higher U, earlier arrival
            lhs: uint256 = unsafe_mul(w.prev_u, demand)
            rhs: uint256 = unsafe_mul(u, w.prev & MASK64)
            if lhs == rhs:
                if w.prev_u == u:
                    assert w.prev >> 112 < request >> 112, "coordinator: order not sorted"
                else:
                    assert w.prev_u > u, "coordinator: order not sorted"
            else:
                assert lhs > rhs, "coordinator: order not sorted"
        if demand <= w.remaining:
            w.remaining = unsafe_sub(w.remaining, demand)
            w.granted = unsafe_add(w.granted, demand)
            w.scheduled = unsafe_add(w.scheduled, 1)
        elif w.held == UNSET or u > w.held_u:
            if w.held != UNSET:
                w = self.settle(slot, w.held, 0, w, log_expiries)
            w.held = request
            w.held_u = u
        else:
            w = self.settle(slot, request, 0, w, log_expiries)
        w.prev = request
        w.prev_u = u
        w.walked = unsafe_add(w.walked, 1)
    return w


@internal
def settle(slot: uint256, request: uint256, granted: uint256, w: Walk, log_expiries: bool) -> Walk:
    """
    @dev A request not served in full (granted < demand): expire it if its TCC was 1, else carry it with
         TCC - 1 and the demand it still has.
    @param slot The slot being closed (for the expiry event).
    @param request The packed request.
    @param granted What it was granted [W], below its demand.
    @param w The walk.
    @param log_expiries Whether to log RequestExpired.
    @return The walk with the request carried (chained into `carry`) or expired (counted).
    """
    remaining_w: uint256 = unsafe_sub(request & MASK64, granted)
    tcc: uint256 = (request >> 80) & MASK32
    if tcc == 1:
        if log_expiries:
            log RequestExpired(slot=slot, arrival=request >> 112, remaining_w=remaining_w)
        w.expired = unsafe_add(w.expired, 1)
    else:
        w.carry = keccak256(abi_encode(w.carry, (request & KEEP_FIELDS) | remaining_w | (unsafe_sub(tcc, 1) << 80)))
        w.carried = unsafe_add(w.carried, 1)
    return w


@internal
def finish(slot: uint256, w: Walk, log_expiries: bool) -> (Walk, uint256, uint256):
    """
    @dev End of the walk: the leftover capacity to the held candidate, which is then settled.
    @param slot The slot being closed (for the expiry event).
    @param w The walk over every request of the slot.
    @param log_expiries Whether to log RequestExpired.
    @return The walk, the held candidate settled.
    @return The partial grant [W] (0 if none).
    @return The arrival number the partial grant went to (UNSET if none).
    """
    partial_w: uint256 = 0
    partial_arrival: uint256 = UNSET
    if w.held != UNSET:
        if w.remaining > 0:
            partial_w = w.remaining
            partial_arrival = w.held >> 112
            w.granted += partial_w
            w.remaining = 0
        w = self.settle(slot, w.held, partial_w, w, log_expiries)
    return w, partial_w, partial_arrival
