"""A per-key rate limit: at most `per_minute` events per key in any 60 s window (a sliding log of times).

In memory on purpose: a limit that starts afresh after a restart lets a member through a little early, never
past the quota, which the issuer's book keeps durably.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_S = 60.0
FORGET_AFTER_KEYS = 4096  # keys are members (checked before the limit): few; quiet ones are dropped past this


@dataclass
class RateLimit:
    """`allow(key)` is True and counts the event if `key` had fewer than `per_minute` in the last minute."""

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    _times: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            times = self._times.setdefault(key, deque())
            while times and times[0] <= now - WINDOW_S:
                times.popleft()
            if len(times) >= self.per_minute:
                return False
            times.append(now)
            if len(self._times) > FORGET_AFTER_KEYS:  # forget keys that went quiet
                self._forget(now)
            return True

    def _forget(self, now: float) -> None:
        for key in [k for k, ts in self._times.items() if not ts or ts[-1] <= now - WINDOW_S]:
            del self._times[key]
