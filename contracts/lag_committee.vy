# pragma version ~=0.4.3
# pragma optimize gas
"""
@title Committee attestations: an M-of-N signature rule over 32-byte digests of typed results
@custom:contract-name lag_committee
@license MIT (compiled together with snekmate's AGPL-3.0-only `ownable`, `ecdsa` and `eip712_domain_separator`)
@author gridchain
@notice The consortium's rule as a contract (DESIGN.md rule 6: no home-made blockchain). PETCON's local
        aggregators (LAGs) commit each auction's final result here, and issue 21's consensus nodes will commit
        theirs: a committee of at most 32 member keys attests `digest` as the result of `kind` (what is
        attested, e.g. keccak256("petcon.result")) for `round`, and the chain keeps attested[kind][round].

        Rule: a threshold of distinct members' EIP-712 signatures over
            Attestation(bytes32 kind,uint256 round,bytes32 digest,uint256 epoch)
        under the domain ("gridchain committee", "1", chain id, this contract). The threshold is one of
            UNANIMOUS (1)   all N members (PETCON's consortium: every LAG audits and signs),
            TWO_THIRDS (2)  ceil(2N/3) (= 2f+1 for N = 3f+1: a BFT quorum), and
            FIXED (3)       an explicit M, 1 <= M <= N (kept within N: a removal that would break it reverts).
        The first two follow N through rotations; FIXED is for a quorum chosen by hand.

        Signatures come as a list, one per signer, sorted by the signer's address ascending (Safe's rule: a
        strictly increasing signer makes a duplicate impossible at the cost of one comparison). Each is what a
        standard wallet produces: 65 bytes r | s | v with v = 27/28 or the bare recovery id 0/1, or EIP-2098's
        64 bytes r | vs; normalised here, high-s (EIP-2) refused, so a signer counts once in whatever form.
        Recovery is snekmate's `ecdsa`, whose "ecdsa: invalid signature" is the one reason that is not ours (a
        signature ecrecover finds nobody for: r or s zero, r no point's x-coordinate). Anyone may submit.

        Membership and the rule belong to the owner (`ownable`; a Safe in production). Every change bumps
        `epoch`, which the signatures sign: a signature made under an old committee is void after a rotation.

        Re-attesting a round with the digest it holds is a no-op that returns False without checking the
        signatures (two members racing to submit the same result do not fail); another digest reverts.

        Invariant: an attested digest never changes (attested[kind][round] is written once, from zero, and
        never again), and every attestation carried signatures of at least threshold() distinct members of the
        committee of the current epoch, over that epoch (asserted in `attest`: the count before the loop,
        distinctness and membership in it).
@dev Python twin: `gridchain.committee.model` (the same rule, packing-free state and revert reasons).
"""

from snekmate.auth import ownable
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712

initializes: ownable
initializes: eip712
exports: (ownable.owner, ownable.transfer_ownership, eip712.eip712Domain)


MAX_MEMBERS: constant(uint256) = 32
UNANIMOUS: constant(uint256) = 1
TWO_THIRDS: constant(uint256) = 2
FIXED: constant(uint256) = 3
HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168  # secp256k1 n // 2 (EIP-2)
LOW255: constant(uint256) = 2**255 - 1
MASK8: constant(uint256) = 2**8 - 1
ATTESTATION_TYPEHASH: constant(bytes32) = keccak256(
    "Attestation(bytes32 kind,uint256 round,bytes32 digest,uint256 epoch)"
)


event Attested:
    kind: indexed(bytes32)
    round: indexed(uint256)
    digest: bytes32
    signers: uint256  # bit i: the member in slot i (`members()` at `epoch`) signed
    epoch: uint256

event MemberAdded:
    member: indexed(address)
    epoch: uint256

event MemberRemoved:
    member: indexed(address)
    epoch: uint256

event RuleSet:
    rule: uint256
    m: uint256
    epoch: uint256


# One word read once per attestation: count (bits 0-7) | rule (8-15) | m (16-23) | epoch (24-255).
config: uint256
member_at: HashMap[uint256, address]  # slot 0 .. count-1
slot_of: HashMap[address, uint256]  # 1 + the member's slot; 0: not a member
attested: public(HashMap[bytes32, HashMap[uint256, bytes32]])  # kind -> round -> digest; 0: not attested


@deploy
def __init__(members: DynArray[address, MAX_MEMBERS], rule: uint256, m: uint256):
    """
    @dev The deployer becomes the owner; the committee starts at epoch 0.
    @param members The first members, 1 .. 32 distinct non-zero addresses (their order is their slots).
    @param rule UNANIMOUS (1), TWO_THIRDS (2) or FIXED (3).
    @param m The threshold of the FIXED rule, 1 .. len(members); 0 for the other rules.
    """
    ownable.__init__()
    eip712.__init__("gridchain committee", "1")
    assert len(members) > 0, "lag_committee: no members"
    count: uint256 = 0
    for member: address in members:
        self._add(member, count)
        count += 1
    self._check_rule(rule, m, count)
    self.config = count | (rule << 8) | (m << 16)


# ---- the owner ---------------------------------------------------------------------------------------


@external
def add_member(member: address):
    """
    @dev Owner only: add a member in the next slot and start a new epoch.
    @param member A non-zero address, not a member; the committee has fewer than 32 members.
    """
    self._check_owner()
    c: uint256 = self.config
    count: uint256 = c & MASK8
    assert count < MAX_MEMBERS, "lag_committee: committee is full"
    self._add(member, count)
    c = self._next_epoch(c) + 1  # count + 1: below 33, the byte does not carry
    self.config = c
    log MemberAdded(member=member, epoch=c >> 24)


@external
def remove_member(member: address):
    """
    @dev Owner only: remove a member (the last slot's member moves into its slot) and start a new epoch.
    @param member A member; not the last one, and under FIXED not one that would leave fewer than M.
    """
    self._check_owner()
    c: uint256 = self.config
    count: uint256 = c & MASK8
    slot: uint256 = self.slot_of[member]
    assert slot != 0, "lag_committee: not a member"
    assert count > 1, "lag_committee: cannot remove the last member"
    if (c >> 8) & MASK8 == FIXED:
        assert (c >> 16) & MASK8 < count, "lag_committee: removal would leave fewer members than m"
    last: address = self.member_at[count - 1]
    self.member_at[slot - 1] = last
    self.slot_of[last] = slot
    self.member_at[count - 1] = empty(address)
    self.slot_of[member] = 0
    c = self._next_epoch(c) - 1
    self.config = c
    log MemberRemoved(member=member, epoch=c >> 24)


@external
def set_rule(rule: uint256, m: uint256):
    """
    @dev Owner only: set the threshold rule and start a new epoch.
    @param rule UNANIMOUS (1), TWO_THIRDS (2) or FIXED (3).
    @param m The threshold of the FIXED rule, 1 .. the member count; 0 for the other rules.
    """
    self._check_owner()
    c: uint256 = self.config
    count: uint256 = c & MASK8
    self._check_rule(rule, m, count)
    c = (self._next_epoch(c) & ~(2**24 - 1)) | count | (rule << 8) | (m << 16)
    self.config = c
    log RuleSet(rule=rule, m=m, epoch=c >> 24)


# ---- attesting ---------------------------------------------------------------------------------------


@external
def attest(kind: bytes32, round: uint256, digest: bytes32, signatures: DynArray[Bytes[65], MAX_MEMBERS]) -> bool:
    """
    @dev Anyone: record `digest` as the result of (`kind`, `round`), signed by at least threshold() distinct
         members of the current epoch. The same digest again: a no-op.
    @param kind What is attested (e.g. keccak256("petcon.result")).
    @param round Which instance of it (an auction's round, a block height).
    @param digest The result's 32-byte digest, not zero.
    @param signatures The members' EIP-712 Attestation signatures, sorted by signer address ascending, each
           65 bytes r | s | v (v = 0, 1, 27 or 28) or 64 bytes r | vs (EIP-2098), s in the low half.
    @return True if the round is newly attested, False if it already held this digest.
    """
    assert digest != empty(bytes32), "lag_committee: digest is zero"
    held: bytes32 = self.attested[kind][round]
    if held == digest:
        return False
    assert held == empty(bytes32), "lag_committee: round attested with another digest"
    c: uint256 = self.config
    epoch: uint256 = c >> 24
    assert len(signatures) >= self._threshold(c), "lag_committee: fewer signatures than the threshold"
    h: bytes32 = eip712._hash_typed_data_v4(keccak256(abi_encode(ATTESTATION_TYPEHASH, kind, round, digest, epoch)))
    previous: uint256 = 0
    signers: uint256 = 0
    for signature: Bytes[65] in signatures:
        signer: uint256 = convert(self._recover(h, signature), uint256)
        # strictly ascending: each signature is a distinct signer, so len(signatures) counts distinct members
        assert signer > previous, "lag_committee: signers not in ascending order"
        previous = signer
        slot: uint256 = self.slot_of[convert(signer, address)]
        assert slot != 0, "lag_committee: signer is not a member"
        signers |= 1 << (slot - 1)
    self.attested[kind][round] = digest  # written once: it was zero (checked above)
    log Attested(kind=kind, round=round, digest=digest, signers=signers, epoch=epoch)
    return True


# ---- views -------------------------------------------------------------------------------------------


@view
@external
def epoch() -> uint256:
    """
    @dev The current epoch: the number of membership and rule changes since deployment.
    @return The epoch the signatures must sign.
    """
    return self.config >> 24


@view
@external
def rule() -> (uint256, uint256):
    """
    @dev The threshold rule.
    @return UNANIMOUS (1), TWO_THIRDS (2) or FIXED (3).
    @return M of the FIXED rule (0 for the others).
    """
    c: uint256 = self.config
    return (c >> 8) & MASK8, (c >> 16) & MASK8


@view
@external
def threshold() -> uint256:
    """
    @dev How many distinct members' signatures an attestation needs now.
    @return N, ceil(2N/3) or M, by the rule (N: the member count).
    """
    return self._threshold(self.config)


@view
@external
def member_count() -> uint256:
    """
    @dev The number of members.
    @return N, 1 .. 32.
    """
    return self.config & MASK8


@view
@external
def members() -> DynArray[address, MAX_MEMBERS]:
    """
    @dev The members by slot (bit i of an `Attested` event's `signers` is slot i).
    @return The member addresses, slot 0 first.
    """
    out: DynArray[address, MAX_MEMBERS] = []
    for i: uint256 in range(self.config & MASK8, bound=MAX_MEMBERS):
        out.append(self.member_at[i])
    return out


@view
@external
def is_member(account: address) -> bool:
    """
    @dev Whether `account` is a member now.
    @param account Any address.
    @return True for a member.
    """
    return self.slot_of[account] != 0


@view
@external
def attestation_hash(kind: bytes32, round: uint256, digest: bytes32, epoch: uint256) -> bytes32:
    """
    @dev What a member signs: the EIP-712 digest of Attestation(kind, round, digest, epoch) in this domain.
    @param kind What is attested.
    @param round Which instance of it.
    @param digest The result's digest.
    @param epoch The committee's epoch (`epoch()`).
    @return keccak256(0x1901 || domain separator || hashStruct).
    """
    return eip712._hash_typed_data_v4(keccak256(abi_encode(ATTESTATION_TYPEHASH, kind, round, digest, epoch)))


# ---- internals ---------------------------------------------------------------------------------------


@internal
def _add(member: address, count: uint256):
    assert member != empty(address), "lag_committee: member is the zero address"
    assert self.slot_of[member] == 0, "lag_committee: already a member"
    self.member_at[count] = member
    self.slot_of[member] = count + 1


@pure
@internal
def _check_rule(rule: uint256, m: uint256, count: uint256):
    assert rule >= UNANIMOUS and rule <= FIXED, "lag_committee: unknown rule"
    if rule == FIXED:
        assert m >= 1 and m <= count, "lag_committee: m out of range 1 .. member count"
    else:
        assert m == 0, "lag_committee: m is only for the FIXED rule"


@pure
@internal
def _next_epoch(c: uint256) -> uint256:
    return c + (1 << 24)


@pure
@internal
def _threshold(c: uint256) -> uint256:
    count: uint256 = c & MASK8
    rule: uint256 = (c >> 8) & MASK8
    if rule == UNANIMOUS:
        return count
    if rule == TWO_THIRDS:
        return (2 * count + 2) // 3
    return (c >> 16) & MASK8


@pure
@internal
def _recover(h: bytes32, signature: Bytes[65]) -> address:
    # normalised at the entry: (r, s, v in {27, 28}) from any standard form, high s refused
    length: uint256 = len(signature)
    assert length == 64 or length == 65, "lag_committee: signature is not 64 or 65 bytes"
    r: uint256 = extract32(signature, 0, output_type=uint256)
    word: uint256 = extract32(signature, 32, output_type=uint256)
    s: uint256 = word
    v: uint256 = 0
    if length == 65:
        v = convert(slice(signature, 64, 1), uint256)
        if v < 2:
            v += 27
        assert v == 27 or v == 28, "lag_committee: signature v is not 0, 1, 27 or 28"
    else:
        s = word & LOW255
        v = 27 + (word >> 255)
    assert s <= HALF_N, "lag_committee: signature s in the upper half (malleable, EIP-2)"
    return ecdsa._try_recover_vrs(h, v, r, s)


@view
@internal
def _check_owner():
    assert msg.sender == ownable.owner, "lag_committee: caller is not the owner"
