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
        arrival (112-175). The walk trusts its input to be well-formed requests (verified against the hash chains, or, in a
        paged close, values below 2**176 whose walk counts only if the multiset check later proves them the
        slot's requests: on others its unchecked arithmetic wraps, and may refuse their order), and an expiry is logged only when the caller says the walk is part of a
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
REQUEST_MASK: constant(uint256) = (1 << request_chain.REQUEST_BITS) - 1  # no well-formed request (soc_pm 65535)
KEEP_FIELDS: constant(uint256) = ~(MASK64 | (MASK32 << 80))  # soc_pm and arrival of a packed request


struct Walk:
    remaining: uint256  # capacity not yet granted [W]
    granted: uint256  # granted so far [W]
    scheduled: uint256  # requests granted in full
    held: uint256  # the leftover candidate (packed), UNSET if none yet
    held_u: uint256
    prev: uint256  # the request walked last (packed); 0 at the start
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
         u <= 10**6, demand < 2**64 (the caller's well-formed requests). The loop keeps the walk in
         locals: the struct is read before it and written after it (a struct copy per request costs
         more than the rest of the loop).
    @param slot The slot being closed (for the expiry events).
    @param requests The next packed requests in the rule's order.
    @param w The walk so far (`start` for the first part).
    @param beta1_pm Weight of (1 - SoC) in the priority, per-mille.
    @param log_expiries Whether to log RequestExpired: only when the close is already verified.
    @return The walk after `requests`.
    """
    # Few locals: Venom (the coordinator's pipeline) keeps them on the stack and spills, or fails to compile,
    # beyond 16; so one word each for the slot if expiries are logged, for the held candidate and its U, for the
    # request walked last and its U (U < 2**21 above a request's 176 bits), and for the two settled counts.
    log_slot: uint256 = UNSET  # the slot, if expiries are logged
    if log_expiries:
        log_slot = slot
    remaining: uint256 = w.remaining
    held: uint256 = w.held  # held | held_u << 176 (UNSET: none)
    if held != UNSET:
        held |= w.held_u << 176
    prev: uint256 = w.prev | (w.prev_u << 176)  # prev | prev_u << 176
    carry: bytes32 = w.carry
    settled: uint256 = w.carried | (w.expired << 128)  # carried (bits 0-127) | expired (128-255)
    for request: uint256 in requests:
        # U = beta1 (1000 - soc) + beta2 F(tcc), F = 1000, 500, 0 for tcc = 1, 2, >= 3
        u: uint256 = unsafe_mul(beta1_pm, unsafe_sub(PM, (request >> 64) & MASK16))
        tcc: uint256 = (request >> 80) & MASK32
        if tcc == 1:
            u = unsafe_add(u, unsafe_mul(unsafe_sub(PM, beta1_pm), PM))
        elif tcc == 2:
            u = unsafe_add(u, unsafe_mul(unsafe_sub(PM, beta1_pm), PM // 2))
        # prev strictly before request: higher U / demand (cross-multiplied), higher U, earlier arrival. The
        # first request (prev = 0, no request) takes the tie branch and passes it: its arrival is above 0.
        lhs: uint256 = unsafe_mul(prev >> 176, request & MASK64)
        rhs: uint256 = unsafe_mul(u, prev & MASK64)
        if lhs <= rhs:  # not before it by U / demand: only a tie may pass, broken by U, then by arrival
            assert lhs == rhs, "coordinator: order not sorted"
            if prev >> 176 == u:
                assert (prev >> 112) & MASK64 < request >> 112, "coordinator: order not sorted"
            else:
                assert prev >> 176 > u or prev == 0, "coordinator: order not sorted"
        prev = request | (u << 176)
        if request & MASK64 <= remaining:
            remaining = unsafe_sub(remaining, request & MASK64)
        else:
            # the request that gets nothing from this walk, settled now (REQUEST_MASK, no request: none)
            gone: uint256 = request
            if held == UNSET or u > held >> 176:
                gone = held & REQUEST_MASK  # displaced (none when nothing was held)
                held = prev  # the request and its U
            if gone != REQUEST_MASK:
                # `settle` with nothing granted, inlined: its carried form is the request with TCC - 1
                if (gone >> 80) & MASK32 == 1:
                    if log_slot != UNSET:
                        self._log_expiry(log_slot, gone, 0)
                    settled = unsafe_add(settled, 1 << 128)
                else:
                    carry = keccak256(abi_encode(carry, unsafe_sub(gone, 1 << 80)))
                    settled = unsafe_add(settled, 1)
    held_u: uint256 = 0
    if held != UNSET:
        held_u = held >> 176
        held &= REQUEST_MASK
    # every request walked was granted in full, settled, or is held (one at a time): count the grants so
    carried: uint256 = settled & convert(max_value(uint128), uint256)
    expired: uint256 = settled >> 128
    scheduled: uint256 = w.scheduled + len(requests) + w.carried + w.expired - carried - expired
    if w.held != UNSET:
        scheduled += 1
    if held != UNSET:
        scheduled -= 1
    return Walk(
        remaining=remaining, granted=w.granted + w.remaining - remaining, scheduled=scheduled, held=held,
        held_u=held_u, prev=prev & REQUEST_MASK, prev_u=prev >> 176, walked=unsafe_add(w.walked, len(requests)),
        carry=carry, carried=carried, expired=expired,
    )


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
            self._log_expiry(slot, request, granted)
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


@internal
def _log_expiry(slot: uint256, request: uint256, granted: uint256):
    """
    @dev The event of a request that expires (a call of its own: inlined in the walk's loop, the event's
         arguments take more stack than Venom's code generator allows).
    @param slot The slot being closed.
    @param request The packed request.
    @param granted What it was granted [W], below its demand.
    """
    log RequestExpired(slot=slot, arrival=request >> 112, remaining_w=unsafe_sub(request & MASK64, granted))
