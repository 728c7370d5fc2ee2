"""The keeper as a daemon: close every due slot, sleep until the next slot ends, survive a node's hiccups.

One JSON-able dict per action goes to `log` (a close: slot, requests, gas, transaction; an error and when it
tries again). A `stop` event ends it between two closes or during any wait, never inside a transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gridchain.chain.gateway import Receipt
from gridchain.coordination.parties.keeper import Keeper

MAX_BACKOFF_S = 60.0


def close_line(slot: int, requests: int, receipts: list[Receipt]) -> dict:
    """The log line of one close (a paged close: the gas of all its transactions, the last one's hash)."""
    return {
        "event": "closed",
        "slot": slot,
        "requests": requests,
        "gas": sum(r.gas_used for r in receipts),
        "tx": receipts[-1].tx_hash,
        "block": receipts[-1].block,
        "transactions": len(receipts),
    }


@dataclass
class KeeperLoop:
    keeper: Keeper
    log: Callable[[dict], None]
    poll_s: float = 5.0  # longest wait between two looks at the chain [s]
    margin_s: float = 1.0  # past a slot's end, for the block whose timestamp passes it [s]
    stop: threading.Event = field(default_factory=threading.Event)
    failures: int = 0  # consecutive failed rounds (the backoff doubles with each)

    def __post_init__(self) -> None:
        self.keeper.sleep = self.stop.wait  # a retry's backoff ends early on stop
        self.keeper.on_close = lambda slot, n, receipts: self.log(close_line(slot, n, receipts))

    def run(self) -> None:
        """Until `stop` is set: one round, then wait (until the next slot ends, or longer after a failure)."""
        while not self.stop.is_set():
            self.stop.wait(self.round())

    def round(self) -> float:
        """Close what is due; the seconds to wait before the next round."""
        try:
            self.close_due()
            wait = self.until_next()
        except Exception as e:  # noqa: BLE001 - a daemon outlives a node's hiccups: log, back off, try again
            self.failures += 1
            wait = min(MAX_BACKOFF_S, self.poll_s * 2 ** (self.failures - 1))
            self.log({"event": "error", "error": f"{type(e).__name__}: {e}"[:500], "retry_in_s": wait})
            return wait
        self.failures = 0
        return wait

    def close_due(self) -> None:
        """Close ended slots, oldest first, until none is due or `stop` is set."""
        client = self.keeper.client
        while not self.stop.is_set():
            slot = client.next_slot_to_close
            if self.keeper.close_next() is None and client.next_slot_to_close == slot:
                return  # not ended yet

    def until_next(self) -> float:
        """Seconds until the next slot to close ends on the chain's clock, plus the margin, at most poll_s."""
        client = self.keeper.client
        left = client.slot_end(client.next_slot_to_close) - client.gateway.now()
        return min(self.poll_s, max(0.0, left) + self.margin_s)
