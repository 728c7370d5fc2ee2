# pragma version ~=0.4.3
# pragma optimize gas
"""
@title Consent to a household's meter data, and breaches of it judged on chain (GridMonitoring)
@custom:contract-name data_access
@license MIT (compiled together with snekmate's AGPL-3.0-only `ecdsa`, `eip712_domain_separator` and
         `merkle_proof_verification`)
@author gridchain
@notice A household grants a party (a utility, a researcher, an aggregator) access to its data for the days
        firstDay .. lastDay (UTC day numbers, inclusive) for one purpose (a bytes32 tag) until `expiry`, by its
        EIP-712 signature of
            Grant(address household,address grantee,uint64 firstDay,uint64 lastDay,bytes32 purpose,
                  uint64 expiry,bytes32 salt)
        under ("gridchain data access", "1", chain id, this contract). The grant's id is that digest; anyone may
        submit it (`grant`), once. The household revokes it, itself (`revoke`) or by its signature of
        Revoke(bytes32 grant) (`revoke_signed`), before or after it was submitted: a revoked id is never granted
        again, so the grantee cannot replay a revoked grant's signature. The terms live in the id and the
        `Granted` event (all of them: anyone can rebuild the id); storage keeps one word per grant: when it was granted, its expiry, when it was revoked.

        Processing nodes record every access in the household's thread (`Access` records; the consensus nodes
        attest batches of them on `access_log`, a hash chain of Merkle roots). Anyone holding an attested record
        that breaks its grant may `report` it: the record must be in the log (a Merkle proof into a batch's root
        and the chain from that batch to a head the log holds), and then the first of these, in this order, is
        its breach: the grant was never submitted (NOT_GRANTED), the record names another party or household
        than the grant (WRONG_PARTY), days outside the grant's (OUT_OF_RANGE), another purpose (PURPOSE), a time
        before the grant was submitted (NOT_GRANTED), at or after the expiry (EXPIRED), at or after the
        revocation (REVOKED). An honest record reverts ("no breach"); a record is reported once. What a contract
        cannot judge (a record missing from a thread, data used without any record) is the monitor's, off chain.

        Invariant: a grant word, once written, keeps its granted-at and expiry; its revoked-at is written at most
        once and never cleared (asserted in `grant`, `revoke` and `revoke_signed`); a revoked id is never
        granted; a record is reported at most once. The contract holds no ether.
@dev Python twin: `gridchain.monitoring.model.consent` (the same checks, order and reasons).
"""

from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712
from snekmate.utils import merkle_proof_verification as merkle
from interfaces import IAccessLog

initializes: eip712
exports: eip712.eip712Domain


MAX_PROOF: constant(uint256) = 32
MAX_LATER: constant(uint256) = 256
HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168  # secp256k1 n // 2 (EIP-2)
LOW255: constant(uint256) = 2**255 - 1
MASK64: constant(uint256) = 2**64 - 1
GRANT_TYPEHASH: constant(bytes32) = keccak256(
    "Grant(address household,address grantee,uint64 firstDay,uint64 lastDay,bytes32 purpose,uint64 expiry,bytes32 salt)"
)
REVOKE_TYPEHASH: constant(bytes32) = keccak256("Revoke(bytes32 grant)")
ACCESS_TYPEHASH: constant(bytes32) = keccak256(
    "Access(address household,uint64 seq,address node,address grantee,bytes32 grant,uint64 firstDay,uint64 lastDay,bytes32 purpose,uint64 time,bytes32 dataHash,bytes32 prev)"
)

# breaches, in the order they are judged
NOT_GRANTED: constant(uint8) = 1
WRONG_PARTY: constant(uint8) = 2
OUT_OF_RANGE: constant(uint8) = 3
PURPOSE: constant(uint8) = 4
EXPIRED: constant(uint8) = 5
REVOKED: constant(uint8) = 6


struct Grant:
    household: address
    grantee: address
    firstDay: uint64
    lastDay: uint64
    purpose: bytes32
    expiry: uint64
    salt: bytes32


struct Access:
    household: address
    seq: uint64
    node: address
    grantee: address
    grant: bytes32
    firstDay: uint64
    lastDay: uint64
    purpose: bytes32
    time: uint64
    dataHash: bytes32
    prev: bytes32


struct InLog:
    proof: DynArray[bytes32, MAX_PROOF]  # the record's leaf up to its batch's root
    index: uint256  # the batch
    prev_head: bytes32  # the log's head before the batch
    root: bytes32  # the batch's root
    later: DynArray[bytes32, MAX_LATER]  # the roots after it, up to a head the log holds


event Granted:
    grant: indexed(bytes32)
    household: indexed(address)
    grantee: indexed(address)
    firstDay: uint64
    lastDay: uint64
    purpose: bytes32
    expiry: uint64
    salt: bytes32

event Revoked:
    grant: indexed(bytes32)
    household: indexed(address)

event Breach:
    record: indexed(bytes32)  # the record's leaf
    household: indexed(address)
    grantee: indexed(address)
    grant: bytes32
    reason: uint8


LOG: public(immutable(address))

# grant id -> granted-at (bits 0..63) | expiry (64..127) | revoked-at (128..191); 0: never granted nor revoked
grants: public(HashMap[bytes32, uint256])
reported: public(HashMap[bytes32, bool])  # record leaf -> reported


@deploy
def __init__(access_log: address):
    """
    @dev The access log whose attested batches `report` reads.
    @param access_log contracts/access_log.vy's address.
    """
    assert access_log.is_contract, "data_access: access log is not a contract"
    LOG = access_log
    eip712.__init__("gridchain data access", "1")


@view
@external
def grant_id(g: Grant) -> bytes32:
    """
    @dev The grant's id: the EIP-712 digest the household signs.
    @param g The grant's terms.
    @return bytes32 The id.
    """
    return self._grant_id(g)


@external
def grant(g: Grant, signature: Bytes[65]) -> bytes32:
    """
    @dev Submit the household's signed grant (anyone may; usually the grantee). Once; never after a revocation.
    @param g The terms: non-zero household and grantee, firstDay <= lastDay, expiry in the future.
    @param signature The household's EIP-712 signature of the Grant (65 bytes, or EIP-2098's 64).
    @return bytes32 The grant's id.
    """
    assert g.household != empty(address), "data_access: household is zero"
    assert g.grantee != empty(address), "data_access: grantee is zero"
    assert g.firstDay <= g.lastDay, "data_access: first day after last day"
    assert convert(g.expiry, uint256) > block.timestamp, "data_access: expiry not in the future"
    gid: bytes32 = self._grant_id(g)
    word: uint256 = self.grants[gid]
    assert word >> 128 == 0, "data_access: grant revoked"
    assert word == 0, "data_access: grant already submitted"
    assert self._recover(gid, signature) == g.household, "data_access: not signed by the household"
    word = block.timestamp | (convert(g.expiry, uint256) << 64)
    self.grants[gid] = word
    assert word & MASK64 != 0  # invariant: a written grant has its granted-at
    log Granted(
        grant=gid,
        household=g.household,
        grantee=g.grantee,
        firstDay=g.firstDay,
        lastDay=g.lastDay,
        purpose=g.purpose,
        expiry=g.expiry,
        salt=g.salt,
    )
    return gid


@external
def revoke(g: Grant):
    """
    @dev The household revokes a grant (submitted or not) from its own account.
    @param g The grant's terms; the caller must be its household.
    """
    assert msg.sender == g.household, "data_access: caller is not the household"
    self._revoke(self._grant_id(g), g.household)


@external
def revoke_signed(g: Grant, signature: Bytes[65]):
    """
    @dev Anyone submits the household's signed revocation of a grant (submitted or not).
    @param g The grant's terms (they name the household who must have signed).
    @param signature The household's EIP-712 signature of Revoke(grant id).
    """
    gid: bytes32 = self._grant_id(g)
    h: bytes32 = eip712._hash_typed_data_v4(keccak256(abi_encode(REVOKE_TYPEHASH, gid)))
    assert self._recover(h, signature) == g.household, "data_access: not signed by the household"
    self._revoke(gid, g.household)


@view
@external
def breach_of(record: Access, g: Grant) -> uint8:
    """
    @dev The breach `report` would find in `record` under `g`, or 0 for none (the log is not consulted).
    @param record The access record.
    @param g The terms of the grant the record names (any terms when it was never submitted).
    @return uint8 0, or NOT_GRANTED (1), WRONG_PARTY (2), OUT_OF_RANGE (3), PURPOSE (4), EXPIRED (5), REVOKED (6).
    """
    return self._breach(record, g)


@external
def report(record: Access, g: Grant, where: InLog) -> uint8:
    """
    @dev Report an attested access record that breaks its grant; logs `Breach`. Anyone may; once per record.
    @param record The access record, as in its batch.
    @param g The terms of the grant the record names (any terms when it was never submitted).
    @param where The record's place in the access log (its Merkle proof, its batch and the chain after it).
    @return uint8 The breach (see `breach_of`).
    """
    leaf: bytes32 = self._leaf(record)
    assert not self.reported[leaf], "data_access: record already reported"
    assert merkle._verify(where.proof, where.root, leaf), "data_access: record not in the batch"
    assert staticcall IAccessLog(LOG).includes(
        where.index, where.prev_head, where.root, where.later
    ), "data_access: batch not in the log"
    reason: uint8 = self._breach(record, g)
    assert reason != 0, "data_access: no breach"
    self.reported[leaf] = True
    log Breach(record=leaf, household=record.household, grantee=record.grantee, grant=record.grant, reason=reason)
    return reason


@view
@internal
def _breach(record: Access, g: Grant) -> uint8:
    word: uint256 = self.grants[record.grant]
    granted_at: uint256 = word & MASK64
    if granted_at == 0:
        return NOT_GRANTED
    assert self._grant_id(g) == record.grant, "data_access: terms are not the record's grant"
    if record.household != g.household or record.grantee != g.grantee:
        return WRONG_PARTY
    if record.firstDay < g.firstDay or record.lastDay > g.lastDay or record.firstDay > record.lastDay:
        return OUT_OF_RANGE
    if record.purpose != g.purpose:
        return PURPOSE
    t: uint256 = convert(record.time, uint256)
    if t < granted_at:
        return NOT_GRANTED
    if t >= (word >> 64) & MASK64:
        return EXPIRED
    revoked_at: uint256 = word >> 128
    if revoked_at != 0 and t >= revoked_at:
        return REVOKED
    return 0


@internal
def _revoke(gid: bytes32, household: address):
    word: uint256 = self.grants[gid]
    assert word >> 128 == 0, "data_access: grant already revoked"
    self.grants[gid] = word | (block.timestamp << 128)
    assert self.grants[gid] & (2**128 - 1) == word  # invariant: granted-at and expiry kept
    log Revoked(grant=gid, household=household)


@view
@internal
def _grant_id(g: Grant) -> bytes32:
    return eip712._hash_typed_data_v4(
        keccak256(
            abi_encode(GRANT_TYPEHASH, g.household, g.grantee, g.firstDay, g.lastDay, g.purpose, g.expiry, g.salt)
        )
    )


@pure
@internal
def _leaf(r: Access) -> bytes32:
    # hashStruct(Access): the record's leaf and its link in the household's thread
    return keccak256(
        abi_encode(
            ACCESS_TYPEHASH,
            r.household,
            r.seq,
            r.node,
            r.grantee,
            r.grant,
            r.firstDay,
            r.lastDay,
            r.purpose,
            r.time,
            r.dataHash,
            r.prev,
        )
    )


@pure
@internal
def _recover(h: bytes32, signature: Bytes[65]) -> address:
    # normalised at the entry: (r, s, v in {27, 28}) from any standard form, high s refused
    length: uint256 = len(signature)
    assert length == 64 or length == 65, "data_access: signature is not 64 or 65 bytes"
    r: uint256 = extract32(signature, 0, output_type=uint256)
    word: uint256 = extract32(signature, 32, output_type=uint256)
    s: uint256 = word
    v: uint256 = 0
    if length == 65:
        v = convert(slice(signature, 64, 1), uint256)
        if v < 2:
            v += 27
        assert v == 27 or v == 28, "data_access: signature v is not 0, 1, 27 or 28"
    else:
        s = word & LOW255
        v = 27 + (word >> 255)
    assert s <= HALF_N, "data_access: signature s in the upper half (malleable, EIP-2)"
    return ecdsa._try_recover_vrs(h, v, r, s)
