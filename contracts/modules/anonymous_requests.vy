# pragma version ~=0.4.3
"""
@title Anonymous charging requests: blind-signature tokens on one-time pseudonyms
@custom:contract-name anonymous_requests
@license MIT
@author gridchain
@notice Baza et al., Sections V-A and V-B. The utility (the coordinator's owner) registers one RSA-2048 public key
        per epoch (UTC day) for this community. An ESU obtains tokens by Chaum blind signature, so the utility
        never sees the pseudonym it signs. A request comes from a one-time pseudonym: its EIP-712 signature
        proves the pseudonym's key, the token proves the utility authorised the pseudonym for this epoch and
        this community, and the pseudonym is then spent. Anyone may relay the request, so the pseudonym
        needs no funds.

        Token check (twin: `gridchain.crypto.blind`; e = 3, sound for RSA-FDH (docs/privacy.md) and 2,048 gas of
        modexp under Osaka, against 32,768 for e = 65537, which no longer verifies):
            seed = keccak256(abi_encode(TOKEN_TAG, chain.id, coordinator, epoch, pseudonym))
            FDH  = keccak256(seed || uint256(0)) || ... || keccak256(seed || uint256(7)), top bit cleared
            token < n  and  token^3 mod n == FDH     (modexp precompile 0x05)
        The epoch's modulus lives as the code of a data contract (0x00 || n, 257 bytes) that registration
        creates with CREATE2 from this contract under salt = epoch, so a submission finds it by address
        arithmetic and reads it with EXTCODESIZE and EXTCODECOPY (one cold account, 2,600 gas): no storage
        read, and no modulus in calldata (256 bytes, ~4,000 gas). Only this contract can create at those
        addresses, and only in `register_epoch_key` (owner only), so a key there is the owner's.
        Token and signature have fixed sizes (8 big-endian words; EIP-2098 compact signature), so no length
        can be malformed on chain: the ABI decoder refuses short calldata, and the clients check lengths
        with named errors.

        Invariant (asserted in `_spend`): a pseudonym is spent at most once, and only with a token valid under
        the key registered for the request's epoch.
@dev Reverts read "coordinator: ..." because they surface from the coordinator that initializes this module
     (`mocks/anonymous_requests_mock.vy` tests it on its own).
"""

from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712

uses: eip712

MODULUS_BYTES: constant(uint256) = 256
MODULUS_WORDS: constant(uint256) = 8
EXPONENT_BYTES: constant(uint256) = 1  # e = 3 = 0x03 (issue 22: EIP-7883 prices a 17-bit exponent 16x higher)
EPOCH_SECONDS: constant(uint256) = 86400
TOKEN_TAG: constant(bytes32) = keccak256("gridchain.token.v1")
MODEXP: constant(address) = 0x0000000000000000000000000000000000000005
KEY_CODE_BYTES: constant(uint256) = 257  # 0x00 (STOP: the data contract cannot run) || n
# Init code of an epoch's key contract: STATICCALL the creator's staged_key() (selector 0xc75543a1) into memory
# 33..288, then RETURN memory 32..288 (0x00 || n). Registration checks the code it produced.
#   PUSH4 c75543a1  PUSH1 0  MSTORE  PUSH2 0100  PUSH1 21  PUSH1 04  PUSH1 1c  CALLER  GAS  STATICCALL  POP
#   PUSH2 0101  PUSH1 20  RETURN
KEY_INITCODE: constant(Bytes[27]) = x"63c75543a160005261010060216004601c335afa506101016020f3"
KEY_INITCODE_HASH: constant(bytes32) = keccak256(KEY_INITCODE)
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


spent: public(HashMap[address, bool])
staged_key: transient(uint256[MODULUS_WORDS])  # the modulus being registered, for the key's init code


@internal
def _register(epoch: uint256, modulus: uint256[MODULUS_WORDS]):
    """
    @dev Record the epoch's public key (the caller checks that the owner calls). A key is never replaced:
         tokens already issued under it stay valid for their day.
    @param epoch The UTC day (unix time // 86400), not over.
    @param modulus The RSA-2048 modulus n (e = 3), 2048 bits and odd, as 8 big-endian words.
    """
    assert epoch >= block.timestamp // EPOCH_SECONDS, "coordinator: epoch is over"
    assert modulus[0] >> 255 == 1, "coordinator: modulus is not 2048 bits"
    assert modulus[MODULUS_WORDS - 1] & 1 == 1, "coordinator: modulus is even"
    key: address = self._key_address(epoch)
    assert key.codesize == 0, "coordinator: epoch key already registered"
    self.staged_key = modulus
    created: address = raw_create(KEY_INITCODE, salt=convert(epoch, bytes32))
    self.staged_key = empty(uint256[MODULUS_WORDS])
    # the init code read staged_key back (it cannot fail silently: a key contract of zeros would fail here)
    code_hash: bytes32 = keccak256(concat(x"00", abi_encode(modulus)))
    assert created == key and key.codehash == code_hash, "coordinator: key contract differs from the modulus"
    log EpochKeyRegistered(epoch=epoch, modulus=modulus)


@internal
@view
def _key_address(epoch: uint256) -> address:
    """
    @dev Where the key of `epoch` lives.
    @param epoch The UTC day.
    @return The CREATE2 address for this contract, salt = epoch, KEY_INITCODE.
    """
    return convert(
        convert(keccak256(concat(x"ff", convert(self, bytes20), convert(epoch, bytes32), KEY_INITCODE_HASH)), uint256)
        & convert(max_value(uint160), uint256),
        address,
    )


@internal
@view
def _epoch_key(epoch: uint256) -> bytes32:
    """
    @dev The key registered for `epoch`, by its hash.
    @param epoch The UTC day.
    @return keccak256 of the epoch's modulus (256 bytes), or empty when none is registered.
    """
    key: address = self._key_address(epoch)
    if key.codesize == 0:
        return empty(bytes32)
    return keccak256(slice(key.code, 1, MODULUS_BYTES))


@internal
@view
def _check_key(epoch: uint256, slot_epoch: uint256) -> Bytes[MODULUS_BYTES]:
    """
    @dev Once per transaction: the token's epoch is the slot's and has a registered key.
    @param epoch The epoch the pseudonyms signed.
    @param slot_epoch The epoch in which the slot begins.
    @return The epoch's modulus as 256 bytes, for `_spend`.
    """
    assert epoch >= slot_epoch, "coordinator: token epoch is over"
    assert epoch == slot_epoch, "coordinator: token epoch not begun"
    key: address = self._key_address(epoch)
    assert key.codesize == KEY_CODE_BYTES, "coordinator: no key registered for the epoch"
    return slice(key.code, 1, MODULUS_BYTES)


@internal
def _spend(request: AnonymousRequest, slot: uint256, epoch: uint256, n: Bytes[MODULUS_BYTES]):
    """
    @dev Authorise one request for `slot` whose `epoch` `_check_key` has checked (`n` is its output, the
         epoch's modulus): the signature is the pseudonym's, the pseudonym is unspent and the token on it
         verifies. Then spend the pseudonym.
    @param request The request, its pseudonym, token and EIP-2098 signature.
    @param slot The slot the pseudonym signed.
    @param epoch The epoch the pseudonym signed.
    @param n The epoch's modulus (256 bytes, from `_check_key`).
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
    assert self._below(request.token, n), "coordinator: token is not below the modulus"
    # token^3 mod n (EIP-198) against the full-domain hash of the seed (see the header), top bit cleared
    power: Bytes[MODULUS_BYTES] = raw_call(
        MODEXP,
        concat(abi_encode(MODULUS_BYTES, EXPONENT_BYTES, MODULUS_BYTES, request.token), x"03", n),
        max_outsize=MODULUS_BYTES,
        is_static_call=True,
    )
    seed: bytes32 = keccak256(abi_encode(TOKEN_TAG, chain.id, self, epoch, signer))
    h0: uint256 = convert(keccak256(abi_encode(seed, convert(0, uint256))), uint256) & TOP_BIT_CLEAR
    fdh: Bytes[MODULUS_BYTES] = concat(
        convert(h0, bytes32),
        keccak256(abi_encode(seed, convert(1, uint256))),
        keccak256(abi_encode(seed, convert(2, uint256))),
        keccak256(abi_encode(seed, convert(3, uint256))),
        keccak256(abi_encode(seed, convert(4, uint256))),
        keccak256(abi_encode(seed, convert(5, uint256))),
        keccak256(abi_encode(seed, convert(6, uint256))),
        keccak256(abi_encode(seed, convert(7, uint256))),
    )
    assert keccak256(power) == keccak256(fdh), "coordinator: token does not verify"
    self.spent[signer] = True


@internal
@pure
def _below(token: uint256[MODULUS_WORDS], n: Bytes[MODULUS_BYTES]) -> bool:
    """
    @dev Whether a token is below the modulus (RFC 9474: a signature representative is below n).
    @param token The token as 8 big-endian words.
    @param n The modulus, 256 bytes big-endian.
    @return token < n as 2048-bit integers.
    """
    for i: uint256 in range(MODULUS_WORDS):
        word: uint256 = extract32(n, i * 32, output_type=uint256)
        if token[i] != word:
            return token[i] < word
    return False
