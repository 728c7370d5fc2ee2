"""The committee's harness: contracts/lag_committee.vy deployed with its twin (gridchain.committee.model), every
call going to both through `Mirrored.mirror` (tests/support/mirrored.py); after each success `check` compares
everything observable (members by slot, epoch, rule, threshold, owner, every attested digest, the Attested event's
bitmap) and the twin's invariant. Member keys are fixed (a pool of KEYS), so signatures are deterministic."""

from __future__ import annotations

from functools import cache

import boa
from eth_abi import encode
from eth_utils import keccak

from gridchain.committee.client import kind_of, sign_attestation
from gridchain.committee.model import TWO_THIRDS, CommitteeError, CommitteeModel
from gridchain.crypto.keys import address_of
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

CONTRACT = CONTRACTS / "lag_committee.vy"
EVENTS = ("Attested", "MemberAdded", "MemberRemoved", "RuleSet")
POOL = 40  # keys: members and outsiders
KIND = kind_of("petcon.result")


@cache
def key(i: int) -> bytes:
    """The i-th key of the pool (fixed)."""
    return keccak(text=f"committee test key {i}")


@cache
def address(i: int) -> str:
    return address_of(key(i)).lower()


def deploy(members: list[str], rule: int, m: int = 0):
    """The committee deployed from boa's default account (init code run directly, the contract taken `at` its
    address: no per-deployment source map)."""
    d = load(CONTRACT)
    args = encode(["address[]", "uint256", "uint256"], [members, rule, m])
    created, _ = boa.env.deploy_code(bytecode=d.compiler_data.bytecode + args)
    return d.at(created)


def refused(reason: str, call, *args, **kwargs) -> None:
    """`call` is refused by both sides with exactly `reason`."""
    with _refused(reason, CommitteeError):
        call(*args, **kwargs)


class Committee(Mirrored):
    """A deployed lag_committee with its CommitteeModel twin; members are keys 0 .. n-1 of the pool."""

    ERROR = CommitteeError
    EVENTS = EVENTS

    def __init__(self, n: int = 3, rule: int = TWO_THIRDS, m: int = 0):
        self.owner = str(boa.env.eoa)
        members = [address(i) for i in range(n)]
        self.c = deploy(members, rule, m)
        self.address = str(self.c.address)
        self.chain_id = self.c.eip712Domain()[3]
        self.model = CommitteeModel(self.owner, members, rule, m, self.chain_id, self.address)
        self.init_accounts()
        self.events: dict[str, list[dict]] = {}
        self.track(self.owner)
        self.stranger = self.new_account().address

    # -- calls (sender first, as the model's) -------------------------------------------------------------
    def add_member(self, sender, member: str) -> None:
        self.mirror(sender, lambda: self.model.add_member(str(sender), member), lambda: self.c.add_member(member))
        self.check()

    def remove_member(self, sender, member: str) -> None:
        self.mirror(sender, lambda: self.model.remove_member(str(sender), member), lambda: self.c.remove_member(member))
        self.check()

    def set_rule(self, sender, rule: int, m: int = 0) -> None:
        self.mirror(sender, lambda: self.model.set_rule(str(sender), rule, m), lambda: self.c.set_rule(rule, m))
        self.check()

    def transfer_ownership(self, sender, new_owner: str) -> None:
        self.mirror(
            sender,
            lambda: self.model.transfer_ownership(str(sender), new_owner),
            lambda: self.c.transfer_ownership(new_owner),
        )
        self.check()

    def attest(self, sender, round: int, digest: bytes, signatures: list[bytes], kind: bytes = KIND) -> bool:
        """Attest through both; the chain's return value and Attested event must be the twin's."""
        (new, bitmap), out = self.mirror(
            sender,
            lambda: self.model.attest(kind, round, digest, signatures),
            lambda: self.c.attest(kind, round, digest, signatures),
        )
        assert out == new
        expected = [{"kind": kind, "round": round, "digest": digest, "signers": bitmap, "epoch": self.model.epoch}]
        assert self.events["Attested"] == (expected if new else [])
        self.check()
        return new

    # -- signing -------------------------------------------------------------------------------------------
    def sign(self, i: int, round: int, digest: bytes, kind: bytes = KIND, epoch: int | None = None, domain=None):
        """Key i's signature (65 bytes, v = 27/28), under the current epoch and this committee's domain unless told."""
        epoch = self.model.epoch if epoch is None else epoch
        return sign_attestation(key(i), domain or self.model.domain(), kind, round, digest, epoch)

    def signed(self, indices, round: int, digest: bytes, **kwargs) -> list[bytes]:
        """Signatures of the keys `indices`, sorted by signer address ascending (as `attest` takes them)."""
        ordered = sorted(indices, key=lambda i: int(address(i), 16))
        return [self.sign(i, round, digest, **kwargs) for i in ordered]

    def member_keys(self) -> list[int]:
        """Pool indices of the current members."""
        return [i for i in range(POOL) if self.model.is_member(address(i))]

    # -- comparing -----------------------------------------------------------------------------------------
    def check(self) -> None:
        c, m = self.c, self.model
        assert [str(a).lower() for a in c.members()] == m.members
        assert c.member_count() == len(m.members)
        assert c.epoch() == m.epoch
        assert c.rule() == (m.rule, m.m)
        assert c.threshold() == m.threshold()
        assert str(c.owner()).lower() == m.owner
        for (kind, round), digest in m.attested.items():
            assert c.attested(kind, round) == digest
        m.check_invariant()
