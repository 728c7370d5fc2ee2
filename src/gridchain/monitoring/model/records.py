"""Access records, a household's thread and a batch: what processing nodes write and consensus nodes attest.

A processing node that serves a household's data (sealed meter-days) writes an `Access` record: who (the node
and the grantee), under which grant, which days, for which purpose, when, and a hash of what it served. Records
of one household form its **thread**: `seq` counts 0, 1, 2, ... and `prev` is the previous record's leaf
(bytes32 zero for the first), so a record removed or altered breaks every later link. A **batch** is records of
any households in a Merkle tree (the metering rule: sorted pairs, an odd node carried up) whose root the
consensus nodes attest on contracts/access_log.vy; a record's leaf is its EIP-712 struct hash (no domain: the
root is signed under the log's domain).

Days are UTC day numbers (unix time // 86,400), ranges inclusive; a purpose is a bytes32 tag, `purpose_tag`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eth_utils import keccak

from gridchain.crypto import eip712
from gridchain.metering.model import merkle_proof, merkle_root, verify_proof
from gridchain.monitoring.model.log import GENESIS, chain  # the log twin's head chain

DAY_S = 86_400
ZERO32 = b"\x00" * 32
UINT64 = 2**64


def purpose_tag(text: str) -> bytes:
    """A purpose's bytes32 tag: keccak256 of its text ("billing", "research:ev-load-2026")."""
    if not text or len(text) > 200:
        raise ValueError(f"purpose: {text!r} must be 1 to 200 characters")
    return keccak(text=text)


def day_of(t: int) -> int:
    """The UTC day number of unix time `t`."""
    return t // DAY_S


@dataclass(frozen=True)
class Access(eip712.TypedStruct):
    """One access to a household's data by a processing node, on behalf of a grantee."""

    TYPE = (
        "Access(address household,uint64 seq,address node,address grantee,bytes32 grant,uint64 firstDay,"
        "uint64 lastDay,bytes32 purpose,uint64 time,bytes32 dataHash,bytes32 prev)"
    )

    household: str
    seq: int
    node: str
    grantee: str
    grant: bytes
    first_day: int
    last_day: int
    purpose: bytes
    time: int
    data_hash: bytes
    prev: bytes

    def leaf(self) -> bytes:
        """The record's leaf in a batch's tree and its link in the thread: hashStruct(Access)."""
        return self.struct_hash()

    def as_tuple(self) -> tuple:
        """The record as the contract's `Access` struct argument."""
        return (
            self.household,
            self.seq,
            self.node,
            self.grantee,
            self.grant,
            self.first_day,
            self.last_day,
            self.purpose,
            self.time,
            self.data_hash,
            self.prev,
        )


class ThreadError(ValueError):
    """A thread that does not chain: the reason names the record (household and seq) and what is wrong."""


class Thread:
    """One household's records in order: `append` links a new record to the last; `check` verifies a list."""

    def __init__(self, household: str, records: Iterable[Access] = ()) -> None:
        self.household = household.lower()
        self.records: list[Access] = []
        for r in records:
            self.check_next(r)
            self.records.append(r)

    @property
    def head(self) -> bytes:
        """The last record's leaf (zero for an empty thread)."""
        return self.records[-1].leaf() if self.records else ZERO32

    def next_seq(self) -> int:
        return len(self.records)

    def check_next(self, r: Access) -> None:
        """Raise ThreadError unless `r` is this thread's next record."""
        where = f"record {r.household} #{r.seq}"
        if r.household.lower() != self.household:
            raise ThreadError(f"{where}: household is not {self.household}")
        if r.seq != self.next_seq():
            raise ThreadError(f"{where}: seq {r.seq}, expected {self.next_seq()} (a record is missing or repeated)")
        if r.prev != self.head:
            raise ThreadError(f"{where}: prev {r.prev.hex()} is not the previous record's leaf {self.head.hex()}")
        if self.records and r.time < self.records[-1].time:
            raise ThreadError(f"{where}: time {r.time} is before the previous record's {self.records[-1].time}")

    def append(self, r: Access) -> Access:
        self.check_next(r)
        self.records.append(r)
        return r


def next_record(thread: Thread, **fields) -> Access:
    """The next record of `thread` with `fields` (all but household, seq and prev), appended."""
    return thread.append(Access(household=thread.household, seq=thread.next_seq(), prev=thread.head, **fields))


@dataclass(frozen=True)
class RecordBatch:
    """Records attested together: the Merkle root over their leaves, in this order."""

    index: int
    records: tuple[Access, ...]

    def leaves(self) -> list[bytes]:
        return [r.leaf() for r in self.records]

    def root(self) -> bytes:
        if not self.records:
            raise ValueError("records: a batch needs at least one record")
        return merkle_root(self.leaves())

    def proof(self, position: int) -> list[bytes]:
        """The Merkle proof of the record at `position` (what data_access.vy's `report` takes)."""
        return merkle_proof(self.leaves(), position)


def in_root(record: Access, proof: Sequence[bytes], root: bytes) -> bool:
    return verify_proof(proof, root, record.leaf())


def head_of(roots: Iterable[bytes], head: bytes = GENESIS) -> bytes:
    """The log's head after the batches of `roots`, in order, from `head`."""
    for root in roots:
        head = chain(head, root)
    return head
