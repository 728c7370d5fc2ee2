"""What the pages that show one contract's history share: the contract's events from the index, folded under a
lock, read again from the index's checkpoint on every request (and from the start after a reorganisation), and a
note instead of a page when nothing is deployed or indexed yet."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from gridchain.chain.events import ChainReorganized
from gridchain.chain.gateway import Event
from gridchain.dashboard.deployment import Deployment
from gridchain.index.reader import IndexedLog


class IndexedContractView:
    """One deployed contract's events from the index. Subclasses name it (`NAME`: its key in the deployment
    record and the index, `LABEL`: how notes call it, `EVENTS`: what to read), make its client (`client_for`),
    start their fold afresh (`reset`) and fold new events (`fold`)."""

    NAME = ""
    LABEL = ""
    EVENTS: tuple[str, ...] = ()

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._lock = threading.Lock()
        self._client = None
        self._log: IndexedLog | None = None
        self.now = 0

    def client_for(self, gateway, address: str):
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the fold (a new address, or the index rolled a reorganisation back)."""
        raise NotImplementedError

    def fold(self, new: Sequence[Event]) -> None:
        raise NotImplementedError

    def read(self, build):
        """`build(self)` on the newest index read, under the lock; or a dict with a note if nothing to read."""
        with self._lock:
            d = self.deployment
            address = d.address(self.NAME)
            if address is None:
                return {"note": f"no {self.LABEL} deployed (gridchain deploy {self.NAME})"}
            checkpoint = d.checkpoint(self.NAME)
            if checkpoint is None or checkpoint.address != address:
                return {"note": f"the index holds no events of the {self.LABEL} {address} yet: run gridchain index run"}
            self._refresh(address)
            self.now = d.gateway.now()
            return build(self)

    @property
    def checkpoint(self) -> int:
        return self._log.checkpoint

    def _refresh(self, address: str) -> None:
        if self._client is None or self._client.address != address:
            self._attach(address)
        try:
            new = self._log.sync()
        except ChainReorganized:  # the index rolled a reorganisation back: read it afresh
            self._attach(address)
            new = self._log.sync()
        self.fold(new)

    def _attach(self, address: str) -> None:
        d = self.deployment
        self._client = self.client_for(d.gateway, address)
        self._log = IndexedLog(d.reader, self.NAME, self._client.artifact, self.EVENTS, d.gateway)
        self.reset()
