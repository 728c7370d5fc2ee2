"""Twin of contracts/lag_committee.vy: members in slots, the threshold rule, the epoch that every change bumps,
and `attest` with the contract's checks in its order and its exact revert reasons.

Every method takes the caller first (where the contract checks it) and raises `CommitteeError` with the
contract's reason where the contract reverts, changing nothing. Signatures are checked with our EIP-712
(`gridchain.crypto.eip712`) and key recovery (`gridchain.crypto.keys`), normalised as the contract does: 65 bytes
with v = 0/1/27/28 or EIP-2098's 64 bytes, high s refused; a signature ecrecover finds nobody for fails with
snekmate's "ecdsa: invalid signature". Addresses are kept lower-case.

Invariant (`check_invariant`, and `attest` itself): an attested digest never changes; each attestation (`log`)
had at least the threshold of its epoch in distinct signers, each a member of that epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gridchain.crypto import eip712
from gridchain.crypto.keys import ecrecover, split_signature
from gridchain.errors import ContractRevert

UNANIMOUS, TWO_THIRDS, FIXED = 1, 2, 3
RULES = {"unanimous": UNANIMOUS, "two-thirds": TWO_THIRDS, "fixed": FIXED}
MAX_MEMBERS = 32
NAME, VERSION = "gridchain committee", "1"
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
INVALID_SIGNATURE = "ecdsa: invalid signature"  # snekmate's, where ecrecover finds nobody


class CommitteeError(ContractRevert):
    """A call the contract would revert, with the contract's reason."""


def _fail(ok: bool, reason: str) -> None:
    """Our check: "lag_committee: <reason>"."""
    _fail_as(ok, f"lag_committee: {reason}")


def _fail_as(ok: bool, reason: str) -> None:
    """A check of a snekmate module, with its own reason."""
    if not ok:
        raise CommitteeError(reason)


@dataclass(frozen=True)
class Attestation(eip712.TypedStruct):
    """What a member signs: `digest` is the result of `kind` for `round`, under the committee of `epoch`."""

    TYPE = "Attestation(bytes32 kind,uint256 round,bytes32 digest,uint256 epoch)"

    kind: bytes
    round: int
    digest: bytes
    epoch: int


def domain(chain_id: int, contract: str) -> eip712.Domain:
    """The committee's EIP-712 domain (snekmate's `eip712_domain_separator`)."""
    return eip712.Domain(NAME, VERSION, chain_id, contract)


def threshold_of(rule: int, m: int, count: int) -> int:
    """Distinct signatures an attestation needs: N (UNANIMOUS), ceil(2N/3) (TWO_THIRDS) or M (FIXED)."""
    return {UNANIMOUS: count, TWO_THIRDS: (2 * count + 2) // 3}.get(rule, m)


def check_rule(rule: int, m: int, count: int) -> None:
    """The contract's `_check_rule`."""
    _fail(UNANIMOUS <= rule <= FIXED, "unknown rule")
    if rule == FIXED:
        _fail(1 <= m <= count, "m out of range 1 .. member count")
    else:
        _fail(m == 0, "m is only for the FIXED rule")


def split(signature: bytes) -> tuple[int, int, int]:
    """(v in {27, 28}, r, s) of a signature as the contract normalises it, or its revert."""
    try:
        return split_signature(signature)
    except ValueError as e:
        raise CommitteeError(f"lag_committee: {e}") from None


def recover(h: bytes, signature: bytes) -> str:
    """The contract's `_recover`: the signer of `h` (lower case), or its revert."""
    signer = ecrecover(h, *split(signature))
    _fail_as(signer != ZERO, INVALID_SIGNATURE)
    return signer


@dataclass(frozen=True)
class Attested:
    """One attestation as its event has it."""

    kind: bytes
    round: int
    digest: bytes
    signers: int  # bit i: the member in slot i at `epoch`
    epoch: int


@dataclass
class CommitteeModel:
    """The committee's state: what its getters show (members by slot, lower-case)."""

    owner: str
    members: list[str]
    rule: int
    m: int
    chain_id: int = 1
    address: str = ZERO  # the contract's, for the domain
    epoch: int = 0
    attested: dict[tuple[bytes, int], bytes] = field(default_factory=dict)
    log: list[tuple[Attested, tuple[str, ...], int]] = field(default_factory=list)  # with signers and threshold

    def __post_init__(self) -> None:
        """The constructor's checks, in its order."""
        self.owner = self.owner.lower()
        members, self.members = [a.lower() for a in self.members], []
        _fail(len(members) > 0, "no members")
        _fail(len(members) <= MAX_MEMBERS, "committee is full")  # the contract's ABI refuses more
        for member in members:
            self._add(member)
        check_rule(self.rule, self.m, len(self.members))

    # -- views -------------------------------------------------------------------------------------------
    def threshold(self) -> int:
        return threshold_of(self.rule, self.m, len(self.members))

    def is_member(self, account: str) -> bool:
        return account.lower() in self.members

    def domain(self) -> eip712.Domain:
        return domain(self.chain_id, self.address)

    def attestation_hash(self, kind: bytes, round: int, digest: bytes, epoch: int) -> bytes:
        return eip712.digest(self.domain(), Attestation(kind, round, digest, epoch))

    def digest_of(self, kind: bytes, round: int) -> bytes:
        return self.attested.get((kind, round), ZERO32)

    def check_invariant(self) -> None:
        for event, signers, threshold in self.log:
            assert self.attested[(event.kind, event.round)] == event.digest, "an attested digest changed"
            assert len(set(signers)) == len(signers) >= threshold >= 1, "an attestation lacked signers"
            assert bin(event.signers).count("1") == len(signers)

    # -- the owner ---------------------------------------------------------------------------------------
    def add_member(self, sender: str, member: str) -> None:
        self._check_owner(sender)
        _fail(len(self.members) < MAX_MEMBERS, "committee is full")
        self._add(member.lower())
        self.epoch += 1

    def remove_member(self, sender: str, member: str) -> None:
        self._check_owner(sender)
        member = member.lower()
        _fail(member in self.members, "not a member")
        _fail(len(self.members) > 1, "cannot remove the last member")
        if self.rule == FIXED:
            _fail(self.m < len(self.members), "removal would leave fewer members than m")
        slot, last = self.members.index(member), self.members.pop()
        if last != member:
            self.members[slot] = last  # the last slot's member moves into the freed slot
        self.epoch += 1

    def set_rule(self, sender: str, rule: int, m: int) -> None:
        self._check_owner(sender)
        check_rule(rule, m, len(self.members))
        self.rule, self.m = rule, m
        self.epoch += 1

    def transfer_ownership(self, sender: str, new_owner: str) -> None:
        self._check_owner_snekmate(sender)
        _fail_as(new_owner.lower() != ZERO, "ownable: new owner is the zero address")
        self.owner = new_owner.lower()

    # -- attesting ---------------------------------------------------------------------------------------
    def attest(self, kind: bytes, round: int, digest: bytes, signatures: list[bytes]) -> tuple[bool, int]:
        """(newly attested, the signers' bitmap) or the contract's revert; the same digest again: (False, 0)."""
        _fail(digest != ZERO32, "digest is zero")
        held = self.digest_of(kind, round)
        if held == digest:
            return False, 0
        _fail(held == ZERO32, "round attested with another digest")
        threshold = self.threshold()
        _fail(len(signatures) >= threshold, "fewer signatures than the threshold")
        h = self.attestation_hash(kind, round, digest, self.epoch)
        previous, bitmap, signers = 0, 0, []
        for signature in signatures:
            signer = recover(h, signature)
            _fail(int(signer, 16) > previous, "signers not in ascending order")
            previous = int(signer, 16)
            _fail(signer in self.members, "signer is not a member")
            bitmap |= 1 << self.members.index(signer)
            signers.append(signer)
        self.attested[(kind, round)] = digest
        self.log.append((Attested(kind, round, digest, bitmap, self.epoch), tuple(signers), threshold))
        return True, bitmap

    # -- internals ---------------------------------------------------------------------------------------
    def _add(self, member: str) -> None:
        _fail(member != ZERO, "member is the zero address")
        _fail(member not in self.members, "already a member")
        self.members.append(member)

    def _check_owner(self, sender: str) -> None:
        _fail(sender.lower() == self.owner, "caller is not the owner")

    def _check_owner_snekmate(self, sender: str) -> None:
        _fail_as(sender.lower() == self.owner, "ownable: caller is not the owner")
