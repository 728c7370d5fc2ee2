"""The indexer as a daemon: step until caught up, then poll; survive a node's or the database's hiccups.

One JSON-able dict per step that stored something, per reorganisation rolled back and per error goes to `log`,
each after the step's transaction committed. A `stop` event ends it between two steps or during a wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gridchain.index.indexer import ChainMoved, Indexer, StepResult

MAX_BACKOFF_S = 30.0


def step_line(result: StepResult) -> dict:
    return {
        "event": "indexed",
        "new_events": result.new_events,
        "by_contract": result.counts,
        "checkpoints": result.checkpoints,
        "head": result.head,
        "lag": result.lag,
    }


@dataclass
class IndexLoop:
    indexer: Indexer
    log: Callable[[dict], None]
    poll_s: float = 2.0  # wait between two looks at the chain once caught up [s]
    stop: threading.Event = field(default_factory=threading.Event)
    failures: int = 0  # consecutive failed steps (the backoff doubles with each)

    def run(self) -> None:
        """Until `stop` is set: one step, then wait (not at all while behind; longer after a failure)."""
        while not self.stop.is_set():
            wait = self.round()
            if wait:
                self.stop.wait(wait)

    def round(self) -> float:
        """One step and its log lines; the seconds to wait before the next."""
        try:
            result = self.indexer.step()
        except ChainMoved as e:
            self.log({"event": "moved", "reason": str(e)})
            return 0.0
        except Exception as e:  # noqa: BLE001 - a daemon outlives a node's hiccups: log, back off, try again
            self.failures += 1
            wait = min(MAX_BACKOFF_S, self.poll_s * 2 ** (self.failures - 1))
            self.log({"event": "error", "error": _reason(e), "retry_in_s": wait})
            return wait
        self.failures = 0
        if result.reorg is not None:
            r = result.reorg
            self.log({"event": "reorg", "from": r.from_block, "to": r.to_block, "events_dropped": r.events_dropped})
        elif result.counts:
            self.log(step_line(result))
        return self.poll_s if result.caught_up else 0.0


def _reason(error: Exception) -> str:
    from gridchain.chain.rpc_gateway import unreachable_reason

    return f"{type(error).__name__}: {unreachable_reason(error)}"[:300]
