"""The access log's harness: contracts/access_log.vy deployed with its twin (gridchain.monitoring.model.log), every
call going to both through `Mirrored.mirror` (tests/support/mirrored.py); after each success `check` compares
everything observable (nodes, threshold, epoch, batches, head, every pinned head, head_after, owner, the events)
and the twin's invariant. Node keys are fixed (a pool of KEYS), so signatures are deterministic."""

from __future__ import annotations

from functools import cache

import boa
from eth_abi import encode
from eth_utils import keccak

from gridchain.crypto.keys import address_of
from gridchain.monitoring.log_client import sign_batch
from gridchain.monitoring.model.log import AccessLogError, AccessLogModel, Batch
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

CONTRACT = CONTRACTS / "access_log.vy"
EVENTS = ("Attested", "NodesSet", "Pinned")
POOL = 40  # keys: nodes and outsiders


@cache
def key(i: int) -> bytes:
    """The i-th key of the pool (fixed)."""
    return keccak(text=f"access log test key {i}")


@cache
def address(i: int) -> str:
    return address_of(key(i)).lower()


def root_of(i: int) -> bytes:
    """A batch root (any 32 bytes: the contract never opens it)."""
    return keccak(text=f"batch root {i}")


def deploy(nodes: list[str], m: int):
    """The log deployed from boa's default account (init code run directly, the contract taken `at` its address)."""
    d = load(CONTRACT)
    created, _ = boa.env.deploy_code(bytecode=d.compiler_data.bytecode + encode(["address[]", "uint256"], [nodes, m]))
    return d.at(created)


def refused(reason: str, call, *args, **kwargs) -> None:
    """`call` is refused by both sides with exactly `reason`."""
    with _refused(reason, AccessLogError):
        call(*args, **kwargs)


class Log(Mirrored):
    """A deployed access_log with its AccessLogModel twin; nodes are keys 0 .. n-1 of the pool."""

    ERROR = AccessLogError
    EVENTS = EVENTS

    def __init__(self, n: int = 3, m: int = 2):
        self.owner = str(boa.env.eoa)
        nodes = [address(i) for i in range(n)]
        self.c = deploy(nodes, m)
        self.address = str(self.c.address)
        self.chain_id = self.c.eip712Domain()[3]
        self.model = AccessLogModel(self.owner, nodes, m, self.chain_id, self.address)
        self.init_accounts()
        self.events: dict[str, list[dict]] = {}
        self.track(self.owner)
        self.stranger = self.new_account().address

    # -- calls (sender first, as the model's) -------------------------------------------------------------
    def set_nodes(self, sender, nodes: list[str], m: int) -> None:
        self.mirror(sender, lambda: self.model.set_nodes(str(sender), nodes, m), lambda: self.c.set_nodes(nodes, m))
        [event] = self.events["NodesSet"]
        assert [str(a).lower() for a in event["nodes"]] == self.model.nodes
        assert (event["m"], event["epoch"]) == (m, self.model.epoch)
        self.check()

    def transfer_ownership(self, sender, new_owner: str) -> None:
        self.mirror(
            sender,
            lambda: self.model.transfer_ownership(str(sender), new_owner),
            lambda: self.c.transfer_ownership(new_owner),
        )
        self.check()

    def attest(self, sender, index: int, root: bytes, records: int, signatures: list[bytes]) -> None:
        """Attest through both (the signatures concatenated, as the contract takes them); the Attested event must be
        the twin's."""
        packed = b"".join(signatures)
        event, _ = self.mirror(
            sender,
            lambda: self.model.attest(index, root, records, packed),
            lambda: self.c.attest(index, root, records, packed),
        )
        expected = {"index": index, "root": root, "records": records, "head": event.head, "epoch": event.epoch}
        assert self.events["Attested"] == [expected]
        self.check()

    def pin(self, sender) -> None:
        head, _ = self.mirror(sender, self.model.pin, self.c.pin)
        assert self.events["Pinned"] == [{"count": self.model.batches, "head": head}]
        self.check()

    def includes(self, index: int, prev_head: bytes, root: bytes, later: list[bytes]) -> bool:
        """The view on both sides; they must agree."""
        out = self.c.includes(index, prev_head, root, later)
        assert out == self.model.includes(index, prev_head, root, later)
        return out

    # -- signing -------------------------------------------------------------------------------------------
    def sign(self, i: int, index: int, root: bytes, records: int, epoch: int | None = None, domain=None) -> bytes:
        """Key i's signature (65 bytes, v = 27/28), under the current epoch and this log's domain unless told."""
        epoch = self.model.epoch if epoch is None else epoch
        return sign_batch(key(i), domain or self.model.domain(), Batch(index, root, records, epoch))

    def signed(self, indices, index: int, root: bytes, records: int, **kwargs) -> list[bytes]:
        """Signatures of the keys `indices`, sorted by signer address ascending (as `attest` takes them)."""
        ordered = sorted(indices, key=lambda i: int(address(i), 16))
        return [self.sign(i, index, root, records, **kwargs) for i in ordered]

    def node_keys(self) -> list[int]:
        """Pool indices of the current nodes."""
        return [i for i in range(POOL) if self.model.is_node(address(i))]

    def honest(self, root: bytes, records: int = 1000, extra: int = 0) -> None:
        """The next batch, signed by m + extra current nodes."""
        index = self.model.batches
        self.attest(
            self.stranger,
            index,
            root,
            records,
            self.signed(self.node_keys()[: self.model.m + extra], index, root, records),
        )

    # -- comparing -----------------------------------------------------------------------------------------
    def check(self) -> None:
        c, m = self.c, self.model
        assert [str(a).lower() for a in c.nodes()] == m.nodes
        assert (c.threshold(), c.epoch(), c.batches(), c.head()) == (m.m, m.epoch, m.batches, m.head)
        assert str(c.owner()).lower() == m.owner
        for count, head in m.pinned.items():
            assert c.pinned(count) == head == c.head_after(count)
        assert c.head_after(m.batches) == m.head
        assert c.pinned(m.batches + 1) == b"\x00" * 32 == c.head_after(m.batches + 1)
        m.check_invariant()
