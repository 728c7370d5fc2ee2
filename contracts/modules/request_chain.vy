# pragma version ~=0.4.3
"""
@title A charging request as one word, and the hash chains that commit a slot's requests
@custom:contract-name request_chain
@license MIT
@author gridchain
@notice A request is one word: demand_w (bits 0-63) | soc_pm (64-79) | tcc (80-111) | arrival (112-175), where
        arrival = slot << 32 | k for the slot's k-th submission (k from 1): unique across the coordinator's
        life and increasing with time, so it breaks every tie. A slot's submissions are committed by the
        submit chain, one word: the high 192 bits of keccak256(h || request), the low 64 bits the request's
        arrival slot << 32 | k (`link`), so the chain also names its slot and counts its requests. The
        requests carried into the next slot are committed by the carry chain, h = keccak256(h || request)
        from CARRY_IV.

        Why 192 bits of hash still bind: a close accepts a list only if its chain equals the slot's word.
        The low 64 bits are fixed by the list (the last arrival), so another list with the same chain needs,
        at some step, two different inputs h || request whose keccak256 agree in their high 192 bits. If the
        forger chose both lists wholly (only its own requests, its slot's first, chosen before it was
        submitted) that is a collision: about 2**96 keccak evaluations, for the gain of changing its own
        request after the fact. A list that differs in anybody else's request needs a second preimage of a
        chain the forger did not choose: about 2**192.

        Invariant: every word `pack` makes from fields that `check_fields` accepts is a well-formed request
        (below 2**176, demand > 0, soc_pm < 1000, tcc > 0), and `link` keeps a submit chain's count equal to
        the number of requests linked into it and its slot that of their arrival (the caller links one slot's
        requests in arrival order, k = 1, 2, ...).
@dev Stateless: the coordinator and the paged close (`paged_close.vy`) import it; the walk
     (`greedy_walk.vy`) takes the layout from it. Reverts read "coordinator: ..." because they surface from
     the coordinator. Python twin: `gridchain.core.coordinator` (`pack`, `submit_chain`, `check_fields`,
     `arrival_of`, CARRY_IV).
"""

PM: constant(uint256) = 1000  # per-mille: soc_pm < PM
MASK16: constant(uint256) = 2**16 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK64: constant(uint256) = 2**64 - 1
SOC_SHIFT: constant(uint256) = 64
TCC_SHIFT: constant(uint256) = 80
ARRIVAL_SHIFT: constant(uint256) = 112
REQUEST_BITS: constant(uint256) = 176  # a packed request lies below 2**176
HIGH192: constant(uint256) = max_value(uint256) - MASK64  # a submit chain's hash bits
# The carry chain starts from this IV (keccak256("gridchain.coordinator.carry")), so the coordinator's storage
# word for it is never zero and each close rewrites it for 2,900 gas instead of 20,000.
CARRY_IV: constant(bytes32) = 0x46cad51d099c0f4bbb24ce2899de95b861de751b19c20aa4a5aa1250bbd9cf97


@internal
@pure
def check_fields(demand_w: uint256, soc_pm: uint256, tcc: uint256):
    """
    @dev Revert unless the fields fit a packed request: 1 <= demand_w < 2**64, soc_pm < 1000,
         1 <= tcc < 2**32.
    @param demand_w Energy wanted this slot [W].
    @param soc_pm State of charge, per-mille.
    @param tcc Time to complete charging [slots].
    """
    assert demand_w > 0, "coordinator: demand is 0"
    assert demand_w <= MASK64, "coordinator: demand out of range"
    assert soc_pm < PM, "coordinator: soc_pm above 999"
    assert tcc > 0, "coordinator: tcc is 0"
    assert tcc <= MASK32, "coordinator: tcc out of range"


@internal
@pure
def pack(demand_w: uint256, soc_pm: uint256, tcc: uint256, arrival: uint256) -> uint256:
    """
    @dev The request as one word; the fields are checked (`check_fields`) and arrival < 2**64.
    @param demand_w Energy wanted this slot [W].
    @param soc_pm State of charge, per-mille.
    @param tcc Time to complete charging [slots].
    @param arrival slot << 32 | k, see the header.
    @return The packed request.
    """
    return demand_w | (soc_pm << SOC_SHIFT) | (tcc << TCC_SHIFT) | (arrival << ARRIVAL_SHIFT)


@internal
@pure
def next_arrival(current: uint256, h: bytes32) -> uint256:
    """
    @dev The arrival number of the next submission into slot `current`, whose submit chain is `h`.
         (A slot cannot hold 2**32 submissions: at 30,000 gas each they would need 10**14 gas.)
    @param current The slot (the current one), below 2**32.
    @param h The slot's submit chain so far (empty or of slot `current`); its low 32 bits count its requests.
    @return current << 32 | (count + 1).
    """
    assert current <= MASK32, "coordinator: slot out of range"
    return (current << 32) | ((convert(h, uint256) & MASK32) + 1)


@internal
@pure
def link(h: bytes32, request: uint256) -> bytes32:
    """
    @dev One step of a submit chain.
    @param h The chain so far (empty for a slot without submissions).
    @param request The next packed request, in arrival order.
    @return The high 192 bits of keccak256(h || request), the low 64 bits the request's arrival number
            (its slot << 32 | its index in the slot).
    """
    return convert(
        (convert(keccak256(abi_encode(h, request)), uint256) & HIGH192) | ((request >> ARRIVAL_SHIFT) & MASK64),
        bytes32,
    )
