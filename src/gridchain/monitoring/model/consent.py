"""Twin of contracts/data_access.vy: grants by the household's EIP-712 signature, revocations, and breaches of
an attested access record judged as the contract judges them (the same checks, order and revert reasons).

Every method takes what the contract reads from its transaction (the time; the sender where it checks it) and
raises `ConsentError` with the contract's reason where the contract reverts, changing nothing. Addresses are
kept lower-case. `report` takes the access log as anything with the contract's `includes` (the log's twin, or a
client over the deployed log).

Invariant (`check_invariant`): a grant keeps its granted-at and expiry; a revocation is never cleared; a revoked
id is never granted afterwards; a record is reported at most once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gridchain.crypto import eip712
from gridchain.crypto.keys import ecrecover, split_signature
from gridchain.errors import ContractRevert
from gridchain.metering.model import verify_proof
from gridchain.monitoring.model.records import Access

NAME, VERSION = "gridchain data access", "1"
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
UINT64 = 2**64
INVALID_SIGNATURE = "ecdsa: invalid signature"  # snekmate's, where ecrecover finds nobody
MAX_PROOF, MAX_LATER = 32, 256

NOT_GRANTED, WRONG_PARTY, OUT_OF_RANGE, PURPOSE, EXPIRED, REVOKED = 1, 2, 3, 4, 5, 6
REASONS = {
    NOT_GRANTED: "not granted",
    WRONG_PARTY: "wrong party",
    OUT_OF_RANGE: "out of range",
    PURPOSE: "another purpose",
    EXPIRED: "after expiry",
    REVOKED: "after revocation",
}


class ConsentError(ContractRevert):
    """A call the contract would revert, with the contract's reason."""


def _fail(ok: bool, reason: str) -> None:
    if not ok:
        raise ConsentError(f"data_access: {reason}")


@dataclass(frozen=True)
class Grant(eip712.TypedStruct):
    """The household's consent: `grantee` may have its data of days first_day .. last_day for `purpose`."""

    TYPE = (
        "Grant(address household,address grantee,uint64 firstDay,uint64 lastDay,bytes32 purpose,uint64 expiry,"
        "bytes32 salt)"
    )

    household: str
    grantee: str
    first_day: int
    last_day: int
    purpose: bytes
    expiry: int
    salt: bytes

    def as_tuple(self) -> tuple:
        """The grant as the contract's `Grant` struct argument."""
        return (
            self.household,
            self.grantee,
            self.first_day,
            self.last_day,
            self.purpose,
            self.expiry,
            self.salt,
        )

    def covers_day(self, day: int) -> bool:
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True)
class Revoke(eip712.TypedStruct):
    TYPE = "Revoke(bytes32 grant)"

    grant: bytes


@dataclass(frozen=True)
class InLog:
    """A record's place in the access log: its Merkle proof into batch `index`'s root, the head before that batch
    and the roots after it up to a head the log holds."""

    proof: tuple[bytes, ...]
    index: int
    prev_head: bytes
    root: bytes
    later: tuple[bytes, ...]

    def as_tuple(self) -> tuple:
        return (list(self.proof), self.index, self.prev_head, self.root, list(self.later))


@dataclass(frozen=True)
class GrantState:
    granted_at: int = 0
    expiry: int = 0
    revoked_at: int = 0

    @property
    def word(self) -> int:
        """The contract's storage word."""
        return self.granted_at | (self.expiry << 64) | (self.revoked_at << 128)


class AccessLogView(Protocol):
    def includes(self, index: int, prev_head: bytes, root: bytes, later: Sequence[bytes]) -> bool: ...


def domain(chain_id: int, contract: str) -> eip712.Domain:
    """The contract's EIP-712 domain."""
    return eip712.Domain(NAME, VERSION, chain_id, contract)


def recover(h: bytes, signature: bytes) -> str:
    """The contract's `_recover`: the signer of `h` (lower case), or its revert."""
    try:
        v, r, s = split_signature(signature)
    except ValueError as e:
        raise ConsentError(f"data_access: {e}") from None
    signer = ecrecover(h, v, r, s)
    if signer == ZERO:
        raise ConsentError(INVALID_SIGNATURE)
    return signer


@dataclass
class ConsentModel:
    """The contract's state: grant words by id, and the records reported."""

    chain_id: int = 1
    address: str = ZERO  # the contract's, for the domain
    grants: dict[bytes, GrantState] = field(default_factory=dict)
    reported: set[bytes] = field(default_factory=set)
    breaches: list[tuple[bytes, int]] = field(default_factory=list)  # (record leaf, reason), in order
    _history: dict[bytes, list[GrantState]] = field(default_factory=dict)

    def domain(self) -> eip712.Domain:
        return domain(self.chain_id, self.address)

    def grant_id(self, g: Grant) -> bytes:
        return eip712.digest(self.domain(), g)

    def revoke_hash(self, gid: bytes) -> bytes:
        return eip712.digest(self.domain(), Revoke(gid))

    def state(self, gid: bytes) -> GrantState:
        return self.grants.get(gid, GrantState())

    # -- the household's consent ---------------------------------------------------------------------------
    def grant(self, now: int, g: Grant, signature: bytes) -> bytes:
        _fail(g.household.lower() != ZERO, "household is zero")
        _fail(g.grantee.lower() != ZERO, "grantee is zero")
        _fail(g.first_day <= g.last_day, "first day after last day")
        _fail(g.expiry > now, "expiry not in the future")
        gid = self.grant_id(g)
        st = self.state(gid)
        _fail(st.revoked_at == 0, "grant revoked")
        _fail(st.word == 0, "grant already submitted")
        _fail(recover(gid, signature) == g.household.lower(), "not signed by the household")
        self._put(gid, GrantState(now, g.expiry, 0))
        return gid

    def revoke(self, now: int, sender: str, g: Grant) -> None:
        _fail(sender.lower() == g.household.lower(), "caller is not the household")
        self._revoke(now, self.grant_id(g))

    def revoke_signed(self, now: int, g: Grant, signature: bytes) -> None:
        gid = self.grant_id(g)
        _fail(recover(self.revoke_hash(gid), signature) == g.household.lower(), "not signed by the household")
        self._revoke(now, gid)

    def _revoke(self, now: int, gid: bytes) -> None:
        st = self.state(gid)
        _fail(st.revoked_at == 0, "grant already revoked")
        self._put(gid, GrantState(st.granted_at, st.expiry, now))

    def _put(self, gid: bytes, st: GrantState) -> None:
        self.grants[gid] = st
        self._history.setdefault(gid, []).append(st)

    # -- breaches --------------------------------------------------------------------------------------------
    def breach_of(self, record: Access, g: Grant) -> int:
        """The contract's `_breach`: 0, or the first breach in the contract's order."""
        st = self.state(record.grant)
        if st.granted_at == 0:
            return NOT_GRANTED
        _fail(self.grant_id(g) == record.grant, "terms are not the record's grant")
        if record.household.lower() != g.household.lower() or record.grantee.lower() != g.grantee.lower():
            return WRONG_PARTY
        if record.first_day < g.first_day or record.last_day > g.last_day or record.first_day > record.last_day:
            return OUT_OF_RANGE
        if record.purpose != g.purpose:
            return PURPOSE
        if record.time < st.granted_at:
            return NOT_GRANTED
        if record.time >= st.expiry:
            return EXPIRED
        if st.revoked_at != 0 and record.time >= st.revoked_at:
            return REVOKED
        return 0

    def report(self, log: AccessLogView, record: Access, g: Grant, where: InLog) -> int:
        leaf = record.leaf()
        _fail(leaf not in self.reported, "record already reported")
        _fail(verify_proof(where.proof, where.root, leaf), "record not in the batch")
        _fail(log.includes(where.index, where.prev_head, where.root, where.later), "batch not in the log")
        reason = self.breach_of(record, g)
        _fail(reason != 0, "no breach")
        self.reported.add(leaf)
        self.breaches.append((leaf, reason))
        return reason

    def check_invariant(self) -> None:
        for gid, states in self._history.items():
            granted = [s for s in states if s.granted_at]
            assert len({(s.granted_at, s.expiry) for s in granted}) <= 1, f"grant {gid.hex()}: terms rewritten"
            revoked = [s.revoked_at for s in states if s.revoked_at]
            assert len(set(revoked)) <= 1, f"grant {gid.hex()}: revocation rewritten"
            first_revoked = next((i for i, s in enumerate(states) if s.revoked_at), None)
            if first_revoked is not None:
                assert all(s.revoked_at for s in states[first_revoked:]), f"grant {gid.hex()}: revocation cleared"
                before = states[first_revoked - 1].granted_at if first_revoked else 0
                assert all(s.granted_at == before for s in states[first_revoked:]), "granted after a revocation"
        assert len(self.reported) == len(self.breaches) == len({leaf for leaf, _ in self.breaches})
