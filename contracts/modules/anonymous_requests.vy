# pragma version ~=0.4.3
"""
@title Anonymous charging requests: blind-signature tokens on one-time pseudonyms
@custom:contract-name anonymous_requests
@license MIT
@notice Baza et al., Sections V-A and V-B. The utility (the coordinator's owner) registers one RSA-2048 public key
        per epoch (UTC day) for this community. An ESU obtains tokens by Chaum blind signature, so the utility
        never sees the pseudonym it signs. A request comes from a one-time pseudonym: its EIP-712 signature
        proves the pseudonym's key, the token proves the utility authorised the pseudonym for this epoch and
        this community, and the pseudonym is then spent. Anyone may relay the request, so the pseudonym
        needs no funds.

        Token check (twin: `gridchain.core.blind`):
            seed = keccak256(abi_encode(TOKEN_TAG, chain.id, coordinator, epoch, pseudonym))
            FDH  = MGF1-keccak256(seed, 256 bytes), top bit cleared
            token < n  and  token^65537 mod n == FDH     (modexp precompile 0x05)
        Only keccak256(n) is stored; the caller passes n, once per transaction. Token, modulus and signature
        have fixed sizes (8 big-endian words; EIP-2098 compact signature), so no length can be malformed
        on chain: the ABI decoder refuses short calldata, and the clients check lengths with named errors.

        Invariant (asserted in `_spend`): a pseudonym is spent at most once, and only with a token valid under
        the key registered for the request's epoch.
@dev Reverts read "coordinator: ..." because they surface from the coordinator that initializes this module.
"""

from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712

uses: eip712

MODULUS_BYTES: constant(uint256) = 256
MODULUS_WORDS: constant(uint256) = 8
EXPONENT_BYTES: constant(uint256) = 3  # 65537 = 0x010001
EPOCH_SECONDS: constant(uint256) = 86400
TOKEN_TAG: constant(bytes32) = keccak256("gridchain.token.v1")
MODEXP: constant(address) = 0x0000000000000000000000000000000000000005
TOP_BIT_CLEAR: constant(uint256) = max_value(uint256) >> 1
REQUEST_TYPEHASH: constant(bytes32) = keccak256(
    "AnonymousRequest(address pseudonym,uint256 epoch,uint256 slot,uint256 demandW,uint256 socPm,uint256 tcc)"
)


struct AnonymousRequest:
    pseudonym: address  # the one-time account that signed (with the transaction's slot and epoch)
    demand_w: uint256
    soc_pm: uint256
    tcc: uint256
    token: uint256[MODULUS_WORDS]  # the utility's unblinded RSA signature on the pseudonym, big-endian words
    r: uint256  # the pseudonym's EIP-712 signature of the fields above (EIP-2098 compact: r, then v|s)
    vs: uint256


event EpochKeyRegistered:
    epoch: indexed(uint256)
    modulus: uint256[MODULUS_WORDS]


epoch_key: public(HashMap[uint256, bytes32])  # keccak256 of the epoch's modulus (256 bytes); empty: none
spent: public(HashMap[address, bool])


@internal
def _register(epoch: uint256, modulus: uint256[MODULUS_WORDS]):
    """
    @dev Record the epoch's public key (the caller checks that the owner calls). A key is never replaced:
         tokens already issued under it stay valid for their day.
    """
    assert epoch >= block.timestamp // EPOCH_SECONDS, "coordinator: epoch is over"
    assert modulus[0] >> 255 == 1, "coordinator: modulus is not 2048 bits"
    assert modulus[MODULUS_WORDS - 1] & 1 == 1, "coordinator: modulus is even"
    assert self.epoch_key[epoch] == empty(bytes32), "coordinator: epoch key already registered"
    self.epoch_key[epoch] = keccak256(abi_encode(modulus))
    log EpochKeyRegistered(epoch=epoch, modulus=modulus)


@internal
@view
def _check_key(epoch: uint256, slot_epoch: uint256, modulus: uint256[MODULUS_WORDS]) -> Bytes[MODULUS_BYTES]:
    """
    @dev Once per transaction: the token's epoch is the slot's, and `modulus` is that epoch's registered key.
    @return The modulus as 256 bytes, for `_spend`.
    """
    assert epoch >= slot_epoch, "coordinator: token epoch is over"
    assert epoch == slot_epoch, "coordinator: token epoch not begun"
    key: bytes32 = self.epoch_key[epoch]
    assert key != empty(bytes32), "coordinator: no key registered for the epoch"
    n: Bytes[MODULUS_BYTES] = abi_encode(modulus)
    assert keccak256(n) == key, "coordinator: modulus is not the epoch's key"
    return n


@internal
def _spend(
    request: AnonymousRequest, slot: uint256, epoch: uint256, modulus: uint256[MODULUS_WORDS], n: Bytes[MODULUS_BYTES]
):
    """
    @dev Authorise one request for `slot` whose `epoch` and modulus `_check_key` has checked (`n` is its
         output): the signature is the pseudonym's, the pseudonym is unspent and the token on it verifies.
         Then spend the pseudonym.
    """
    struct_hash: bytes32 = keccak256(
        abi_encode(
            REQUEST_TYPEHASH,
            request.pseudonym,
            epoch,
            slot,
            request.demand_w,
            request.soc_pm,
            request.tcc,
        )
    )
    signer: address = ecdsa._try_recover_r_vs(eip712._hash_typed_data_v4(struct_hash), request.r, request.vs)
    assert signer == request.pseudonym, "coordinator: signature is not the pseudonym's"
    assert not self.spent[signer], "coordinator: pseudonym already used"
    assert self._below(request.token, modulus), "coordinator: token is not below the modulus"
    # token^65537 mod n (EIP-198) against the full-domain hash MGF1-keccak256(seed), top bit cleared
    power: Bytes[MODULUS_BYTES] = raw_call(
        MODEXP,
        concat(abi_encode(MODULUS_BYTES, EXPONENT_BYTES, MODULUS_BYTES, request.token), x"010001", n),
        max_outsize=MODULUS_BYTES,
        is_static_call=True,
    )
    seed: bytes32 = keccak256(abi_encode(TOKEN_TAG, chain.id, self, epoch, signer))
    h0: uint256 = convert(keccak256(concat(seed, x"00000000")), uint256) & TOP_BIT_CLEAR
    fdh: Bytes[MODULUS_BYTES] = concat(
        convert(h0, bytes32),
        keccak256(concat(seed, x"00000001")),
        keccak256(concat(seed, x"00000002")),
        keccak256(concat(seed, x"00000003")),
        keccak256(concat(seed, x"00000004")),
        keccak256(concat(seed, x"00000005")),
        keccak256(concat(seed, x"00000006")),
        keccak256(concat(seed, x"00000007")),
    )
    assert keccak256(power) == keccak256(fdh), "coordinator: token does not verify"
    self.spent[signer] = True


@internal
@pure
def _below(token: uint256[MODULUS_WORDS], modulus: uint256[MODULUS_WORDS]) -> bool:
    """
    @dev token < modulus as 2048-bit big-endian integers (RFC 9474: a signature representative is below n).
    """
    for i: uint256 in range(MODULUS_WORDS):
        if token[i] != modulus[i]:
            return token[i] < modulus[i]
    return False
