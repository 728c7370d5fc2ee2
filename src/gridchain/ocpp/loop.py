"""An asyncio event loop in a thread of its own, so that the central system and the charge-point simulator are
driven from plain, blocking Python."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


class LoopThread:
    """An asyncio loop in a thread of its own; `run(coro, timeout_s)` runs a coroutine on it from any other thread
    and returns its result. `stop()` ends the loop (pending tasks are cancelled, the default executor, which the
    `ocpp` library validates schemas in, is shut down) and joins the thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def start(self) -> LoopThread:
        self._thread.start()
        self._ready.wait()
        return self

    def _main(self) -> None:
        asyncio.run(self._body())

    async def _body(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def run(self, coro: Coroutine[Any, Any, _T], timeout_s: float) -> _T:
        if self._loop is None or not self._thread.is_alive():
            coro.close()
            raise RuntimeError(f"{self.name}: the event loop is not running")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.ident is not None:
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise RuntimeError(f"{self.name}: the event loop thread did not end within {timeout_s} s")
