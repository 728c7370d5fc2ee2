"""The relayer service (`gridchain relayer serve`): FastAPI over a `Relayer`.

POST /requests        an anonymous request (JSON, `AnonymousRequest.to_json`) -> 202 {"id", "status": "queued"}
GET  /requests/{id}   its ticket: queued | submitted (arrival, tx_hash) | failed (reason). The id is random
                      (128 bits), so only the ESU that sent the request can read its ticket.
POST /flush           admin only (`Authorization: Bearer <admin token>`): submit what is queued now. The service
                      flushes by itself (aligned to slot ends, see `Flusher`); a stranger forcing flushes would force
                      batches of one, which undoes the shuffle. Without an admin token /flush is disabled.
GET  /health          ok (else 503): the node answers a cheap call at once, the flusher is alive and its last
                      pass had no error (its state, the age of its last success); the queue's depth and the
                      age of its oldest request
GET  /metrics         Prometheus text: requests by route and status, latencies
Refusals answer 400 {"field": ..., "reason": ...}; nothing is queued then. A wrong or missing admin token
answers 401, an unknown ticket 404, a chain the relayer cannot read 503.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gridchain.chain.gateway import ChainRevert
from gridchain.coordination.anonymous.parties.relayer import Relayer, RelayRefused, Ticket
from gridchain.errors import InputError
from gridchain.net.auth import ADMIN_TOKEN_MIN_CHARS, bearer_ok
from gridchain.net.metrics import instrument
from gridchain.net.server import loopback_client

log = logging.getLogger("gridchain.relayer")


class Flusher:
    """Flushes a relayer every `interval` seconds in a daemon thread (the standalone service); `aligned`, it
    looks every `interval` seconds and flushes only when `Relayer.flush_due` (a slot's last moment, a full
    batch, or a batch to confirm). No exception ends the thread: it is counted, shown by /health and logged as
    one JSON line, and the next try waits twice as long as the last (from `interval` up to `backoff_cap_s`)
    while the errors go on. `on_settled` hears of every ticket a flush settles (the service logs them).
    `stop` lets the flush in progress finish."""

    def __init__(
        self,
        relayer: Relayer,
        interval: float,
        aligned: bool = False,
        on_settled: Callable[[Ticket], None] | None = None,
        backoff_cap_s: float = 30.0,
        log_line: Callable[[dict], None] | None = None,
    ) -> None:
        self.relayer, self.interval, self.aligned, self.on_settled = relayer, interval, aligned, on_settled
        self.backoff_cap_s, self.log_line = max(backoff_cap_s, interval), log_line
        self.flushes = self.errors = self.failing = 0  # failing: errors since the last success
        self.last_flush: float | None = None  # unix time of the last flush that completed
        self.last_success: float = time.time()  # of the last pass without an error (a look counts)
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="relayer-flusher")

    def _run(self) -> None:
        while not self._stop.wait(self._pause()):
            try:
                if not self.aligned or self.relayer.flush_due():
                    for ticket in self.relayer.flush():
                        if self.on_settled is not None:
                            self.on_settled(ticket)
                    self.flushes, self.last_flush = self.flushes + 1, time.time()
                    if unsent := getattr(self.relayer, "last_errors", []):
                        raise ConnectionError(f"{len(unsent)} batch(es) stay queued: {unsent[0]}")
                self.failing, self.last_success = 0, time.time()
            except Exception as e:  # noqa: BLE001 - the node may be away for a while; the queue waits for it
                self.errors, self.failing, self.last_error = (
                    self.errors + 1,
                    self.failing + 1,
                    f"{type(e).__name__}: {e}",
                )
                self._report()

    def _pause(self) -> float:
        """The wait before the next pass: `interval`, doubled for each error in a row, at most the cap."""
        return min(self.backoff_cap_s, self.interval * 2 ** min(self.failing, 30))

    def _report(self) -> None:
        entry = {"event": "flush_error", "error": self.last_error, "failing": self.failing, "retry_in_s": self._pause()}
        if self.log_line is not None:
            self.log_line(entry)
        else:
            log.warning("relayer: %s", json.dumps(entry))

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def state(self) -> dict:
        return {
            "alive": self.alive,
            "interval_s": self.interval,
            "aligned": self.aligned,
            "flushes": self.flushes,
            "errors": self.errors,
            "failing": self.failing,
            "last_flush": self.last_flush,
            "last_success_age_s": round(time.time() - self.last_success, 3),
            "last_error": self.last_error,
        }

    def start(self) -> Flusher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=max(60.0, self.relayer.receipt_timeout_s + 10))


def relayer_app(
    relayer: Relayer,
    admin_token: str | None = None,
    flusher: Flusher | None = None,
    probe: Callable[[], str | None] | None = None,
) -> FastAPI:
    """The service over `relayer`. `admin_token` enables POST /flush for whoever presents it; `flusher`, if
    the service has one, shows in /health (503 once its thread is gone or while its flushes fail); `probe`
    asks the node something cheap with a short timeout (None: it answered; else why not; 503 then)."""
    if admin_token is not None and len(admin_token) < ADMIN_TOKEN_MIN_CHARS:
        raise InputError("admin_token", f"must have at least {ADMIN_TOKEN_MIN_CHARS} characters")
    app = FastAPI(title="gridchain relayer", docs_url=None, redoc_url=None)  # no docs pages: they load a CDN
    instrument(app, "relayer")  # GET /metrics; app.state.metrics
    _add_error_handlers(app)
    _add_request_routes(app, relayer, flusher, probe)
    _add_flush_route(app, relayer, admin_token)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Refusals answer 400; a chain the relayer cannot read 503."""

    @app.exception_handler(InputError)  # RelayRefused and the field checks it shares with core
    async def refused(_: Request, e: InputError) -> JSONResponse:
        return JSONResponse({"field": e.field, "reason": e.reason}, status_code=400)

    async def unavailable(_: Request, e: Exception) -> JSONResponse:
        """A view the relayer needs failed, or the node is away: the chain's fault, not the client's."""
        return JSONResponse({"field": "", "reason": f"the relayer cannot read the chain: {e}"}, status_code=503)

    app.add_exception_handler(ChainRevert, unavailable)
    app.add_exception_handler(OSError, unavailable)  # requests' and httpx's connection errors among them


def health_body(relayer: Relayer, flusher: Flusher | None, probe: Callable[[], str | None] | None) -> dict:
    """What /health says: the node reachable, the flusher alive and not failing, the queue's depth and age."""
    depth, oldest_ms = relayer.queue()
    body = {
        "ok": True,
        "relayer": relayer.account,
        "coordinator": relayer.client.address,
        "queue": {
            "depth": depth,
            "oldest_age_s": None if oldest_ms is None else round(time.time() - oldest_ms / 1000, 3),
        },
    }
    if probe is not None:
        why = probe()
        body["node"] = {"reachable": why is None} | ({"error": why} if why else {})
        body["ok"] = why is None
    if flusher is not None:
        body["flusher"] = flusher.state()
        body["ok"] = body["ok"] and flusher.alive and flusher.failing == 0
    return body


def _add_request_routes(
    app: FastAPI, relayer: Relayer, flusher: Flusher | None, probe: Callable[[], str | None] | None
) -> None:
    """GET /health, POST /requests, GET /requests/{id}."""

    @app.get("/health")
    def health() -> JSONResponse:
        body = health_body(relayer, flusher, probe)
        return JSONResponse(body, status_code=200 if body["ok"] else 503)

    @app.post("/requests", status_code=202)
    async def submit(request: Request) -> dict:
        try:
            body = await request.json()
        except ValueError as e:
            raise RelayRefused("", "the body is not JSON") from e
        return relayer.accept(body).to_json()

    @app.get("/requests/{ticket}")
    def status(ticket: str) -> JSONResponse:
        found = relayer.tickets.get(ticket)
        if found is None:
            return JSONResponse({"field": "id", "reason": "no such request"}, status_code=404)
        return JSONResponse(found.to_json())


def _add_flush_route(app: FastAPI, relayer: Relayer, admin_token: str | None) -> None:
    """POST /flush, for the admin token's holder only (disabled without one)."""

    @app.post("/flush")
    def flush(request: Request) -> JSONResponse:
        if admin_token is None:
            return JSONResponse(
                {"field": "authorization", "reason": "POST /flush is disabled: no admin token is configured"},
                status_code=403,
            )
        if not bearer_ok(request.headers.get("authorization"), admin_token):
            return JSONResponse(
                {"field": "authorization", "reason": "needs the relayer's admin token (Bearer)"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return JSONResponse({"tickets": [t.to_json() for t in relayer.flush()]})


class RelayerClient:
    """An ESU's HTTP client for the relayer (with `admin_token`, the operator's, which may also flush)."""

    def __init__(self, url: str, timeout: float = 30.0, admin_token: str | None = None) -> None:
        self.http = loopback_client(url, timeout)
        self.admin_token = admin_token

    def send(self, body: dict) -> dict:
        response = self.http.post("/requests", json=body)
        if response.status_code != 202:
            detail = response.json()
            raise RelayRefused(detail.get("field", ""), detail.get("reason", response.text))
        return response.json()

    def status(self, ticket: str) -> dict:
        response = self.http.get(f"/requests/{ticket}")
        response.raise_for_status()
        return response.json()

    def flush(self) -> list[dict]:
        headers = {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}
        response = self.http.post("/flush", headers=headers)
        response.raise_for_status()
        return response.json()["tickets"]

    def close(self) -> None:
        self.http.close()
