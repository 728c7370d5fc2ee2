"""The keeper as a daemon: close every due slot, sleep until the next slot ends, survive a node's hiccups.

Its loop is a supervised `gridchain.net.loops.Loop` named "keeper": a failing round is logged and tried again
with exponential backoff, and no node outage ends it. One JSON-able dict per action goes to `log` (a close:
slot, requests, gas, transaction; a close of its own that a reorganisation dropped: the slot it closes again and
the dropped transaction; an error: the loop, its attempt and when it tries again; a recovery). A
`stop` event ends it between two closes or during any wait, never inside a transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gridchain.chain.gateway import Receipt
from gridchain.coordination.parties.keeper import Keeper
from gridchain.net.loops import MAX_BACKOFF_S, Loop

__all__ = ["MAX_BACKOFF_S", "KeeperLoop", "close_line"]


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
    poll_s: float = 5.0  # longest wait between two looks at the chain; the backoff's first wait [s]
    margin_s: float = 1.0  # past a slot's end, for the block whose timestamp passes it [s]
    loop: Loop = field(init=False)

    def __post_init__(self) -> None:
        self.loop = Loop("keeper", self.step, self.poll_s, log=lambda event, **f: self.log({"event": event, **f}))
        self.keeper.sleep = self.stop.wait  # a retry's backoff ends early on stop
        self.keeper.on_close = lambda slot, n, receipts: self.log(close_line(slot, n, receipts))
        self.keeper.on_dropped = lambda slot, tx: self.log({"event": "dropped", "slot": slot, "tx": tx})

    @property
    def stop(self) -> threading.Event:
        """Set it (a signal handler may) to end `run` between two closes or during a wait."""
        return self.loop.stopping

    def run(self) -> None:
        """Until `stop` is set: one round, then wait (until the next slot ends, or longer after a failure)."""
        self.loop.run()

    def round(self) -> float:
        """One round of the loop, its failure logged; the seconds to wait before the next round."""
        return self.loop.once()

    def step(self) -> float:
        """Close what is due; the seconds until the next slot to close ends (raises on a node's failure)."""
        self.close_due()
        return self.until_next()

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
