"""Twin of contracts/access_log.vy: the consensus nodes of an epoch and their threshold, the hash chain of attested
batch roots, pinned heads, and `includes`, with the contract's checks in its order and its exact revert reasons.

Every method that the contract guards takes the caller first (where the contract checks it) and raises
`AccessLogError` with the contract's reason where the contract reverts, changing nothing. Signatures (concatenated,
65 bytes each) are checked with our EIP-712 (`gridchain.crypto.eip712`) and the precompile's twin
(`gridchain.crypto.keys.ecrecover`): v = 0/1/27/28, high s refused; one ecrecover finds nobody for fails with
snekmate's "ecdsa: invalid signature". Addresses are kept lower-case. The ABI's own bounds (at most 32 nodes or
signatures, 256 later roots, batches below 2**176) are the caller's to keep.

Invariant (`check_invariant`, and `attest` itself): head is the hash chain of every attested root in index order
(`log`), each attested by at least m distinct nodes of its epoch; batches only grows; a pinned head never changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils import keccak

from gridchain.crypto import eip712
from gridchain.crypto.keys import SECP256K1_N, ecrecover
from gridchain.errors import ContractRevert

NAME, VERSION = "gridchain access log", "1"
MAX_NODES = 32
MAX_LATER = 256
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
GENESIS = keccak(text="gridchain access log genesis")  # the head before any batch (the contract's GENESIS)
INVALID_SIGNATURE = "ecdsa: invalid signature"  # snekmate's, where ecrecover finds nobody


class AccessLogError(ContractRevert):
    """A call the contract would revert, with the contract's reason."""


def _fail(ok: bool, reason: str) -> None:
    """Our check: "access_log: <reason>"."""
    _fail_as(ok, f"access_log: {reason}")


def _fail_as(ok: bool, reason: str) -> None:
    """A check of a snekmate module, with its own reason."""
    if not ok:
        raise AccessLogError(reason)


@dataclass(frozen=True)
class Batch(eip712.TypedStruct):
    """What a consensus node signs: batch `index` has Merkle root `root` over `records` leaves, under `epoch`."""

    TYPE = "Batch(uint256 index,bytes32 root,uint256 records,uint256 epoch)"

    index: int
    root: bytes
    records: int
    epoch: int


def domain(chain_id: int, contract: str) -> eip712.Domain:
    """The access log's EIP-712 domain (snekmate's `eip712_domain_separator`)."""
    return eip712.Domain(NAME, VERSION, chain_id, contract)


def chain(head: bytes, root: bytes) -> bytes:
    """The next head: keccak256(head ‖ root)."""
    return keccak(head + root)


def split(signatures: bytes, at: int) -> tuple[int, int, int]:
    """The contract's normalisation of the signature at byte `at`: (v in {27, 28}, r, s), or its revert."""
    signature = signatures[at : at + 65]
    v = signature[64] + 27 if signature[64] < 2 else signature[64]
    _fail(v in (27, 28), "signature v is not 0, 1, 27 or 28")
    s = int.from_bytes(signature[32:64], "big")
    _fail(s <= SECP256K1_N // 2, "signature s in the upper half (malleable, EIP-2)")
    return v, int.from_bytes(signature[:32], "big"), s


def recover(h: bytes, signatures: bytes, at: int) -> str:
    """The signer of `h` by the signature at byte `at` (lower case), or the contract's revert."""
    signer = ecrecover(h, *split(signatures, at))
    _fail_as(signer != ZERO, INVALID_SIGNATURE)
    return signer


@dataclass(frozen=True)
class Attested:
    """One attested batch as its event has it."""

    index: int
    root: bytes
    records: int
    head: bytes  # the new head
    epoch: int


@dataclass
class AccessLogModel:
    """The access log's state: what its getters show (nodes in the order given, lower-case)."""

    owner: str
    nodes: list[str]
    m: int
    chain_id: int = 1
    address: str = ZERO  # the contract's, for the domain
    epoch: int = 0
    batches: int = 0
    head: bytes = GENESIS
    pinned: dict[int, bytes] = field(default_factory=dict)
    log: list[tuple[Attested, tuple[str, ...], tuple[str, ...], int]] = field(default_factory=list)  # signers, set, m

    def __post_init__(self) -> None:
        """The constructor's checks, in its order."""
        self.owner = self.owner.lower()
        nodes, self.nodes = self.nodes, []
        self._install(nodes, self.m)

    # -- views -------------------------------------------------------------------------------------------
    def threshold(self) -> int:
        return self.m

    def is_node(self, account: str) -> bool:
        return account.lower() in self.nodes

    def domain(self) -> eip712.Domain:
        return domain(self.chain_id, self.address)

    def batch_hash(self, index: int, root: bytes, records: int, epoch: int) -> bytes:
        return eip712.digest(self.domain(), Batch(index, root, records, epoch))

    def head_after(self, count: int) -> bytes:
        return self.head if count == self.batches else self.pinned.get(count, ZERO32)

    def includes(self, index: int, prev_head: bytes, root: bytes, later: list[bytes]) -> bool:
        if index >= self.batches:
            return False
        h = chain(prev_head, root)
        for r in later:
            h = chain(h, r)
        end = index + 1 + len(later)
        if end > self.batches or h == ZERO32:
            return False
        return h == self.head_after(end)

    def check_invariant(self) -> None:
        h, heads = GENESIS, {0: GENESIS}
        for i, (event, signers, nodes, m) in enumerate(self.log):
            assert event.index == i, "batches out of order"
            h = chain(h, event.root)
            heads[i + 1] = h
            assert event.head == h, "an event's head is not the chain's"
            assert len(set(signers)) == len(signers) >= m >= 1, "a batch lacked signers"
            assert set(signers) <= set(nodes), "a signer was not a node of its epoch"
        assert (self.batches, self.head) == (len(self.log), h), "head is not the chain of the attested roots"
        for count, pinned in self.pinned.items():
            assert heads[count] == pinned, "a pinned head is not the head after its count"

    # -- the owner ---------------------------------------------------------------------------------------
    def set_nodes(self, sender: str, nodes: list[str], m: int) -> None:
        _fail(sender.lower() == self.owner, "caller is not the owner")
        before = (self.nodes, self.m, self.epoch)
        self.epoch += 1
        try:
            self._install(nodes, m)
        except AccessLogError:
            self.nodes, self.m, self.epoch = before
            raise

    def transfer_ownership(self, sender: str, new_owner: str) -> None:
        _fail_as(sender.lower() == self.owner, "ownable: caller is not the owner")
        _fail_as(new_owner.lower() != ZERO, "ownable: new owner is the zero address")
        self.owner = new_owner.lower()

    # -- attesting and pinning ---------------------------------------------------------------------------
    def attest(self, index: int, root: bytes, records: int, signatures: bytes) -> Attested:
        """The new batch's event, or the contract's revert. `signatures`: concatenated, 65 bytes each."""
        _fail(index == self.batches, "index is not the next batch")
        count = len(signatures) // 65
        _fail(count * 65 == len(signatures), "signatures are not 65 bytes each")
        _fail(count >= self.m, "fewer signatures than the threshold")
        h = self.batch_hash(index, root, records, self.epoch)
        previous, signers = 0, []
        for i in range(count):
            signer = recover(h, signatures, 65 * i)
            _fail(int(signer, 16) > previous, "signers not in ascending order")
            previous = int(signer, 16)
            _fail(signer in self.nodes, "signer is not a current node")
            signers.append(signer)
        self.head = chain(self.head, root)
        self.batches += 1
        event = Attested(index, root, records, self.head, self.epoch)
        self.log.append((event, tuple(signers), tuple(self.nodes), self.m))
        return event

    def pin(self) -> bytes:
        """The head pinned for the current count, or the contract's revert."""
        _fail(self.batches != 0, "no batch to pin")
        _fail(self.batches not in self.pinned, "already pinned")
        self.pinned[self.batches] = self.head
        return self.head

    # -- internals ---------------------------------------------------------------------------------------
    def _install(self, nodes: list[str], m: int) -> None:
        nodes = [a.lower() for a in nodes]
        _fail(1 <= m <= len(nodes), "m out of range 1 .. node count")
        installed: list[str] = []
        for node in nodes:
            _fail(node != ZERO, "node is the zero address")
            _fail(node not in installed, "node listed twice")
            installed.append(node)
        self.nodes, self.m = installed, m
