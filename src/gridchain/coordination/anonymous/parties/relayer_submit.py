"""The relayer's batch transactions, sent idempotently: signed with an explicit nonce, persisted, broadcast,
confirmed by receipt, and reconciled with the chain after any failure or restart.

Order of events for one batch: sign (the relayer has simulated it; its gas limit is the gateway's cached one for
the function and calldata length, an estimate only for the first, which refuses a batch that would revert), write
the raw transaction, its hash and nonce and mark its tickets `sending` in one store transaction, broadcast,
wait for the receipt, write the outcome. `send_many` does the same for several batches pipelined: each signed
and written in turn, then all broadcast in JSON-RPC batches, then their receipts awaited together. A relayer
killed at any point between leaves a `sent` submission that `reconcile` (at start and before every flush) resolves:
- mined: its tickets are submitted (arrivals from the batch's event) or, if it reverted, re-checked; the
  submission stays open until its block is `confirmations` deep, so a block the node later loses (a restart
  from a state file a second old, a reorg) puts its tickets back to `sending` and the same raw transaction is
  broadcast again;
- unknown to the node and its nonce unused (the node restarted, or dropped it): the same raw transaction is
  broadcast again, so the same hash: it can land once at most;
- its nonce used by another transaction: it can never land, so each ticket is re-checked.
Re-checking a ticket: a pseudonym spent on chain is on chain (its batch is found and the ticket submitted);
otherwise the ticket is queued again (its slot still open) or fails with the reason. A ticket is queued again
only once its old transaction can no longer land, so no pseudonym is ever in two live transactions.

The nonce is read from the chain (the pending count, and past every persisted unconfirmed submission) at the
first send and again after any send error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field, fields, replace

from gridchain.chain.gateway import ChainRevert, NotSent, Receipt, encode_call
from gridchain.coordination.anonymous.parties.relayer_store import RelayerStore, SubmissionRecord, Ticket
from gridchain.coordination.client import CoordinatorClient
from gridchain.net.logs import EventLog

FN = "submit_requests_anonymous"
log = logging.getLogger("gridchain.relayer")


log_line = EventLog("relayer", "stderr").entry()
"""One JSON line on stderr per relayer event (rebroadcasts, re-checks, flush errors): the shared format."""


@dataclass
class Submitter:
    """Sends the relayer's batches through a gateway that signs locally (`RpcGateway`), keeping `tickets`
    (the relayer's, by id) and the store in step."""

    client: CoordinatorClient
    account: str
    store: RelayerStore
    tickets: MutableMapping[str, Ticket]
    receipt_timeout_s: float = 60.0
    confirmations: int = 1  # blocks on top of a mined batch's, its own included, before it is final
    poll_s: float = 0.05
    hook: Callable[[str], None] | None = None  # tests: called at "persisted" and "broadcast" (to inject crashes)
    _nonce: int | None = field(default=None, init=False)
    unsettled: set[str] = field(default_factory=set, init=False)  # hashes of the submissions not final yet

    @property
    def gateway(self):
        return self.client.gateway

    def resync(self) -> int:
        """The next nonce: the chain's pending count, and past every submission still `sent`."""
        pending = self.gateway.nonce(self.account, "pending")
        highest = self.store.highest_open_nonce()
        self._nonce = max(pending, -1 if highest is None else highest + 1)
        return self._nonce

    def send(self, tickets: list[Ticket], args: list) -> None:
        """One batch as one transaction (see the module's docstring). ChainRevert if it would revert (nothing is
        written then); a transport error leaves it `sent`, for `reconcile`."""
        for _tickets, why in self.send_many([(tickets, args)]):
            raise why

    def send_many(self, batches: list[tuple[list[Ticket], list]]) -> list[tuple[list[Ticket], ChainRevert]]:
        """Several batches (tickets, arguments), each one transaction as `send` makes it, pipelined (see the
        module's docstring). Returns the batches whose signing refused them (nothing written), with why; a
        transport error or a broadcast the node refused leaves the written ones `sent`, for `reconcile`."""
        refused, written = [], []
        for tickets, args in batches:
            nonce = self.resync() if self._nonce is None else self._nonce
            data = encode_call(self.client.artifact, FN, args)
            try:
                raw, tx_hash = self.gateway.sign(self.account, self.client.address, data, nonce)
            except ChainRevert as e:
                refused.append((tickets, e))
                continue
            submission = SubmissionRecord(
                tx_hash, nonce, raw, tuple(t.id for t in tickets), self.gateway.block_number()
            )
            sending = [_with(t, status="sending", tx_hash=tx_hash) for t in tickets]
            self.store.record(submission, sending)
            self.unsettled.add(tx_hash)
            self._apply(sending)
            self._nonce = nonce + 1
            self._stage("persisted")
            written.append(submission)
        if not written:
            return refused
        try:
            sent = self.gateway.send_raw_many([s.raw for s in written])
        except Exception:
            self._nonce = None  # the node may have lost or refused them: ask the chain again
            raise
        if failed := next((h for h in sent if isinstance(h, NotSent)), None):
            self._nonce = None  # a refused broadcast is the node's answer, not a revert: its batch stays `sent`
            raise RuntimeError(f"the node refused a batch transaction: {failed.reason}")
        self._stage("broadcast")
        for submission, receipt in zip(written, self._wait_all([s.tx_hash for s in written])):
            if receipt is not None:  # else it stays `sent`: the next reconcile looks for it
                self._settle(submission, receipt)
        return refused

    def _wait_all(self, hashes: list[str]) -> list[Receipt | None]:
        """Their receipts, asked for together (one JSON-RPC batch a round) until all are mined or the timeout."""
        deadline, found = time.monotonic() + self.receipt_timeout_s, dict.fromkeys(hashes)
        while True:
            missing = [h for h, r in found.items() if r is None]
            for h, receipt in zip(missing, self.gateway.mined(self.client.artifact, missing)):
                found[h] = receipt
            if all(r is not None for r in found.values()) or time.monotonic() >= deadline:
                return [found[h] for h in hashes]
            time.sleep(self.poll_s)

    def reconcile(self) -> list[Ticket]:
        """Resolve every submission still `sent` (see the module's docstring); the tickets it settled."""
        out = []
        try:
            submissions = self.store.submissions("sent")
            self.unsettled = {s.tx_hash for s in submissions}
            for submission in submissions:
                out += self._reconcile(submission)
        except Exception:  # the node is away or restarted: the nonce is read from the chain again
            self._nonce = None
            raise
        return [t for t in out if t.status in ("submitted", "failed")]

    def _reconcile(self, submission: SubmissionRecord) -> list[Ticket]:
        receipt = self.gateway.receipt(self.client.artifact, submission.tx_hash)
        if receipt is not None:
            return self._settle(submission, receipt)
        self._unmined(submission)
        if self.gateway.known(submission.tx_hash):
            return []  # pending in the node's pool: the next reconcile looks again
        if self.gateway.nonce(self.account, "latest") > submission.nonce:
            receipt = self.gateway.receipt(self.client.artifact, submission.tx_hash)  # mined just now?
            if receipt is not None:
                return self._settle(submission, receipt)
            log_line({"event": "replaced", "tx_hash": submission.tx_hash, "nonce": submission.nonce})
            return self._recheck(submission, "replaced")
        self.gateway.send_raw(submission.raw)
        log_line({"event": "rebroadcast", "tx_hash": submission.tx_hash, "nonce": submission.nonce})
        return []

    def _settle(self, submission: SubmissionRecord, receipt: Receipt) -> list[Ticket]:
        """A mined submission: its tickets submitted with their arrivals, or (reverted) re-checked."""
        if receipt.status != 1:
            log_line({"event": "reverted", "tx_hash": submission.tx_hash, "gas_used": receipt.gas_used})
            return self._recheck(submission, "mined")
        words = [w for e in receipt.named("RequestBatchSubmitted") for w in e.args["requests"]]
        done = [
            _with(
                self.tickets[i],
                status="submitted",
                arrival=w >> 112,
                tx_hash=receipt.tx_hash,
                gas_used=receipt.gas_used,
            )
            for i, w in zip(submission.tickets, words, strict=True)
        ]
        final = self.gateway.block_number() - receipt.block + 1 >= self.confirmations
        known = {i: self.tickets[i].status == "submitted" for i in submission.tickets}  # found on an earlier pass
        self.store.settle(submission.tx_hash, "mined" if final else "sent", done)
        if final:
            self.unsettled.discard(submission.tx_hash)
        return [t for t in self._apply(done) if not known[t.id]]  # each ticket reported settled once

    def _unmined(self, submission: SubmissionRecord) -> None:
        """A batch reported mined whose block the chain no longer has: its tickets are `sending` again."""
        if any(self.tickets[i].status == "submitted" for i in submission.tickets):
            lost = [_with(self.tickets[i], status="sending", arrival=None) for i in submission.tickets]
            self.store.settle(submission.tx_hash, "sent", lost)
            self._apply(lost)
            log_line({"event": "block_lost", "tx_hash": submission.tx_hash, "nonce": submission.nonce})

    def _recheck(self, submission: SubmissionRecord, state: str) -> list[Ticket]:
        """Tickets whose transaction can no longer land: on chain already (found), queued again, or failed."""
        current = int(self.client.view("current_slot"))
        found = self._relayed_since(submission.from_block)
        out = []
        for i in submission.tickets:
            t = self.tickets[i]
            if self.client.spent(t.request.pseudonym):
                where = found.get(t.request.pseudonym)
                if where is None:
                    out.append(_with(t, status="failed", reason="its pseudonym was spent on chain by another sender"))
                else:
                    out.append(_with(t, status="submitted", tx_hash=where[0], arrival=where[1], reason=None))
            elif t.request.slot == current:
                out.append(_with(t, status="queued", tx_hash=None, reason=None))
            else:
                reason = f"slot {t.request.slot} passed before its transaction landed (current {current})"
                out.append(_with(t, status="failed", reason=reason))
        self.store.settle(submission.tx_hash, state, out)
        self.unsettled.discard(submission.tx_hash)
        log_line({"event": "rechecked", "tx_hash": submission.tx_hash, "statuses": [t.status for t in out]})
        return self._apply(out)

    def _relayed_since(self, block: int) -> dict[str, tuple[str, int]]:
        """pseudonym -> (tx hash, arrival) of every anonymous batch on chain since `block`."""
        out: dict[str, tuple[str, int]] = {}
        gateway, artifact = self.gateway, self.client.artifact
        for event in gateway.events(artifact, self.client.address, "RequestBatchSubmitted", block):
            if gateway.transaction_to(event.tx_hash) != self.client.address:
                continue
            fn, inputs = gateway.transaction_input(artifact, event.tx_hash)
            if fn != FN:
                continue
            for request, word in zip(inputs["requests"], event.args["requests"], strict=True):
                out[_checksum(request[0])] = (event.tx_hash, word >> 112)
        return out

    def _apply(self, tickets: list[Ticket]) -> list[Ticket]:
        """The relayer's own ticket objects take the values just written to the store; they are returned."""
        out = []
        for t in tickets:
            mine = self.tickets[t.id]
            for f in fields(Ticket):
                setattr(mine, f.name, getattr(t, f.name))
            out.append(mine)
        return out

    def _stage(self, stage: str) -> None:
        if self.hook is not None:
            self.hook(stage)


def _with(ticket: Ticket, **changes) -> Ticket:
    """A copy of `ticket` with `changes` (the store is written first, then the relayer's copy changed)."""
    return replace(ticket, **changes)


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)
