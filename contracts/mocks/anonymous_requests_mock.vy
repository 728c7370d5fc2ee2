# pragma version ~=0.4.3
"""
@title `anonymous_requests` module reference implementation
@custom:contract-name anonymous_requests_mock
@license MIT
@author gridchain
@notice Initializes `modules/anonymous_requests.vy` (with snekmate's EIP-712 domain under the coordinator's
        name, so that the clients' signatures verify here) and exposes its internal functions without the
        coordinator's owner and slot rules, so that tests check epoch keys, tokens and pseudonyms on their
        own (`tests/contracts/test_modules.py`). Tests only: nothing deploys it.
"""

from snekmate.utils import eip712_domain_separator as eip712
from ..modules import anonymous_requests

initializes: eip712
initializes: anonymous_requests[eip712 := eip712]
exports: (eip712.eip712Domain, anonymous_requests.spent)


@deploy
@payable
def __init__():
    """
    @dev Payable, so the constructor has no callvalue check.
    """
    eip712.__init__("gridchain coordinator", "1")


@external
def register(epoch: uint256, modulus: uint256[anonymous_requests.MODULUS_WORDS]):
    """
    @dev `anonymous_requests._register`, by anyone.
    @param epoch The UTC day.
    @param modulus The RSA-2048 modulus as 8 big-endian words.
    """
    anonymous_requests._register(epoch, modulus)


@external
@view
def staged_key() -> uint256[anonymous_requests.MODULUS_WORDS]:
    """
    @dev Read by the key contract's init code during `register`.
    @return The modulus being registered.
    """
    return anonymous_requests.staged_key


@external
@view
def epoch_key(epoch: uint256) -> bytes32:
    """
    @dev `anonymous_requests._epoch_key`.
    @param epoch The UTC day.
    @return keccak256 of its modulus, or empty.
    """
    return anonymous_requests._epoch_key(epoch)


@external
def spend(request: anonymous_requests.AnonymousRequest, slot: uint256, epoch: uint256, slot_epoch: uint256):
    """
    @dev `anonymous_requests._check_key` then `_spend`: authorise one request and spend its pseudonym.
    @param request The request, its pseudonym, token and signature.
    @param slot The slot the pseudonym signed.
    @param epoch The epoch the pseudonym signed.
    @param slot_epoch The epoch of the slot (the coordinator's clock; any value here).
    """
    n: Bytes[anonymous_requests.MODULUS_BYTES] = anonymous_requests._check_key(epoch, slot_epoch)
    anonymous_requests._spend(request, slot, epoch, n)
