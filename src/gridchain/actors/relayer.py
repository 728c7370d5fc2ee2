"""The relayer: takes anonymous requests signed by unfunded pseudonyms and submits them in batches, paying the gas.

It checks every request exactly as the contract will (fields, the pseudonym's EIP-712 signature, the token under
the epoch key registered on chain, not spent, not queued twice) and refuses a bad one at once with a reason
naming the field, so one bad request never sinks a batch. Queued requests go on chain at `flush`, grouped by
(slot, epoch), up to `batch_size` per transaction, in an order shuffled within each batch (arrival order on
chain then says nothing about the order in which ESUs sent them).
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass, field

from eth_utils import to_checksum_address

from gridchain.chain.anonymous import AnonymousRequest, signer_of
from gridchain.chain.coordinator import CoordinatorClient
from gridchain.chain.gateway import ChainRevert
from gridchain.core import blind
from gridchain.core.coordinator import CoordinatorError, check_fields
from gridchain.core.request import InputError, check_int

BATCH_SIZE = 20


class RelayRefused(InputError):
    """A request the relayer will not submit (it would revert, or it is malformed)."""


@dataclass
class Ticket:
    id: int
    request: AnonymousRequest
    status: str = "queued"  # queued | submitted | failed
    arrival: int | None = None
    tx_hash: str | None = None
    gas_used: int | None = None  # of the whole transaction that carried it
    reason: str | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "status": self.status, "arrival": self.arrival, "tx_hash": self.tx_hash,
                "reason": self.reason, "slot": self.request.slot}  # fmt: skip


@dataclass
class Relayer:
    client: CoordinatorClient
    account: str  # pays the gas
    batch_size: int = BATCH_SIZE
    rng: random.Random = field(default_factory=random.Random)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _moduli: dict[int, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def modulus(self, epoch: int) -> bytes:
        """The epoch's key from its EpochKeyRegistered event (trusting the chain, not the utility)."""
        if epoch not in self._moduli:
            for event in self.client.gateway.events(self.client.artifact, self.client.address, "EpochKeyRegistered"):
                if event.args["epoch"] == epoch:
                    self._moduli[epoch] = b"".join(w.to_bytes(32, "big") for w in event.args["modulus"])
        if epoch not in self._moduli:
            raise RelayRefused("epoch", f"no key registered on chain for epoch {epoch}")
        return self._moduli[epoch]

    def accept(self, body: object) -> Ticket:
        """Check a request (the JSON an ESU sends) and queue it; raise RelayRefused naming the bad field."""
        request = parse_request(body)
        with self._lock:
            current = int(self.client.view("current_slot"))
            if request.slot != current:
                raise RelayRefused("slot", f"{request.slot} is not the current slot ({current})")
            try:
                check_fields(request.demand_w, request.soc_pm, request.tcc)
            except CoordinatorError as e:
                raise RelayRefused("request", str(e).removeprefix("coordinator: ")) from e
            chain_id = self.client.chain_id()
            if signer_of(chain_id, self.client.address, request) != request.pseudonym:
                raise RelayRefused("signature", f"not the pseudonym {request.pseudonym}'s signature of these fields")
            modulus = self.modulus(request.epoch)
            seed = blind.token_seed(chain_id, self.client.address, request.epoch, request.pseudonym)
            if not blind.verify(blind.PublicKey.from_bytes(modulus), blind.fdh(seed), int.from_bytes(request.token, "big")):
                raise RelayRefused("token", f"does not verify for {request.pseudonym} under the key of epoch {request.epoch}")
            queued = {t.request.pseudonym for t in self.tickets.values() if t.status != "failed"}
            if request.pseudonym in queued or self.client.spent(request.pseudonym):
                raise RelayRefused("pseudonym", f"{request.pseudonym} is already used")
            ticket = Ticket(next(self._ids), request)
            self.tickets[ticket.id] = ticket
            return ticket

    def flush(self) -> list[Ticket]:
        """Submit every queued request whose slot is still open; those whose slot has passed fail."""
        with self._lock:
            queued = [t for t in self.tickets.values() if t.status == "queued"]
            current = int(self.client.view("current_slot")) if queued else 0
            done = []
            groups: dict[tuple[int, int], list[Ticket]] = {}
            for t in queued:
                if t.request.slot != current:
                    t.status, t.reason = "failed", f"slot {t.request.slot} passed before the relayer submitted"
                    done.append(t)
                else:
                    groups.setdefault((t.request.slot, t.request.epoch), []).append(t)
            for (_, epoch), tickets in groups.items():
                self.rng.shuffle(tickets)
                for i in range(0, len(tickets), self.batch_size):
                    done += self._submit(tickets[i : i + self.batch_size])
            return done

    def _submit(self, tickets: list[Ticket]) -> list[Ticket]:
        try:
            subs, receipt = self.client.submit_requests_anonymous(self.account, [t.request for t in tickets])
        except ChainRevert as e:  # a race (another relayer spent a pseudonym): submit one by one instead
            if len(tickets) == 1:
                tickets[0].status, tickets[0].reason = "failed", str(e)
                return tickets
            return [x for t in tickets for x in self._submit([t])]
        for t, s in zip(tickets, subs):
            t.status, t.arrival, t.tx_hash, t.gas_used = "submitted", s.request >> 112, receipt.tx_hash, receipt.gas_used
        return tickets


def parse_request(body: object) -> AnonymousRequest:
    """An anonymous request from JSON (as `AnonymousRequest.to_json` writes it), each field checked by name."""
    if not isinstance(body, dict):
        raise RelayRefused("", "the request must be a JSON object")
    for name in ("pseudonym", "epoch", "slot", "demand_w", "soc_pm", "tcc", "token", "signature"):
        if name not in body:
            raise RelayRefused(name, "missing")
    try:
        pseudonym = to_checksum_address(body["pseudonym"])
    except (ValueError, TypeError) as e:
        raise RelayRefused("pseudonym", f"{body['pseudonym']!r} is not an address") from e
    ints = {name: check_int(name, body[name], 0, 2**256 - 1) for name in ("epoch", "slot", "demand_w", "soc_pm", "tcc")}
    token = _hex_bytes("token", body["token"], blind.MODULUS_BYTES)
    signature = _hex_bytes("signature", body["signature"], 65)
    return AnonymousRequest(pseudonym, ints["epoch"], ints["slot"], ints["demand_w"], ints["soc_pm"], ints["tcc"],
                            token, signature)  # fmt: skip


def _hex_bytes(name: str, value: object, length: int) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RelayRefused(name, f"must be a 0x-prefixed hex string of {length} bytes")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError as e:
        raise RelayRefused(name, "is not hex") from e
    if len(raw) != length:
        raise RelayRefused(name, f"must be {length} bytes, got {len(raw)}")
    return raw
