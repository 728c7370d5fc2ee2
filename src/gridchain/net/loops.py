"""A daemon's supervised loop: `step()` every interval in a thread of its own (or in the foreground), and no
exception ends it. A failing step (the node away, a timeout) is logged as one JSON line and tried again after an
exponential backoff (the interval, doubled at each consecutive failure, capped at `max_backoff_s`); the first
success brings the normal interval back. `state()` is what /health and /metrics show of it.

`step()` may return how long to wait before the next step (the keeper sleeps until the next slot ends); None
means the interval. The clock and the wait are injectable, so tests replay the backoff without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gridchain.net.logs import log_event

MAX_BACKOFF_S = 30.0  # the longest wait between two tries of a failing step [s]
ERROR_CHARS = 500  # an error's message is cut there in logs and state

Log = Callable[..., object]
"""`log(event, **fields)`: an `EventLog`, or anything called the same way."""


def backoff_s(interval_s: float, attempt: int, max_backoff_s: float = MAX_BACKOFF_S) -> float:
    """The wait after the `attempt`-th consecutive failure (1, 2, ...): interval * 2^(attempt-1), capped."""
    return min(max_backoff_s, interval_s * 2 ** min(attempt - 1, 62))


class Loop:
    """`step()` every `interval_s` seconds until `stop()`; see the module's docstring. Errors are logged through
    `log("error", loop=name, error=..., attempt=n, retry_in_s=w)` and a return to health through
    `log("recovered", loop=name, after_errors=n)`."""

    def __init__(
        self,
        name: str,
        step: Callable[[], float | None],
        interval_s: float,
        *,
        max_backoff_s: float = MAX_BACKOFF_S,
        log: Log | None = None,
        clock: Callable[[], float] = time.time,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.name, self.step, self.interval_s, self.max_backoff_s = name, step, interval_s, max_backoff_s
        self.log: Log = log or (lambda event, **fields: log_event(event, service=name, **fields))
        self.clock = clock
        self.stopping = threading.Event()  # set by stop(); a step's own waits may end early on it
        self.wait = wait or self.stopping.wait  # wait(seconds) -> True once the loop must stop
        self.alive = False
        self.steps = self.errors = self.consecutive_errors = 0
        self.started: float | None = None  # unix time the loop began
        self.last_success: float | None = None  # unix time of the last step that completed
        self.last_error: str | None = None
        self.last_error_time: float | None = None
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Loop in this thread until `stop()` (or `wait` says so)."""
        self.alive, self.started = True, self.clock()
        try:
            while not self.stopping.is_set():
                if self.wait(self.once()):
                    return
        finally:
            self.alive = False

    def once(self) -> float:
        """One step, its failure caught, counted and logged; the seconds to wait before the next one."""
        try:
            asked = self.step()
        except Exception as e:  # noqa: BLE001 - a daemon's loop outlives its node's hiccups: count, log, retry
            return self._failed(e)
        self.steps, self.last_success = self.steps + 1, self.clock()
        if self.consecutive_errors:
            self.log("recovered", loop=self.name, after_errors=self.consecutive_errors)
            self.consecutive_errors = 0
        return self.interval_s if asked is None else max(0.0, asked)

    def _failed(self, e: Exception) -> float:
        self.errors, self.consecutive_errors = self.errors + 1, self.consecutive_errors + 1
        self.last_error, self.last_error_time = f"{type(e).__name__}: {e}"[:ERROR_CHARS], self.clock()
        pause = backoff_s(self.interval_s, self.consecutive_errors, self.max_backoff_s)
        attempt = self.consecutive_errors
        self.log("error", loop=self.name, error=self.last_error, attempt=attempt, retry_in_s=pause)
        return pause

    def failing_for(self) -> float:
        """Seconds since the loop last worked (its last success, else its start) if its last step failed; 0
        if it did not."""
        if not self.consecutive_errors:
            return 0.0
        since = self.last_success if self.last_success is not None else self.started
        return max(0.0, self.clock() - (since if since is not None else self.clock()))

    def state(self) -> dict:
        return {
            "alive": self.alive,
            "interval_s": self.interval_s,
            "steps": self.steps,
            "errors": self.errors,
            "consecutive_errors": self.consecutive_errors,
            "last_success": self.last_success,
            "last_error": self.last_error,
            "failing_for_s": round(self.failing_for(), 3),
        }

    def start(self) -> Loop:
        """Run the loop in a daemon thread named after it."""
        self.alive = True  # at once: a /health asked before the thread runs must not see it dead
        self._thread = threading.Thread(target=self.run, daemon=True, name=self.name)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 60.0) -> None:
        """Stop after the current step (a wait ends at once), and wait for that step if it runs in a thread."""
        self.stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
