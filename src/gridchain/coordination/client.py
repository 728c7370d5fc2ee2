"""The charging coordinator through any gateway: deploy, transact, and read its events as core values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gridchain.chain.client import ContractClient
from gridchain.chain.compiler import Artifact
from gridchain.chain.events import DEFAULT_MAX_RANGE, EventLog
from gridchain.chain.gateway import TX_GAS_CAP, Call, ChainRevert, Event, Gateway, Receipt
from gridchain.coordination.anonymous.client import AnonymousRequest, words
from gridchain.coordination.model.close_gas import close_gas
from gridchain.coordination.model.coordinator import PagedClose, unpack
from gridchain.crypto.blind import epoch_of

CONTRACT = "charging_coordinator"
HISTORY = ("RequestSubmitted", "RequestBatchSubmitted", "CapacityPosted", "SlotClosed", "RequestExpired")
"""The events every reader of the coordinator's history needs: read together, once, by one `EventLog`."""


class CloseFailed(ChainRevert):
    """A call of a close did not run (reverted, on chain or before, or the node refused it): `fn` and its place
    `index` in the close's calls, and, in `reason`, which call it was and its own reason. The slot is not closed
    by this close; a new begin_close of the same account starts its paged close over."""

    def __init__(self, fn: str, index: int, calls: int, error: ChainRevert) -> None:
        super().__init__(f"{fn} (call {index + 1} of {calls}) failed: {error.reason}")
        self.fn, self.index, self.error = fn, index, error


@dataclass(frozen=True)
class Submission:
    slot: int
    sender: str
    request: int  # packed, see core.coordinator
    tx_hash: str


@dataclass(frozen=True)
class Paging:
    """One account's paged close as the contract keeps it (`paging(account)`)."""

    slot: int
    n: int  # requests committed
    capacity_w: int  # the slot's capacity when it began
    sorted_done: int  # requests of the sorted list sent so far
    pending_done: int  # requests of the pending set sent so far


class CoordinatorClient(ContractClient):
    """The coordinator's transactions and views, and its history read incrementally: `from_block` (the
    deployment's block) on, `max_log_range` blocks per log request, `confirmations` blocks below the head."""

    CONTRACT = CONTRACT

    def __init__(
        self,
        gateway: Gateway,
        address: str,
        artifact: Artifact | None = None,
        from_block: int = 0,
        max_log_range: int = DEFAULT_MAX_RANGE,
        confirmations: int = 0,
    ) -> None:
        super().__init__(gateway, address, artifact)
        self._clock: tuple[int, int] | None = None
        self._beta1_pm: int | None = None
        self._history = (from_block, max_log_range, confirmations)
        self.reset_history()

    def reset_history(self) -> None:
        """Forget what was read (after a reorganisation below it): the next read starts from `from_block`."""
        from_block, max_range, confirmations = self._history
        self.log = EventLog(self.gateway, self.artifact, self.address, HISTORY, from_block, max_range, confirmations)
        self._submissions: dict[int, list[Submission]] = {}  # slot -> its submissions, in arrival order
        self._closed: dict[int, Event] = {}  # slot -> its SlotClosed event
        self._close_inputs: dict[str, tuple[int, list[int], list[int]] | None] = {}  # tx hash -> close_input

    @classmethod
    def deploy(
        cls, gateway: Gateway, owner: str, start_time: int, slot_length_s: int, beta1_pm: int, capacity_w: int
    ) -> tuple[CoordinatorClient, Receipt]:
        return cls._deploy(gateway, owner, [start_time, slot_length_s, beta1_pm, capacity_w])

    # -- transactions -----------------------------------------------------------------------------------
    def set_member(self, owner: str, member: str, allowed: bool = True) -> Receipt:
        return self._tx("set_member", [member, allowed], owner)

    def set_request_limit(self, owner: str, member: str, limit: int) -> Receipt:
        """How many requests `member` may submit per slot (1 .. 2**32; 1 until set)."""
        return self._tx("set_request_limit", [member, limit], owner)

    def post_capacity(self, sender: str, slot: int, capacity_w: int) -> Receipt:
        """From the owner (any capacity) or the capacity poster (up to its bound)."""
        return self._tx("post_capacity", [slot, capacity_w], sender)

    def set_capacity_poster(self, owner: str, poster: str, max_capacity_w: int) -> Receipt:
        """Delegate posting capacity up to `max_capacity_w` [W] to the hot key `poster` (the zero address and 0:
        revoke)."""
        return self._tx("set_capacity_poster", [poster, max_capacity_w], owner)

    def capacity_poster(self) -> tuple[str, int]:
        """(the capacity poster, the zero address if none; its bound [W])."""
        poster, bound = self.view("capacity_poster")
        return str(poster), int(bound)

    def submit_request(
        self, sender: str, demand_w: int, soc_pm: int, tcc: int, slot: int | None = None
    ) -> tuple[Submission, Receipt]:
        args = [demand_w, soc_pm, tcc] + ([] if slot is None else [slot])
        receipt = self._tx("submit_request", args, sender)
        event = receipt.named("RequestSubmitted")[0]
        return Submission(event.args["slot"], event.args["sender"], event.args["request"], receipt.tx_hash), receipt

    def submit_requests(
        self, requests: Sequence[tuple[str, int, int, int]]
    ) -> list[tuple[Submission, Receipt] | ChainRevert]:
        """Many members' submissions (sender, demand_w, soc_pm, tcc) sent at once (Gateway.transact_many), each
        its own transaction in the given order per sender: per request its submission, or why it failed."""
        calls = [Call(self.artifact, self.address, "submit_request", (d, s, t), sender) for sender, d, s, t in requests]
        out: list[tuple[Submission, Receipt] | ChainRevert] = []
        for result in self.gateway.transact_many(calls):
            if isinstance(result, ChainRevert):
                out.append(result)
                continue
            event = result.named("RequestSubmitted")[0]
            submission = Submission(event.args["slot"], event.args["sender"], event.args["request"], result.tx_hash)
            out.append((submission, result))
        return out

    def register_epoch_key(self, owner: str, epoch: int, modulus: bytes) -> Receipt:
        return self._tx("register_epoch_key", [epoch, words(modulus)], owner)

    def submit_request_anonymous(self, sender: str, request: AnonymousRequest) -> tuple[Submission, Receipt]:
        """Relay one request signed by its pseudonym (`sender` pays the gas; it may be the pseudonym itself)."""
        args = [request.slot, request.epoch, request.as_abi()]
        receipt = self._tx("submit_request_anonymous", args, sender)
        return _submissions_in(receipt.events, receipt.tx_hash)[0], receipt

    def submit_requests_anonymous(
        self, sender: str, requests: Sequence[AnonymousRequest]
    ) -> tuple[list[Submission], Receipt]:
        """Relay a batch of requests for one slot and epoch, under one epoch key, in one transaction."""
        if not requests or len({(r.slot, r.epoch) for r in requests}) != 1:
            raise ValueError("a batch needs one or more requests, all for the same slot and epoch")
        args = [requests[0].slot, requests[0].epoch, [r.as_abi() for r in requests]]
        receipt = self._tx("submit_requests_anonymous", args, sender)
        return _submissions_in(receipt.events, receipt.tx_hash), receipt

    def close_slot(self, sender: str, slot: int, requests: Sequence[int], positions: Sequence[int]) -> Receipt:
        """The close in one call, with the gas limit of the measured table (`close_gas`): run first as a call, so
        that a close that would revert (a slot already closed, a capacity posted since) raises ChainRevert here
        and costs nothing."""
        args = (slot, list(requests), list(positions))
        self.gateway.call(self.artifact, self.address, "close_slot", args)
        gas = min(TX_GAS_CAP, close_gas("close_slot", len(requests)))
        return self._sent([Call(self.artifact, self.address, "close_slot", args, sender, 0, gas)])[0]

    def close_in_pages(self, sender: str, slot: int, paged: PagedClose) -> list[Receipt]:
        """begin_close, the pages two to a call (`close_pages`: sorted page i beside pending page i), finish_close,
        sent at once (Gateway.transact_many: in nonce order, pipelined on a node) with the measured table's gas
        limits (`close_gas`), since estimating a page would need the begin_close before it mined; the last receipt
        closes. CloseFailed if any call did not run (a slot that does not close). The paged close is `sender`'s
        own: other keepers' cannot get in its way (one may close the slot first)."""
        calls = [self._close_call("begin_close", (slot, paged.n, paged.sorted_hash), 0, sender)]
        calls += [self._close_call("close_pages", (s, p), len(s) + len(p), sender) for s, p in paged.paired()]
        calls.append(self._close_call("finish_close", (), 0, sender))
        return self._sent(calls)

    def _close_call(self, fn: str, args: tuple, requests: int, sender: str) -> Call:
        return Call(self.artifact, self.address, fn, args, sender, 0, min(TX_GAS_CAP, close_gas(fn, requests)))

    def _sent(self, calls: Sequence[Call]) -> list[Receipt]:
        """The receipts of calls sent at once; CloseFailed naming the first that did not run."""
        results = self.gateway.transact_many(calls)
        for i, (call, result) in enumerate(zip(calls, results)):
            if isinstance(result, ChainRevert):
                raise CloseFailed(call.fn, i, len(calls), result)
        return results  # type: ignore[return-value]  # none is a ChainRevert

    # -- reads ------------------------------------------------------------------------------------------
    def slot_clock(self) -> tuple[int, int]:
        """(START_TIME, SLOT_LENGTH): slot s begins at START_TIME + s * SLOT_LENGTH [s]. Immutables: read once."""
        if self._clock is None:
            self._clock = (int(self.view("START_TIME")), int(self.view("SLOT_LENGTH")))
        return self._clock

    def epoch_of_slot(self, slot: int) -> int:
        """The epoch (UTC day) in which `slot` begins: its anonymous requests carry that day's tokens."""
        start, length = self.slot_clock()
        return epoch_of(start + slot * length)

    def posted_capacity(self, slot: int) -> int | None:
        """The capacity the owner posted for `slot` [W], or None if none was posted."""
        stored = int(self.view("posted_capacity", slot))
        return stored - 1 if stored else None

    @property
    def last_capacity_w(self) -> int:
        """The capacity the last close used: the next slot to close has it unless another is posted [W]."""
        return int(self.view("last_capacity_w"))

    def capacity_in_force(self, slot: int, max_walk: int = 64) -> int | None:
        """The capacity a close of open `slot` would use today: the one posted for it, else that of the slot
        before, down to the next slot to close, which has `last_capacity_w`. None if more than `max_walk` slots
        would have to be read (a keeper far behind)."""
        first = self.next_slot_to_close
        for s in range(slot, max(first, slot - max_walk) - 1, -1):
            posted = self.posted_capacity(s)
            if posted is not None:
                return posted
            if s == first:
                return self.last_capacity_w
        return None

    def epoch_key(self, epoch: int) -> bytes:
        """keccak256 of the modulus registered for `epoch`; 32 zero bytes if none."""
        return bytes(self.view("epoch_key", epoch))

    def spent(self, pseudonym: str) -> bool:
        return bool(self.view("spent", pseudonym))

    def is_member(self, account: str) -> bool:
        return bool(self.view("members", account))

    def request_limit(self, member: str) -> int:
        return int(self.view("request_limit", member))

    def member_requests(self, member: str, slot: int) -> int:
        """Requests `member` has submitted into `slot` (the slot of its last request; 0 for any other)."""
        return int(self.view("member_requests", member, slot))

    def paging(self, account: str) -> Paging | None:
        """`account`'s paged close, if it may still finish (it is of the next slot to close); else None."""
        slot, n, capacity, _, _, _, _, pending_done, _, _, walk = self.view("paging", account)
        if n == 0 or slot != self.next_slot_to_close:
            return None
        return Paging(slot, n, capacity, walk[7], pending_done)

    @property
    def beta1_pm(self) -> int:
        """The priority weight (an immutable: read once)."""
        if self._beta1_pm is None:
            self._beta1_pm = int(self.view("BETA1_PM"))
        return self._beta1_pm

    @property
    def next_slot_to_close(self) -> int:
        return int(self.view("next_slot_to_close"))

    def slot_end(self, slot: int) -> int:
        return int(self.view("slot_end", slot))

    def sync(self) -> list[Event]:
        """Read the blocks logged since the last read (raises ChainReorganized if what was read is gone)."""
        new = self.log.sync()
        for e in new:
            if e.name == "SlotClosed":
                self._closed[e.args["slot"]] = e
            for s in _submissions_in([e], e.tx_hash):
                self._submissions.setdefault(s.slot, []).append(s)
        return new

    def submissions(self, slot: int | None = None) -> list[Submission]:
        """Requests submitted (in one slot, or in all), in submission order."""
        self.sync()
        out = (
            [s for subs in self._submissions.values() for s in subs]
            if slot is None
            else self._submissions.get(slot, [])
        )
        return sorted(out, key=lambda s: unpack(s.request).arrival)

    def closes(self) -> list[Event]:
        self.sync()
        return self.log.named("SlotClosed")

    def closed(self, slot: int) -> Event | None:
        """The SlotClosed event of `slot`, or None if it is not closed (as far as the log has read)."""
        self.sync()
        return self._closed.get(slot)

    def expiries(self) -> list[Event]:
        """RequestExpired events: only a close in one call logs them, in its own transaction."""
        self.sync()
        return self.log.named("RequestExpired")

    def postings(self) -> list[Event]:
        """CapacityPosted events, oldest first (the last for a slot is the one that counts)."""
        self.sync()
        return self.log.named("CapacityPosted")

    def close_input(self, tx_hash: str) -> tuple[int, list[int], list[int]] | None:
        """The verified calldata of a close in one call (slot, requests in the rule's order, packed
        positions) when the transaction called `close_slot` on this coordinator itself; None otherwise (the
        last call of a paged close, or a close sent through another contract, whose own input may be
        anything: readers then recompute the close from its pending set). A mined transaction does not change:
        each is read once."""
        if tx_hash not in self._close_inputs:
            self._close_inputs[tx_hash] = self._read_close_input(tx_hash)
        return self._close_inputs[tx_hash]

    def _read_close_input(self, tx_hash: str) -> tuple[int, list[int], list[int]] | None:
        to = self.gateway.transaction_to(tx_hash)
        if to is None or to.lower() != self.address.lower():
            return None
        fn, args = self.gateway.transaction_input(self.artifact, tx_hash)
        if fn != "close_slot":
            return None
        return args["slot"], list(args["requests"]), list(args["positions"])


def _submissions_in(events: Sequence[Event], tx_hash: str) -> list[Submission]:
    """The requests a transaction's events record: one per RequestSubmitted, a list per RequestBatchSubmitted
    (whose sender is not recorded: the pseudonyms are in the calldata only)."""
    out = []
    for e in events:
        if e.name == "RequestSubmitted":
            out.append(Submission(e.args["slot"], e.args["sender"], e.args["request"], tx_hash))
        elif e.name == "RequestBatchSubmitted":
            out += [Submission(e.args["slot"], "", word, tx_hash) for word in e.args["requests"]]
    return out
