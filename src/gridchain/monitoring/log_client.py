"""The access log (contracts/access_log.vy) through any gateway, and consensus nodes' Batch signatures made with
local keys, put in the order the contract checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eth_utils import to_checksum_address

from gridchain.chain.client import ContractClient
from gridchain.chain.gateway import Event, Gateway, Receipt
from gridchain.crypto import eip712
from gridchain.crypto.keys import Key, normalize_signature, recover_digest, sign_digest
from gridchain.errors import InputError
from gridchain.monitoring.model.log import Batch, domain

CONTRACT = "access_log"
EVENTS = ("Attested", "NodesSet", "Pinned")


def sign_batch(key: Key, log_domain: eip712.Domain, batch: Batch) -> bytes:
    """A node's 65-byte signature (v = 27/28, low s) of `batch` in the access log's domain."""
    return sign_digest(key, eip712.digest(log_domain, batch))


def in_signer_order(h: bytes, signatures: Iterable[bytes]) -> list[bytes]:
    """`signatures` of the batch hash `h` as 65 bytes r | s | v (any standard wallet form in; InputError naming
    `signatures[i]` for a malformed or high-s one, or for two by one signer), sorted by signer ascending."""
    signed = []
    for i, raw in enumerate(signatures):
        signature = normalize_signature(raw, f"signatures[{i}]")
        signed.append((int(recover_digest(h, signature, f"signatures[{i}]"), 16), signature))
    signers = [signer for signer, _ in signed]
    if len(set(signers)) != len(signers):
        raise InputError("signatures", "two signatures by one signer")
    return [signature for _, signature in sorted(signed)]


class AccessLogClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(cls, gateway: Gateway, owner: str, nodes: Sequence[str], m: int) -> tuple[AccessLogClient, Receipt]:
        return cls._deploy(gateway, owner, [list(nodes), m])

    # -- the owner ---------------------------------------------------------------------------------------
    def set_nodes(self, owner: str, nodes: Sequence[str], m: int) -> Receipt:
        """Replace the node set and threshold (a new epoch: signatures made before it are void)."""
        return self._tx("set_nodes", [list(nodes), m], owner)

    def transfer_ownership(self, owner: str, new_owner: str) -> Receipt:
        return self._tx("transfer_ownership", [new_owner], owner)

    # -- attesting and pinning ---------------------------------------------------------------------------
    def batch(self, index: int, root: bytes, records: int) -> Batch:
        """Batch `index` under the node set's epoch now."""
        return Batch(index, root, records, self.epoch())

    def sign(self, key: Key, index: int, root: bytes, records: int) -> bytes:
        """A node's signature of batch `index` under the epoch now."""
        return sign_batch(key, self.domain(), self.batch(index, root, records))

    def attest(self, sender: str, index: int, root: bytes, records: int, signatures: Iterable[bytes]) -> Receipt:
        """Submit the nodes' signatures (any standard form, any order: put in the contract's order here)."""
        h = self.batch_hash(index, root, records, self.epoch())
        return self.attest_raw(sender, index, root, records, in_signer_order(h, signatures))

    def attest_raw(self, sender: str, index: int, root: bytes, records: int, signatures: Sequence[bytes]) -> Receipt:
        """Submit `signatures` as they are (already in signer order), concatenated as the contract takes them."""
        return self._tx("attest", [index, root, records, b"".join(signatures)], sender)

    def pin(self, sender: str) -> Receipt:
        """Keep the head after the current batch count (once per count)."""
        return self._tx("pin", [], sender)

    # -- reads -------------------------------------------------------------------------------------------
    def batches(self) -> int:
        return int(self.view("batches"))

    def head(self) -> bytes:
        return bytes(self.view("head"))

    def head_after(self, count: int) -> bytes:
        """The head after `count` batches: now's if count == batches(), else the pinned one (zero if none)."""
        return bytes(self.view("head_after", count))

    def pinned(self, count: int) -> bytes:
        return bytes(self.view("pinned", count))

    def includes(self, index: int, prev_head: bytes, root: bytes, later: Sequence[bytes] = ()) -> bool:
        """Whether `root` is batch `index`'s, chained onto `prev_head`, as the roots `later` lead to a known head."""
        return bool(self.view("includes", index, prev_head, root, list(later)))

    def epoch(self) -> int:
        return int(self.view("epoch"))

    def threshold(self) -> int:
        return int(self.view("threshold"))

    def nodes(self) -> list[str]:
        return [to_checksum_address(str(a)) for a in self.view("nodes")]

    def is_node(self, account: str) -> bool:
        return bool(self.view("is_node", account))

    def owner(self) -> str:
        return to_checksum_address(str(self.view("owner")))

    def batch_hash(self, index: int, root: bytes, records: int, epoch: int) -> bytes:
        return bytes(self.view("batch_hash", index, root, records, epoch))

    def domain(self) -> eip712.Domain:
        return domain(self.chain_id(), self.address)

    def events(self, name: str, from_block: int = 0, to_block: int | None = None) -> list[Event]:
        """Every `name` event (one of EVENTS) in blocks `from_block` .. `to_block` (default: latest), oldest first."""
        if name not in EVENTS:
            raise InputError("name", f"not an access log event: {name}")
        return self.gateway.events(self.artifact, self.address, name, from_block, to_block)
