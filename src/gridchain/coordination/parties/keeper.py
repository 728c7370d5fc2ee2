"""The keeper: closes every ended slot, in order, with the order computed by `core` (replaces the paper's Aion).

Its only state is a cache of what the chain says: each step reads `next_slot_to_close` and builds the slot's
pending set from the chain (the requests carried out of the previous close, then the slot's submission
events). The carried set is computed once from the chain (from the verified calldata of the last close in one
call, or from slot 0) and then extended slot by slot from the SlotClosed events, whoever closed them, and the
coordinator client reads each log once. A crashed or restarted keeper, or several keepers at once, therefore
never close a slot twice (the contract refuses) and never skip one (slots close only in order). A paged close
is the keeper's own on chain: nobody can hold or reset it, and if another keeper closes the slot first, that
is fine. A reorganisation below what was read makes the keeper forget its cache and read the chain afresh; one
that dropped the keeper's own last close (the slot is due again) makes it take its nonce from the chain again
before it closes anew, since the gateway counted a nonce past the dropped transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gridchain.chain.events import ChainReorganized
from gridchain.chain.gateway import ChainRevert, NotSent, Receipt
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import (
    MAX_REQUESTS,
    close,
    close_calldata,
    paged_calldata,
)

RETRY_REASONS = ("capacity changed since begin_close",)
"""Refusals that a new attempt overcomes: the owner posted another capacity while the keeper paged."""


def carried_into(client: CoordinatorClient, slot: int) -> list[int]:
    """The packed requests carried into `slot`, recomputed from the closes recorded on chain: from the
    verified calldata of the last close in one call before `slot` (or from slot 0), then close by close.
    Calldata is read only from a transaction sent to the coordinator itself (`close_input`)."""
    if slot == 0:
        return []
    closes = {e.args["slot"]: e for e in client.closes()}
    missing = [s for s in range(slot) if s not in closes]
    if missing:
        raise LookupError(f"slot {missing[0]} is not closed")
    beta1_pm, start, carried = client.beta1_pm, 0, []
    for s in range(slot - 1, -1, -1):
        calldata = client.close_input(closes[s].tx_hash)
        if calldata is not None:
            # the close's result does not depend on the order its requests are listed in
            carried, start = list(close(s, calldata[1], closes[s].args["capacity_w"], beta1_pm).carried), s + 1
            break
    submitted: dict[int, list[int]] = {}
    for sub in client.submissions():
        submitted.setdefault(sub.slot, []).append(sub.request)
    for s in range(start, slot):
        carried = list(close(s, carried + submitted.get(s, []), closes[s].args["capacity_w"], beta1_pm).carried)
    return carried


def pending(client: CoordinatorClient, slot: int) -> list[int]:
    """What `close_slot(slot, ...)` must be given: carried requests first, then the slot's submissions."""
    return carried_into(client, slot) + [s.request for s in client.submissions(slot)]


@dataclass
class CarryOver:
    """The requests carried into one slot, kept between steps and extended slot by slot from the closes on
    chain (any keeper's: a close's result follows from its pending set and its logged capacity)."""

    client: CoordinatorClient
    slot: int | None = None  # `carried` is what was carried into this slot
    carried: list[int] = field(default_factory=list)
    rebuilds: int = 0  # times it was computed from the chain rather than extended (observability, tests)

    def into(self, slot: int) -> list[int]:
        """The packed requests carried into `slot` (every slot before it closed)."""
        if self.slot is None or self.slot > slot:
            self.slot, self.carried, self.rebuilds = slot, carried_into(self.client, slot), self.rebuilds + 1
        beta1_pm = self.client.beta1_pm
        for s in range(self.slot, slot):
            event = self.client.closed(s)
            if event is None:
                raise LookupError(f"slot {s} is not closed")
            pending_s = self.carried + [sub.request for sub in self.client.submissions(s)]
            self.carried, self.slot = list(close(s, pending_s, event.args["capacity_w"], beta1_pm).carried), s + 1
        return list(self.carried)

    def reset(self) -> None:
        self.slot, self.carried = None, []


Closed = Callable[[int, int, list[Receipt]], None]
"""Told of each close this keeper sent: (slot, requests in its pending set, the close's receipts)."""
Dropped = Callable[[int, str], None]
"""Told when the last close this keeper sent is no longer on the chain: (the slot about to close, its hash)."""


@dataclass
class Keeper:
    client: CoordinatorClient
    account: str
    retries: int = 3
    backoff_s: float = 0.5
    page: int = MAX_REQUESTS  # a slot with more pending requests than this closes in pages of this size
    sleep: Callable[[float], None] = time.sleep
    on_close: Closed | None = None
    on_dropped: Dropped | None = None
    carry: CarryOver = field(init=False)
    last_tx: str | None = field(default=None, init=False)  # the last transaction of this keeper's last close

    def __post_init__(self) -> None:
        self.carry = CarryOver(self.client)

    def pending(self, slot: int) -> list[int]:
        """`pending(client, slot)` from the kept carry-over and the client's log (nothing read twice)."""
        return self.carry.into(slot) + [s.request for s in self.client.submissions(slot)]

    def close_next(self) -> Receipt | None:
        """Close the next slot if it has ended; None if it has not (or another keeper closed it first)."""
        slot = self.client.next_slot_to_close
        if self.client.gateway.now() < self.client.slot_end(slot):
            return None
        return self._close(slot)

    def _close(self, slot: int) -> Receipt | None:
        for attempt in range(self.retries + 1):
            try:
                return self._send(slot)
            except ChainRevert as e:
                if self.client.next_slot_to_close > slot:
                    return None  # someone else closed it (before or between our pages): fine, nothing to redo
                refused = isinstance(e, NotSent) or isinstance(getattr(e, "error", None), NotSent)
                if not (refused or any(r in e.reason for r in RETRY_REASONS)) or attempt == self.retries:
                    raise  # deterministic: an ended slot's pending set cannot change, so a retry would fail too
                if not refused:
                    continue  # begin again at once, with the capacity now posted
                # the node refused a call (its pool full, a fee too low): after a pause, begin again
            except ChainReorganized:  # what was read is gone: forget it and read the chain again
                if attempt == self.retries:
                    raise
                self.client.reset_history()
                self.carry.reset()
            except (OSError, TimeoutError):  # transport trouble: retry from chain state
                if attempt == self.retries:
                    raise
            self.sleep(self.backoff_s * 2**attempt)
        return None

    def _send(self, slot: int) -> Receipt:
        self._resync_if_dropped(slot)
        requests = self.pending(slot)
        if len(requests) > self.page:
            paged = paged_calldata(requests, self.client.beta1_pm, self.page)
            receipts = self.client.close_in_pages(self.account, slot, paged)
        else:
            receipts = [self.client.close_slot(self.account, slot, *close_calldata(requests, self.client.beta1_pm))]
        self.last_tx = receipts[-1].tx_hash
        if self.on_close is not None:
            self.on_close(slot, len(requests), receipts)
        return receipts[-1]

    def _resync_if_dropped(self, slot: int) -> None:
        """If a reorganisation dropped this keeper's last close, have the gateway read the nonce from the chain
        again: the one it counted past the dropped transaction would leave this close in the pool for ever."""
        if self.last_tx is None or self.client.gateway.known(self.last_tx):
            return
        self.client.gateway.forget_nonce(self.account)
        if self.on_dropped is not None:
            self.on_dropped(slot, self.last_tx)
        self.last_tx = None

    def close_due(self) -> list[Receipt]:
        """Close every slot that has ended, oldest first (skipping those another keeper closes meanwhile)."""
        receipts = []
        while self.client.gateway.now() >= self.client.slot_end(slot := self.client.next_slot_to_close):
            receipt = self._close(slot)
            if receipt is not None:
                receipts.append(receipt)
        return receipts
