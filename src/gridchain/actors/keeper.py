"""The keeper: closes every ended slot, in order, with the order computed by `core` (replaces the paper's Aion).

It keeps no state of its own: each step reads `next_slot_to_close` and rebuilds the slot's pending set from
the chain (the requests carried out of the previous close, recomputed from that close's verified calldata,
then the slot's submission events). A crashed or restarted keeper, or several keepers at once, therefore
never close a slot twice (the contract refuses) and never skip one (slots close only in order).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gridchain.chain.coordinator import CoordinatorClient
from gridchain.chain.gateway import ChainRevert, Receipt
from gridchain.core.coordinator import (
    MAX_REQUESTS,
    close,
    close_calldata,
    paged_calldata,
)


def carried_into(client: CoordinatorClient, slot: int) -> list[int]:
    """The packed requests carried into `slot`, recomputed from the close of `slot - 1` as recorded on
    chain: from its verified calldata (a close in one call) or from its own pending set (a paged close)."""
    if slot == 0:
        return []
    closed = [e for e in client.closes() if e.args["slot"] == slot - 1]
    if not closed:
        raise LookupError(f"slot {slot - 1} is not closed")
    event = closed[0]
    calldata = client.close_input(event.tx_hash)
    requests = calldata[1] if calldata is not None else pending(client, slot - 1)
    # the close's result does not depend on the order its requests are listed in
    return list(close(slot - 1, requests, event.args["capacity_w"], client.beta1_pm).carried)


def pending(client: CoordinatorClient, slot: int) -> list[int]:
    """What `close_slot(slot, ...)` must be given: carried requests first, then the slot's submissions."""
    return carried_into(client, slot) + [s.request for s in client.submissions(slot)]


@dataclass
class Keeper:
    client: CoordinatorClient
    account: str
    retries: int = 3
    backoff_s: float = 0.5
    page: int = MAX_REQUESTS  # a slot with more pending requests than this closes in pages of this size
    sleep: Callable[[float], None] = time.sleep

    def close_next(self) -> Receipt | None:
        """Close the next slot if it has ended; None if it has not (or another keeper closed it first)."""
        slot = self.client.next_slot_to_close
        if self.client.gateway.now() < self.client.slot_end(slot):
            return None
        return self._close(slot)

    def _close(self, slot: int) -> Receipt | None:
        for attempt in range(self.retries + 1):
            try:
                requests = pending(self.client, slot)
                if len(requests) > self.page:
                    paged = paged_calldata(requests, self.client.beta1_pm, self.page)
                    return self.client.close_in_pages(self.account, slot, paged)[-1]
                return self.client.close_slot(self.account, slot, *close_calldata(requests, self.client.beta1_pm))
            except ChainRevert as e:
                if "slot already closed" in e.reason:
                    return None  # someone else closed it: fine, nothing to redo
                raise  # deterministic: an ended slot's pending set cannot change, so a retry would fail too
            except (OSError, TimeoutError):  # transport trouble: retry from chain state
                if attempt == self.retries:
                    raise
            self.sleep(self.backoff_s * 2**attempt)
        return None

    def close_due(self) -> list[Receipt]:
        """Close every slot that has ended, oldest first (skipping those another keeper closes meanwhile)."""
        receipts = []
        while self.client.gateway.now() >= self.client.slot_end(slot := self.client.next_slot_to_close):
            receipt = self._close(slot)
            if receipt is not None:
                receipts.append(receipt)
        return receipts
