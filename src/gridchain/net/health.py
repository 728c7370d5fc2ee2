"""An honest /health: the service's checks (its node answers within a short timeout, each of its loops is alive
and has not been failing for longer than a few intervals), all run at each request; 200 when every one passes,
503 otherwise, with the names of those that failed and what each found."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from gridchain.net.loops import ERROR_CHARS, Loop

NODE_TIMEOUT_S = 2.0  # how long /health waits for the node's answer [s]
FAILING_INTERVALS = 5  # a loop failing for longer than this many of its intervals fails /health

Check = Callable[[], dict]
"""A check: a dict with "ok" (bool) and what it found; an exception counts as a failure."""


class Health:
    """Named checks, composed: `report()` runs them all."""

    def __init__(self, checks: dict[str, Check] | None = None) -> None:
        self.checks: dict[str, Check] = dict(checks or {})

    def add(self, name: str, check: Check) -> Health:
        self.checks[name] = check
        return self

    def report(self) -> dict:
        """{"ok": all passed, "failed": [names], name: what that check found, ...}."""
        found = {name: _run(check) for name, check in self.checks.items()}
        failed = [name for name, result in found.items() if not result.get("ok")]
        return {"ok": not failed, "failed": failed, **found}


def _run(check: Check) -> dict:
    try:
        return dict(check())
    except Exception as e:  # noqa: BLE001 - a check that cannot run has failed; /health itself still answers
        return {"ok": False, "error": f"{type(e).__name__}: {e}"[:ERROR_CHARS]}


def node_check(rpc_url: str, timeout_s: float = NODE_TIMEOUT_S) -> Check:
    """The node at `rpc_url` answers eth_blockNumber within `timeout_s`: {"ok", "block", "latency_ms"}."""

    def check() -> dict:
        began = time.perf_counter()
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
        try:
            answer = httpx.post(rpc_url, json=body, timeout=timeout_s).json()
            block = int(answer["result"], 16)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
            return {"ok": False, "error": f"{type(e).__name__}: {e}"[:ERROR_CHARS]}
        return {"ok": True, "block": block, "latency_ms": round(1000 * (time.perf_counter() - began), 1)}

    return check


def loop_check(
    loop: Loop, failing_intervals: int = FAILING_INTERVALS, extra: Callable[[], dict] | None = None
) -> Check:
    """`loop` is alive and not failing for longer than `failing_intervals` of its intervals: its state, with
    `extra()` (the service's own counters) added."""

    def check() -> dict:
        state = loop.state()
        ok = state["alive"] and loop.failing_for() <= failing_intervals * loop.interval_s
        return {"ok": ok, **state, **(extra() if extra is not None else {})}

    return check


def add_health_route(app: FastAPI, health: Health, info: Callable[[], dict] | None = None) -> None:
    """GET /health on `app`: `info()` (what the service is) and the checks' report; 200 or 503."""

    @app.get("/health")
    def health_route() -> JSONResponse:
        report = health.report()
        body = {**(info() if info is not None else {}), **report}
        return JSONResponse(body, status_code=200 if report["ok"] else 503)
