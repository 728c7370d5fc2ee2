"""The relayer service (`gridchain relayer serve`): FastAPI over a `Relayer`.

POST /requests        an anonymous request (JSON, `AnonymousRequest.to_json`) -> 202 {"id", "status": "queued"}
GET  /requests/{id}   its ticket: queued | submitted (arrival, tx_hash) | failed (reason). The id is random
                      (128 bits), so only the ESU that sent the request can read its ticket.
POST /flush           admin only (`Authorization: Bearer <admin token>`): submit what is queued now. The service
                      flushes by itself (aligned to slot ends, see `Flusher`); a stranger forcing flushes would force
                      batches of one, which undoes the shuffle. Without an admin token /flush is disabled.
GET  /health          ok, and the flusher's state (alive, flushes, errors, the last error)
GET  /metrics         Prometheus text: requests by route and status, latencies
Refusals answer 400 {"field": ..., "reason": ...}; nothing is queued then. A wrong or missing admin token
answers 401, an unknown ticket 404, a chain the relayer cannot read 503.
"""

from __future__ import annotations

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
    looks every `interval` seconds and flushes only when `Relayer.flush_due` (a slot's last moment, or a full
    batch). No exception ends the thread: it is logged, counted and shown by /health, and the next interval
    flushes again. `on_settled` hears of every ticket a flush settles (the service logs them)."""

    def __init__(
        self,
        relayer: Relayer,
        interval: float,
        aligned: bool = False,
        on_settled: Callable[[Ticket], None] | None = None,
    ) -> None:
        self.relayer, self.interval, self.aligned, self.on_settled = relayer, interval, aligned, on_settled
        self.flushes = self.errors = 0
        self.last_flush: float | None = None  # unix time of the last flush that completed
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="relayer-flusher")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.aligned and not self.relayer.flush_due():
                    continue
                for ticket in self.relayer.flush():
                    if self.on_settled is not None:
                        self.on_settled(ticket)
                self.flushes, self.last_flush = self.flushes + 1, time.time()
            except Exception as e:  # noqa: BLE001 - the node may be away for a while; the queue waits for it
                self.errors, self.last_error = self.errors + 1, f"{type(e).__name__}: {e}"
                log.exception("relayer: flush failed; next try in %s s", self.interval)

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
            "last_flush": self.last_flush,
            "last_error": self.last_error,
        }

    def start(self) -> Flusher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def relayer_app(relayer: Relayer, admin_token: str | None = None, flusher: Flusher | None = None) -> FastAPI:
    """The service over `relayer`. `admin_token` enables POST /flush for whoever presents it; `flusher`, if
    the service has one, shows in /health (which answers 503 once its thread is gone)."""
    if admin_token is not None and len(admin_token) < ADMIN_TOKEN_MIN_CHARS:
        raise InputError("admin_token", f"must have at least {ADMIN_TOKEN_MIN_CHARS} characters")
    app = FastAPI(title="gridchain relayer", docs_url=None, redoc_url=None)  # no docs pages: they load a CDN
    instrument(app, "relayer")  # GET /metrics; app.state.metrics
    _add_error_handlers(app)
    _add_request_routes(app, relayer, flusher)
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


def _add_request_routes(app: FastAPI, relayer: Relayer, flusher: Flusher | None) -> None:
    """GET /health, POST /requests, GET /requests/{id}."""

    @app.get("/health")
    def health() -> JSONResponse:
        body = {"ok": True, "relayer": relayer.account, "coordinator": relayer.client.address}
        if flusher is not None:
            body |= {"ok": flusher.alive, "flusher": flusher.state()}
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
