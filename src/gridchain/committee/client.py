"""The committee contract (contracts/lag_committee.vy) through any gateway, and attestations signed with local
member keys, put in the order the contract checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eth_utils import keccak, to_checksum_address

from gridchain.chain.client import ContractClient
from gridchain.chain.gateway import Gateway, Receipt
from gridchain.committee.model import Attestation, domain
from gridchain.crypto import eip712
from gridchain.crypto.keys import Key, normalize_signature, recover_digest, sign_digest
from gridchain.errors import InputError

CONTRACT = "lag_committee"


def kind_of(name: str) -> bytes:
    """The 32-byte `kind` of a named result type: keccak256 of its name (e.g. "petcon.result")."""
    return keccak(text=name)


def sign_attestation(
    key: Key, committee_domain: eip712.Domain, kind: bytes, round: int, digest: bytes, epoch: int
) -> bytes:
    """A member's 65-byte signature (v = 27/28) of Attestation(kind, round, digest, epoch)."""
    return sign_digest(key, eip712.digest(committee_domain, Attestation(kind, round, digest, epoch)))


def in_signer_order(h: bytes, signatures: Iterable[bytes]) -> list[bytes]:
    """`signatures` of the attestation hash `h`, each normalised (any standard form; InputError naming
    `signatures[i]` for a malformed one), sorted by their signers' addresses ascending, as `attest` takes them."""
    signed = []
    for i, raw in enumerate(signatures):
        signature = normalize_signature(raw, f"signatures[{i}]")
        signed.append((int(recover_digest(h, signature, f"signatures[{i}]"), 16), signature))
    signers = [signer for signer, _ in signed]
    if len(set(signers)) != len(signers):
        raise InputError("signatures", "two signatures by one signer")
    return [signature for _, signature in sorted(signed)]


class CommitteeClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(
        cls, gateway: Gateway, owner: str, members: Sequence[str], rule: int, m: int = 0
    ) -> tuple[CommitteeClient, Receipt]:
        return cls._deploy(gateway, owner, [list(members), rule, m])

    # -- the owner ---------------------------------------------------------------------------------------
    def add_member(self, owner: str, member: str) -> Receipt:
        return self._tx("add_member", [member], owner)

    def remove_member(self, owner: str, member: str) -> Receipt:
        return self._tx("remove_member", [member], owner)

    def set_rule(self, owner: str, rule: int, m: int = 0) -> Receipt:
        return self._tx("set_rule", [rule, m], owner)

    def transfer_ownership(self, owner: str, new_owner: str) -> Receipt:
        return self._tx("transfer_ownership", [new_owner], owner)

    # -- attesting ---------------------------------------------------------------------------------------
    def sign(self, key: Key, kind: bytes, round: int, digest: bytes) -> bytes:
        """A member's signature of (kind, round, digest) under the committee's epoch now."""
        return sign_attestation(key, self.domain(), kind, round, digest, self.epoch())

    def attest(self, sender: str, kind: bytes, round: int, digest: bytes, signatures: Iterable[bytes]) -> Receipt:
        """Submit the members' signatures (any standard form, any order: put in the contract's order here)."""
        h = self.attestation_hash(kind, round, digest, self.epoch())
        return self._tx("attest", [kind, round, digest, in_signer_order(h, signatures)], sender)

    def attest_raw(self, sender: str, kind: bytes, round: int, digest: bytes, signatures: Sequence[bytes]) -> Receipt:
        """Submit `signatures` as they are (already in signer order)."""
        return self._tx("attest", [kind, round, digest, list(signatures)], sender)

    # -- reads -------------------------------------------------------------------------------------------
    def attested(self, kind: bytes, round: int) -> bytes:
        """The attested digest of (kind, round); 32 zero bytes if none."""
        return bytes(self.view("attested", kind, round))

    def epoch(self) -> int:
        return int(self.view("epoch"))

    def rule(self) -> tuple[int, int]:
        rule, m = self.view("rule")
        return int(rule), int(m)

    def threshold(self) -> int:
        return int(self.view("threshold"))

    def members(self) -> list[str]:
        return [to_checksum_address(str(a)) for a in self.view("members")]

    def is_member(self, account: str) -> bool:
        return bool(self.view("is_member", account))

    def owner(self) -> str:
        return to_checksum_address(str(self.view("owner")))

    def attestation_hash(self, kind: bytes, round: int, digest: bytes, epoch: int) -> bytes:
        return bytes(self.view("attestation_hash", kind, round, digest, epoch))

    def domain(self) -> eip712.Domain:
        return domain(self.chain_id(), self.address)
