# pragma version ~=0.4.3
# pragma optimize gas
"""
@title Access log: batches of access records attested by M-of-N consensus nodes, kept as a hash chain of roots
@custom:contract-name access_log
@license MIT (compiled together with snekmate's AGPL-3.0-only `ownable`, `ecdsa` and `eip712_domain_separator`)
@author gridchain
@notice GridMonitoring's sovereign ledger as a contract (DESIGN.md rule 6: no home-made blockchain). Processing
        nodes record every access to a household's meter data; consensus nodes batch the records into a Merkle
        tree (sorted pairs, snekmate's merkle_proof_verification rule, as metering.vy) and at least m of the N
        current nodes sign, under the domain ("gridchain access log", "1", chain id, this contract),
            Batch(uint256 index,bytes32 root,uint256 records,uint256 epoch)
        for batch `index` (0, 1, 2, ...) with `records` leaves. Anyone may submit the signatures; the chain keeps
        no word per batch, only `head` = keccak256(head ‖ root) over every attested root in index order (from
        GENESIS, keccak256("gridchain access log genesis"): a non-zero start, so that the first batch pays a
        non-zero word's rewrite like every later one, not a fresh word's 20,000) and the count `batches`. A batch
        costs two storage words whatever its size.

        Signatures come concatenated in one `bytes` (Safe's form: no ABI offset, length and padding per
        signature, ~500 gas of calldata less each than a list), sorted by signer address ascending (strictly: a
        duplicate is impossible at the cost of one comparison), each 65 bytes r | s | v with v = 27/28 or 0/1,
        high s (EIP-2) refused. Recovery is snekmate's `ecdsa`, whose "ecdsa: invalid signature" is the one
        reason that is not ours.

        The node set belongs to the owner (`ownable`; a Safe in production): `set_nodes` replaces it whole and
        bumps `epoch`, which the signatures sign: a signature made before a rotation is void after it. A node is
        current iff node_mark[node] == epoch + 1 (written when its set was installed; 0 for everybody else).

        Anyone may `pin` the head after the current batch count; `head_after(count)` reads it (the head now for
        count == batches) and `includes` proves that a root was attested as batch `index` after a given head by
        hashing forward to a pinned head or the head now (data_access.vy calls it).

        Invariant: head is the hash chain of every attested root in index order, each attested by at least m
        distinct nodes of the epoch it was signed in (asserted in `attest`: the count before the loop,
        distinctness and membership in it, the index before the chain moves); batches only grows (by one, in
        `attest`); a pinned head never changes (written once, from zero, in `pin`).
@dev Its interface, for the contracts that call it (data_access.vy): `interfaces/IAccessLog.vyi`. Python twin:
     `gridchain.monitoring.model.log` (the same checks in the same order, packing-free state).
"""

from snekmate.auth import ownable
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712
from interfaces import IAccessLog

implements: IAccessLog

initializes: ownable
initializes: eip712
exports: (ownable.owner, ownable.transfer_ownership, eip712.eip712Domain)


MAX_NODES: constant(uint256) = 32
GENESIS: constant(bytes32) = keccak256("gridchain access log genesis")  # the head before any batch
MAX_LATER: constant(uint256) = 256
MAX_SIGNATURES_LENGTH: constant(uint256) = 65 * MAX_NODES
HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168  # secp256k1 n // 2 (EIP-2)
MASK8: constant(uint256) = 2**8 - 1
MASK64: constant(uint256) = 2**64 - 1
EPOCH_SHIFT: constant(uint256) = 16
BATCHES_SHIFT: constant(uint256) = 80
BATCH_TYPEHASH: constant(bytes32) = keccak256("Batch(uint256 index,bytes32 root,uint256 records,uint256 epoch)")


event Attested:
    index: indexed(uint256)
    root: bytes32
    records: uint256
    head: bytes32  # the new head
    epoch: uint256

event NodesSet:
    nodes: DynArray[address, MAX_NODES]
    m: uint256
    epoch: uint256

event Pinned:
    count: indexed(uint256)
    head: bytes32


# One word read once per attestation: m (bits 0-7) | node count (8-15) | epoch (16-79) | batches (80-255).
config: uint256
head: public(bytes32)
node_at: HashMap[uint256, address]  # 0 .. count-1: the current set, in the order given
node_mark: HashMap[address, uint256]  # epoch + 1 of the set the node was last installed in
pinned: public(HashMap[uint256, bytes32])  # batch count -> the head after that many batches; 0: not pinned


@deploy
def __init__(nodes: DynArray[address, MAX_NODES], m: uint256):
    """
    @dev The deployer becomes the owner; the log starts at epoch 0 with no batch and the head GENESIS.
    @param nodes The first consensus nodes, 1 .. 32 distinct non-zero addresses.
    @param m The threshold, 1 .. len(nodes).
    """
    ownable.__init__()
    eip712.__init__("gridchain access log", "1")
    self.config = self._install(nodes, m, 0)
    self.head = GENESIS


# ---- the owner ---------------------------------------------------------------------------------------


@external
def set_nodes(nodes: DynArray[address, MAX_NODES], m: uint256):
    """
    @dev Owner only: replace the whole node set and its threshold, and start a new epoch (old signatures void).
    @param nodes The new consensus nodes, 1 .. 32 distinct non-zero addresses (old ones may stay).
    @param m The threshold, 1 .. len(nodes).
    """
    assert msg.sender == ownable.owner, "access_log: caller is not the owner"
    c: uint256 = self.config
    epoch: uint256 = ((c >> EPOCH_SHIFT) & MASK64) + 1
    self.config = self._install(nodes, m, epoch) | ((c >> BATCHES_SHIFT) << BATCHES_SHIFT)


# ---- attesting ---------------------------------------------------------------------------------------


@external
def attest(index: uint256, root: bytes32, records: uint256, signatures: Bytes[MAX_SIGNATURES_LENGTH]):
    """
    @dev Anyone: append batch `index` (the next one) to the chain, signed by at least m distinct current nodes.
    @param index The batch number: batches() now.
    @param root The Merkle root of the batch's record leaves.
    @param records How many leaves the batch holds.
    @param signatures The nodes' EIP-712 Batch signatures under the current epoch, sorted by signer address
           ascending, concatenated: each 65 bytes r | s | v (v = 0, 1, 27 or 28), s in the low half.
    """
    c: uint256 = self.config
    assert index == c >> BATCHES_SHIFT, "access_log: index is not the next batch"
    epoch: uint256 = (c >> EPOCH_SHIFT) & MASK64
    count: uint256 = len(signatures) // 65
    assert count * 65 == len(signatures), "access_log: signatures are not 65 bytes each"
    assert count >= c & MASK8, "access_log: fewer signatures than the threshold"
    h: bytes32 = eip712._hash_typed_data_v4(keccak256(abi_encode(BATCH_TYPEHASH, index, root, records, epoch)))
    mark: uint256 = epoch + 1
    previous: uint256 = 0
    for i: uint256 in range(count, bound=MAX_NODES):
        # the signature at byte `at`, normalised at the entry: (r, s, v in {27, 28}), high s refused (inline: an
        # internal call would copy the whole `signatures` each time)
        at: uint256 = i * 65
        v: uint256 = convert(slice(signatures, at + 64, 1), uint256)
        if v < 2:
            v += 27
        assert v == 27 or v == 28, "access_log: signature v is not 0, 1, 27 or 28"
        s: uint256 = extract32(signatures, at + 32, output_type=uint256)
        assert s <= HALF_N, "access_log: signature s in the upper half (malleable, EIP-2)"
        signer: address = ecdsa._try_recover_vrs(h, v, extract32(signatures, at, output_type=uint256), s)
        # strictly ascending: each signature is a distinct signer, so `count` counts distinct nodes
        assert convert(signer, uint256) > previous, "access_log: signers not in ascending order"
        previous = convert(signer, uint256)
        assert self.node_mark[signer] == mark, "access_log: signer is not a current node"
    head: bytes32 = keccak256(concat(self.head, root))
    self.head = head
    self.config = c + (1 << BATCHES_SHIFT)  # batches = index + 1; checked: it only grows
    log Attested(index=index, root=root, records=records, head=head, epoch=epoch)


# ---- pinning and proofs ------------------------------------------------------------------------------


@external
def pin():
    """
    @dev Anyone: keep the head after the current batch count for `head_after` and `includes` (once per count).
    """
    count: uint256 = self.config >> BATCHES_SHIFT
    assert count != 0, "access_log: no batch to pin"
    assert self.pinned[count] == empty(bytes32), "access_log: already pinned"
    head: bytes32 = self.head
    self.pinned[count] = head  # written once: it was zero (checked above), and a head is never zero
    log Pinned(count=count, head=head)


@view
@external
def head_after(count: uint256) -> bytes32:
    """
    @dev The head after the first `count` batches, where the chain knows it.
    @param count A batch count.
    @return The head now if count == batches(), else the pinned head for count (zero when not pinned).
    """
    if count == self.config >> BATCHES_SHIFT:
        return self.head
    return self.pinned[count]


@view
@external
def includes(index: uint256, prev_head: bytes32, root: bytes32, later: DynArray[bytes32, MAX_LATER]) -> bool:
    """
    @dev Whether `root` was attested as batch `index` with `prev_head` the head before it: hashed forward through
         the roots of the batches after it to the head after end = index + 1 + len(later) batches, pinned or now.
    @param index The batch number.
    @param prev_head The head after `index` batches (the one `root` was chained onto).
    @param root The batch's root.
    @param later The roots of batches index + 1 .. end - 1, in order.
    @return True iff end <= batches() and the chain reaches head_after(end), which is not zero.
    """
    batches: uint256 = self.config >> BATCHES_SHIFT
    if index >= batches:
        return False
    h: bytes32 = keccak256(concat(prev_head, root))
    for r: bytes32 in later:
        h = keccak256(concat(h, r))
    end: uint256 = index + 1 + len(later)
    if end > batches or h == empty(bytes32):
        return False
    if end == batches:
        return h == self.head
    return h == self.pinned[end]


# ---- views -------------------------------------------------------------------------------------------


@view
@external
def batches() -> uint256:
    """
    @dev The number of attested batches (the next batch's index).
    @return The count.
    """
    return self.config >> BATCHES_SHIFT


@view
@external
def epoch() -> uint256:
    """
    @dev The current epoch: the number of node-set changes since deployment.
    @return The epoch the signatures must sign.
    """
    return (self.config >> EPOCH_SHIFT) & MASK64


@view
@external
def threshold() -> uint256:
    """
    @dev How many distinct current nodes' signatures a batch needs.
    @return m.
    """
    return self.config & MASK8


@view
@external
def nodes() -> DynArray[address, MAX_NODES]:
    """
    @dev The current node set.
    @return The nodes in the order `set_nodes` (or the constructor) gave them.
    """
    out: DynArray[address, MAX_NODES] = []
    for i: uint256 in range((self.config >> 8) & MASK8, bound=MAX_NODES):
        out.append(self.node_at[i])
    return out


@view
@external
def is_node(account: address) -> bool:
    """
    @dev Whether `account` is a node of the current epoch.
    @param account Any address.
    @return True for a current node.
    """
    return self.node_mark[account] == ((self.config >> EPOCH_SHIFT) & MASK64) + 1


@view
@external
def batch_hash(index: uint256, root: bytes32, records: uint256, epoch: uint256) -> bytes32:
    """
    @dev What a node signs: the EIP-712 digest of Batch(index, root, records, epoch) in this domain.
    @param index The batch number.
    @param root The batch's Merkle root.
    @param records How many leaves it holds.
    @param epoch The node set's epoch (`epoch()`).
    @return keccak256(0x1901 || domain separator || hashStruct).
    """
    return eip712._hash_typed_data_v4(keccak256(abi_encode(BATCH_TYPEHASH, index, root, records, epoch)))


# ---- internals ---------------------------------------------------------------------------------------


@internal
def _install(nodes: DynArray[address, MAX_NODES], m: uint256, epoch: uint256) -> uint256:
    # the node set of `epoch`: marks each node, refusing zero and repeats; returns the config's low 80 bits
    count: uint256 = len(nodes)
    assert m >= 1 and m <= count, "access_log: m out of range 1 .. node count"
    mark: uint256 = epoch + 1
    i: uint256 = 0
    for node: address in nodes:
        assert node != empty(address), "access_log: node is the zero address"
        assert self.node_mark[node] != mark, "access_log: node listed twice"
        self.node_mark[node] = mark
        self.node_at[i] = node
        i += 1
    log NodesSet(nodes=nodes, m=m, epoch=epoch)
    return m | (count << 8) | (epoch << EPOCH_SHIFT)

