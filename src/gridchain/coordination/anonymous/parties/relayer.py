"""The relayer: takes anonymous requests signed by unfunded pseudonyms and submits them in batches, paying the gas.

It checks every request exactly as the contract will (slot, the slot's epoch, fields, the pseudonym's EIP-712
signature, the token under the epoch key registered on chain, not spent, not queued twice) and refuses a bad one
at once with a reason naming the field. A signature may come in any standard form (v = 0/1 or 27/28, EIP-2098
64 bytes); it is normalised there, and a malformed one is refused there.

Queued requests go on chain at `flush`, grouped by (slot, epoch), up to `batch_size` per transaction, in an
order shuffled within each batch (arrival order on chain then says nothing about the order in which ESUs sent
them). A request valid when queued can turn invalid before the flush (its pseudonym front-runs it on chain), and
a batch is all-or-nothing: so every batch is simulated first (an eth_call, no gas) and the requests that would
revert fail with the contract's reason while the rest still go as one batch. Only a race inside one block (the
pseudonym's own transaction ordered just before the batch) can still make the relayer pay for a revert, and it
costs the attacker a token each time. No ticket and no error stops a flush: a ticket that cannot be sent fails
alone, and a batch the node cannot take (unreachable, say) stays queued for the next flush.

Aligned to slot ends (`flush_margin_s`, the service): a slot's requests are accepted until `flush_margin_s`
before it ends and flushed then (`flush_due`), or earlier when a batch is full, so a request accepted for slot s
is submitted in slot s; one for a slot that is over, or too near its end to be submitted in it, is refused at
once naming `slot`, so its ESU knows to sign again for the next slot. The margin must cover the node's block
time and the submission's latency.

Durable (with a `RelayerStore`): a ticket is stored before `accept` returns, and every change of its status is
stored; on a node that signs locally (JSON-RPC) each batch goes through a `Submitter` (`relayer_submit.py`:
signed with an explicit nonce, stored, broadcast, confirmed by receipt, reconciled after a crash). A restarted
relayer calls `restore` and then `reconcile`. Without a store (the embedded chain's demos) it keeps its tickets
in memory and sends each batch at once.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from eth_utils import keccak

from gridchain.chain.gateway import ChainRevert, encode_call
from gridchain.checks import check_int, parse_address, parse_hex_bytes
from gridchain.coordination.anonymous.client import AnonymousRequest, signer_of
from gridchain.coordination.anonymous.parties.relayer_store import RelayerStore, Ticket
from gridchain.coordination.anonymous.parties.relayer_submit import Submitter
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import CoordinatorError, check_fields
from gridchain.crypto import blind
from gridchain.crypto.keys import parse_signature
from gridchain.errors import InputError, Refused

BATCH_SIZE = 20
NO_KEY = b"\x00" * 32
log = logging.getLogger("gridchain.relayer")


class RelayRefused(Refused, InputError):
    """A request the relayer will not submit (it would revert, or it is malformed); `field` names what failed."""

    def __init__(self, field: str, reason: str) -> None:
        InputError.__init__(self, field, reason)


@dataclass
class Relayer:
    client: CoordinatorClient
    account: str  # pays the gas
    batch_size: int = BATCH_SIZE
    rng: random.Random = field(default_factory=random.Random)
    tickets: dict[str, Ticket] = field(default_factory=dict)
    flush_margin_s: int | None = None  # aligned: accept until this long before the slot ends, then flush
    store: RelayerStore | None = None  # durable: tickets written before they are acknowledged (None: memory only)
    receipt_timeout_s: float = 60.0  # how long a flush waits for a batch's receipt (then reconcile finds it)
    confirmations: int = 1  # a mined batch is re-checked until its block is this deep (1: final when mined)
    submitter: Submitter | None = field(default=None, init=False)  # a store and a signing node: idempotent sends
    last_errors: list[str] = field(default_factory=list, init=False)  # the batches the last flush could not send
    _moduli: dict[int, bytes] = field(default_factory=dict)  # epoch -> modulus: registered keys never change
    _scanned_block: int = 0  # EpochKeyRegistered logs before this block are in _moduli
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.store is not None and self.client.gateway.kind == "rpc":
            self.submitter = Submitter(
                self.client,
                self.account,
                self.store,
                self.tickets,
                receipt_timeout_s=self.receipt_timeout_s,
                confirmations=self.confirmations,
            )

    def restore(self) -> int:
        """Load every ticket from the store (at start); how many. Then `reconcile`."""
        if self.store is None:
            return 0
        with self._lock:
            self.tickets.clear()
            self.tickets.update((t.id, t) for t in self.store.tickets())
            return len(self.tickets)

    def reconcile(self) -> list[Ticket]:
        """Resolve the batch transactions a previous run (or flush) left unconfirmed; the tickets settled."""
        if self.submitter is None:
            return []
        with self._lock:
            return self.submitter.reconcile()

    def _save(self, tickets: Iterable[Ticket]) -> None:
        if self.store is not None:
            self.store.save(tickets)

    def queue(self) -> tuple[int, int | None]:
        """(requests queued or being sent, the unix time [ms] the oldest of them was accepted)."""
        snapshot = list(self.tickets.values())  # no lock: /health must answer while a flush waits for a receipt
        waiting = [t.accepted_ms for t in snapshot if t.status in ("queued", "sending")]
        return len(waiting), min(waiting, default=None)

    def modulus(self, epoch: int) -> bytes:
        """The epoch's key from its EpochKeyRegistered event (trusting the chain, not the utility). One view call
        tells whether a key is registered; the log is read only for a registered key not seen yet, and only
        from the block where the last read ended, so no request can make the relayer rescan the log."""
        if epoch not in self._moduli:
            registered = self.client.epoch_key(epoch)
            if registered == NO_KEY:
                raise RelayRefused("epoch", f"no key registered on chain for epoch {epoch}")
            events = self.client.gateway.events(
                self.client.artifact, self.client.address, "EpochKeyRegistered", self._scanned_block
            )
            for event in events:
                modulus = b"".join(w.to_bytes(32, "big") for w in event.args["modulus"])
                self._moduli[event.args["epoch"]] = modulus
                self._scanned_block = max(self._scanned_block, event.block)
            if keccak(self._moduli.get(epoch, b"")) != registered:
                raise RelayRefused("epoch", f"the key of epoch {epoch} is registered, but no log shows it")
        return self._moduli[epoch]

    def accept(self, body: object) -> Ticket:
        """Check a request (the JSON an ESU sends) and queue it; raise RelayRefused naming the bad field."""
        request = parse_request(body)
        with self._lock:
            self._check_slot(request.slot)
            slot_epoch = self.client.epoch_of_slot(request.slot)
            if request.epoch != slot_epoch:  # the contract's rule: a token is good in its own day's slots only
                raise RelayRefused("epoch", f"{request.epoch} is not the epoch of slot {request.slot} ({slot_epoch})")
            try:
                check_fields(request.demand_w, request.soc_pm, request.tcc)
            except CoordinatorError as e:
                raise RelayRefused("request", str(e).removeprefix("coordinator: ")) from e
            chain_id = self.client.chain_id()
            if signer_of(chain_id, self.client.address, request) != request.pseudonym:
                raise RelayRefused("signature", f"not the pseudonym {request.pseudonym}'s signature of these fields")
            modulus = self.modulus(request.epoch)
            seed = blind.token_seed(chain_id, self.client.address, request.epoch, request.pseudonym)
            if not blind.verify(
                blind.PublicKey.from_bytes(modulus), blind.fdh(seed), int.from_bytes(request.token, "big")
            ):
                raise RelayRefused(
                    "token", f"does not verify for {request.pseudonym} under the key of epoch {request.epoch}"
                )
            queued = {t.request.pseudonym for t in self.tickets.values() if t.status != "failed"}
            if request.pseudonym in queued or self.client.spent(request.pseudonym):
                raise RelayRefused("pseudonym", f"{request.pseudonym} is already used")
            ticket = Ticket(secrets.token_urlsafe(16), request)
            if self.store is not None:  # durable before it is acknowledged
                self.store.add(ticket)
            self.tickets[ticket.id] = ticket
            return ticket

    def _check_slot(self, slot: int) -> None:
        """Refuse (naming `slot`) a request that cannot go on chain in its slot: the slot is over, has not
        begun, or (aligned) ends before the relayer's last flush for it."""
        current = int(self.client.view("current_slot"))
        stale = [t for t in self.tickets.values() if t.status == "queued" and t.request.slot < current]
        for t in stale:  # queued for a slot that is over: they fail (and free their pseudonym)
            t.fail(f"slot {t.request.slot} passed before the relayer submitted (current {current})")
        self._save(stale)
        if slot < current:
            raise RelayRefused("slot", f"slot {slot} is over (current {current})")
        if slot != current:
            raise RelayRefused("slot", f"{slot} is not the current slot ({current})")
        if self.flush_margin_s is not None:
            left = self.client.slot_end(slot) - self.client.gateway.now()
            if left <= self.flush_margin_s:
                raise RelayRefused(
                    "slot",
                    f"slot {slot} ends in {max(left, 0)} s, too late to submit in it (the last flush is "
                    f"{self.flush_margin_s} s before its end): sign again for slot {slot + 1}",
                )

    def flush_due(self) -> bool:
        """Whether to flush now: something is queued and either a batch is full or (aligned) the oldest queued
        slot's last flush is due; without alignment, whenever something is queued."""
        with self._lock:
            queued = [t.request.slot for t in self.tickets.values() if t.status == "queued"]
            if any(t.status == "sending" for t in self.tickets.values()):
                return True  # a batch to confirm (or to send again)
            if self.submitter is not None and self.submitter.unsettled:
                return True  # a mined batch not deep enough yet: its block could still be lost
        if not queued:
            return False
        if self.flush_margin_s is None or len(queued) >= self.batch_size:
            return True
        return self.client.gateway.now() >= self.client.slot_end(min(queued)) - self.flush_margin_s

    def flush(self) -> list[Ticket]:
        """Submit every queued request whose slot is still open; those whose slot has passed fail. Returns the
        tickets settled now (submitted or failed); a batch the node could not take stays queued (and its error
        in `last_errors`)."""
        with self._lock:
            self.last_errors = []
            settled = self.submitter.reconcile() if self.submitter is not None else []
            queued = [t for t in self.tickets.values() if t.status == "queued"]
            if not queued:
                return settled
            current = int(self.client.view("current_slot"))
            groups: dict[tuple[int, int], list[Ticket]] = {}
            for t in queued:
                if t.request.slot != current:
                    t.fail(f"slot {t.request.slot} passed before the relayer submitted (current {current})")
                else:
                    groups.setdefault((t.request.slot, t.request.epoch), []).append(t)
            self._save(t for t in queued if t.status == "failed")
            ready: list[list[Ticket]] = []  # simulated batches, sent together through the submitter
            for tickets in groups.values():
                self.rng.shuffle(tickets)
                for i in range(0, len(tickets), self.batch_size):
                    batch = tickets[i : i + self.batch_size]
                    try:
                        if self.submitter is None:
                            self._submit(batch)
                        else:
                            ready += self._prepare(batch)
                    except Exception as e:  # the node, not a ticket (those fail alone): kept for the next flush
                        log.warning("relayer: a batch of %d stays queued: %s", len(batch), e)
                        self.last_errors.append(f"{type(e).__name__}: {e}")
            if ready:
                try:
                    for tickets, _why in self.submitter.send_many([(b, self._args(b)) for b in ready]):
                        self._submit(tickets, retry=False)  # the chain changed since its simulation: once more
                except Exception as e:  # the node: written batches are reconciled, the others stay queued
                    log.warning("relayer: %d batches not all sent: %s", len(ready), e)
                    self.last_errors.append(f"{type(e).__name__}: {e}")
            return settled + [t for t in queued if t.status in ("submitted", "failed")]

    def _prepare(self, tickets: list[Ticket]) -> list[list[Ticket]]:
        """The transactions to send for one batch: its tickets that encode and whose simulation passes, together,
        or one by one if each passes alone but not together."""
        tickets = [t for t in tickets if self._encodes(t)]
        if not tickets:
            return []
        try:
            self._simulate(tickets)
        except ChainRevert:  # some ticket turned invalid since it was queued (e.g. its pseudonym was spent)
            tickets = [t for t in tickets if self._passes_alone(t)]
            if len(tickets) > 1:
                try:
                    self._simulate(tickets)
                except ChainRevert:  # each passes alone but not together: send them one by one
                    return [[t] for t in tickets]
        return [tickets] if tickets else []

    def _submit(self, tickets: list[Ticket], retry: bool = True) -> None:
        """Send one batch: only its tickets that encode and whose simulation passes, as one transaction."""
        for batch in self._prepare(tickets):
            try:
                self._send(batch)
            except ChainRevert as e:  # the chain changed between the simulation and the block: simulate again, once
                if retry:
                    self._submit(batch, retry=False)
                    continue
                for t in batch:
                    t.fail(f"reverted on chain after its simulation passed: {e.reason}")
                self._save(batch)

    def _send(self, tickets: list[Ticket]) -> None:
        """One batch on chain: through the submitter (signed, persisted, broadcast, confirmed) when there is
        one, else at once through the gateway (the embedded chain), its outcome saved after."""
        if self.submitter is not None:
            self.submitter.send(tickets, self._args(tickets))
            return
        subs, receipt = self.client.submit_requests_anonymous(self.account, [t.request for t in tickets])
        for t, s in zip(tickets, subs, strict=True):
            t.status, t.arrival, t.tx_hash, t.gas_used = (
                "submitted",
                s.request >> 112,
                receipt.tx_hash,
                receipt.gas_used,
            )
        self._save(tickets)

    def _args(self, tickets: list[Ticket]) -> list:
        request = tickets[0].request
        return [request.slot, request.epoch, [t.request.as_abi() for t in tickets]]

    def _encodes(self, ticket: Ticket) -> bool:
        """Whether the ticket makes calldata at all (it always does once `accept` checked it); fail it if not."""
        try:
            encode_call(self.client.artifact, "submit_requests_anonymous", self._args([ticket]))
        except Exception as e:  # noqa: BLE001 - whatever it is, it is this ticket's alone
            ticket.fail(f"cannot be encoded: {e}")
            self._save([ticket])
            return False
        return True

    def _simulate(self, tickets: list[Ticket]) -> None:
        """Run the batch as a call against the latest state (no transaction, no gas); ChainRevert if it would revert."""
        self.client.gateway.call(
            self.client.artifact, self.client.address, "submit_requests_anonymous", self._args(tickets)
        )

    def _passes_alone(self, ticket: Ticket) -> bool:
        try:
            self._simulate([ticket])
        except ChainRevert as e:
            ticket.fail(e.reason)
            self._save([ticket])
            return False
        return True


def parse_request(body: object) -> AnonymousRequest:
    """An anonymous request from JSON (as `AnonymousRequest.to_json` writes it), each field checked by name; the
    signature normalised to 65 bytes with v = 27/28."""
    if not isinstance(body, dict):
        raise RelayRefused("", "the request must be a JSON object")
    for name in ("pseudonym", "epoch", "slot", "demand_w", "soc_pm", "tcc", "token", "signature"):
        if name not in body:
            raise RelayRefused(name, "missing")
    ints = {name: check_int(name, body[name], 0, 2**256 - 1) for name in ("epoch", "slot", "demand_w", "soc_pm", "tcc")}
    try:
        pseudonym = parse_address("pseudonym", body["pseudonym"])
        token = parse_hex_bytes("token", body["token"], blind.MODULUS_BYTES)
        signature = parse_signature(body["signature"], "signature")
    except InputError as e:
        raise RelayRefused(e.field, e.reason) from None
    return AnonymousRequest(
        pseudonym, ints["epoch"], ints["slot"], ints["demand_w"], ints["soc_pm"], ints["tcc"], token, signature
    )
