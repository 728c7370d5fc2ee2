# pragma version ~=0.4.3
"""
@title `request_chain` module reference implementation
@custom:contract-name request_chain_mock
@license MIT
@author gridchain
@notice Exposes the internal functions of the stateless module `modules/request_chain.vy`, so that tests check
        it on its own against its Python twin (`tests/contracts/test_modules.py`). Tests only: nothing
        deploys it.
"""

# @dev Stateless: imported, not initialized.
from ..modules import request_chain


@deploy
@payable
def __init__():
    """
    @dev Payable, so the constructor has no callvalue check.
    """
    pass


@external
@pure
def check_fields(demand_w: uint256, soc_pm: uint256, tcc: uint256):
    """
    @dev Reverts unless the fields fit a packed request.
    @param demand_w Energy wanted [W].
    @param soc_pm State of charge, per-mille.
    @param tcc Time to complete charging [slots].
    """
    request_chain.check_fields(demand_w, soc_pm, tcc)


@external
@pure
def pack(demand_w: uint256, soc_pm: uint256, tcc: uint256, arrival: uint256) -> uint256:
    """
    @dev The request as one word.
    @param demand_w Energy wanted [W].
    @param soc_pm State of charge, per-mille.
    @param tcc Time to complete charging [slots].
    @param arrival slot << 32 | k.
    @return The packed request.
    """
    return request_chain.pack(demand_w, soc_pm, tcc, arrival)


@external
@pure
def next_arrival(current: uint256, h: bytes32) -> uint256:
    """
    @dev The arrival number of the next submission into `current`.
    @param current The slot.
    @param h Its submit chain so far.
    @return current << 32 | (count + 1).
    """
    return request_chain.next_arrival(current, h)


@external
@pure
def link(h: bytes32, request: uint256) -> bytes32:
    """
    @dev One step of a submit chain.
    @param h The chain so far.
    @param request The next packed request.
    @return The chain with `request` linked.
    """
    return request_chain.link(h, request)


@external
@pure
def submit_chain(requests: DynArray[uint256, 64]) -> bytes32:
    """
    @dev A whole submit chain, linked from empty.
    @param requests Packed requests in arrival order.
    @return The chain.
    """
    h: bytes32 = empty(bytes32)
    for request: uint256 in requests:
        h = request_chain.link(h, request)
    return h
