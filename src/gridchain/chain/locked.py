"""A gateway shared between threads (the demo's main loop and the relayer's HTTP handlers): one call at a time."""

from __future__ import annotations

import threading
from typing import Any


class LockedGateway:
    """Wraps any Gateway; every method call holds one re-entrant lock (the embedded chain is not thread-safe)."""

    def __init__(self, gateway: Any) -> None:
        self._gateway = gateway
        self._lock = threading.RLock()
        self.kind = gateway.kind
        self.accounts = gateway.accounts

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._gateway, name)
        if not callable(attr):
            return attr

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return locked
