"""The attestor as a durable job (`gridchain monitoring attest`): rounds over the store and the access log.

A round:
1. settles an intent left by a crash, from the chain: the log's `Attested` event for its index with its root ->
   it is published; another root there, or none and the log past its index -> it is dropped (its records are
   batched again); none and the log not past it -> it is sent again (signed anew), then published;
2. takes the records of `monitoring_records` whose (household, seq) no published batch holds, keeps those that
   continue their threads as the published batches leave them (`ConsensusNode.admissible`; the others are held
   back, each named with the reason), and makes them batch `log.batches()`;
3. writes the batch as the intent (index, root, records), has the first `threshold` consensus nodes sign it,
   submits exactly those signatures, and publishes the batch while removing the intent (one transaction).

So a batch is published only with the root the chain holds at its index, and no index is attested twice (the
contract refuses a stale index: "access_log: index is not the next batch", which is settled like a crash). One
attestor per store (the caller holds a lease). In a pilot the consensus nodes' keys are in one folder; in
production each node signs with its own key (`ConsensusNode`): only `sign` changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from gridchain.chain.gateway import ChainRevert
from gridchain.crypto.keys import Key
from gridchain.errors import InputError
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.model.records import RecordBatch
from gridchain.monitoring.parties import ConsensusNode
from gridchain.monitoring.store import AccessStore

NOT_NEXT = "index is not the next batch"  # access_log.vy's revert for a stale (or future) index


class LogBehind(RuntimeError):
    """The store holds batches (or an intent) past the log's count: not this log's store."""


class AnyNode(frozenset):
    """Every processing node (when the caller does not restrict them): the store's records are theirs."""

    def __contains__(self, _item: object) -> bool:
        return True


class AttestService:
    """Batches the store's new records, has `keys` (consensus nodes) sign, submits from `sender`, publishes."""

    def __init__(
        self,
        log: AccessLogClient,
        store: AccessStore,
        keys: Sequence[Key],
        sender: str,
        clock: Callable[[], int],
        processing_nodes: Iterable[str] | None = None,
        from_block: int = 0,
    ) -> None:
        """`processing_nodes`: the nodes whose records may be batched (None: any that wrote to the store)."""
        self.log = log
        self.store = store
        if not keys:
            raise InputError("node_keys", "no consensus node key")
        self.nodes = [ConsensusNode(k, [], clock) for k in keys]
        for node in self.nodes:
            if processing_nodes is None:
                node.processing_nodes = AnyNode()
            else:
                node.processing_nodes = {a.lower() for a in processing_nodes}
        self.sender = sender
        self.clock = clock
        self.from_block = from_block

    # -- a round ----------------------------------------------------------------------------------------------
    def round(self) -> dict:
        """One round; its summary (JSON-able): what was settled, the batch attested (if any), the held records."""
        now = self.clock()
        settled = self.settle()
        published = self.store.batches()
        self._follow(published)
        done = {(r.household.lower(), r.seq) for b in published for r in b.records}
        new = [r for rs in self.store.threads().values() for r in rs if (r.household.lower(), r.seq) not in done]
        ok, refused = self.nodes[0].admissible(new)
        held = [{"household": r.household, "seq": r.seq, "reason": reason} for r, reason in refused]
        out = {"event": "round", "at": now, "settled": settled, "batch": None, "records": 0, "held": held}
        if ok:
            count = self.log.batches()
            if published and published[-1].index >= count:
                raise LogBehind(f"the log holds {count} batches, the store has published batch {published[-1].index}")
            batch = RecordBatch(count, tuple(ok))
            self._signers()
            self.store.put_intent(batch, now)
            out |= self._send(batch)
        out["batches"] = len(self.store.batches())
        return out

    def _follow(self, published: Sequence[RecordBatch]) -> None:
        """Each node's threads as the published batches leave them."""
        for node in self.nodes:
            node.heads = {}
            for b in published:
                node.follow(b)

    # -- sending ----------------------------------------------------------------------------------------------
    def _signers(self) -> list[ConsensusNode]:
        """The first `threshold` nodes (InputError naming `node_keys` if fewer, or one is not the log's node)."""
        threshold = self.log.threshold()
        if len(self.nodes) < threshold:
            raise InputError("node_keys", f"{len(self.nodes)} consensus node keys, the log's threshold is {threshold}")
        for node in self.nodes[:threshold]:
            if not self.log.is_node(node.address):
                raise InputError("node_keys", f"{node.address} is not a current node of the access log")
        return self.nodes[:threshold]

    def _send(self, batch: RecordBatch) -> dict:
        """Sign and submit the intent `batch`, then publish it; a refusal for its index is settled."""
        signatures = [node.sign(self.log, batch) for node in self._signers()]
        try:
            receipt = self.log.attest(self.sender, batch.index, batch.root(), len(batch.records), signatures)
        except ChainRevert as e:
            if NOT_NEXT not in (e.reason or str(e)):
                raise
            return {"batch": None, "records": 0, "refused": self._settle(batch)}
        self.store.settle_intent(batch, attested=True)
        return {
            "batch": batch.index,
            "records": len(batch.records),
            "tx_hash": receipt.tx_hash,
            "gas": receipt.gas_used,
        }

    # -- settling an intent left by a crash -------------------------------------------------------------------
    def settle(self) -> str | None:
        """Settle the intent a crash left, if any: `published`, `dropped` or `sent again` (None: there was none)."""
        batch = self.store.intent()
        return None if batch is None else self._settle(batch)

    def _settle(self, batch: RecordBatch) -> str:
        roots = [bytes(e.args["root"]) for e in self.log.events("Attested", self.from_block)
                 if int(e.args["index"]) == batch.index]  # fmt: skip
        if batch.root() in roots:
            self.store.settle_intent(batch, attested=True)
            return "published"
        count = self.log.batches()
        if roots or count > batch.index:
            self.store.settle_intent(batch, attested=False)
            return "dropped"
        if count < batch.index:  # the store's batches run ahead of this log: another deployment's store?
            raise LogBehind(f"the log holds {count} batches, the store's intent is batch {batch.index}")
        self._follow(self.store.batches())
        sent = self._send(batch)
        return "sent again" if sent["batch"] is not None else sent["refused"]
