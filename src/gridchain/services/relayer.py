"""The relayer service (`gridchain relayer serve`): FastAPI over a `Relayer`.

POST /requests        an anonymous request (JSON, `AnonymousRequest.to_json`) -> 202 {"id", "status": "queued"}
GET  /requests/{id}   its ticket: queued | submitted (arrival, tx_hash) | failed (reason)
POST /flush           submit what is queued now (the service also flushes every `interval` seconds)
Refusals answer 400 {"field": ..., "reason": ...}; nothing is queued then.
"""

from __future__ import annotations

import threading

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from gridchain.actors.relayer import Relayer, RelayRefused
from gridchain.core.request import InputError
from gridchain.services.server import loopback_client


def relayer_app(relayer: Relayer) -> FastAPI:
    app = FastAPI(title="gridchain relayer")

    @app.exception_handler(InputError)  # RelayRefused and the field checks it shares with core
    async def refused(_: Request, e: InputError) -> JSONResponse:
        return JSONResponse({"field": e.field, "reason": e.reason}, status_code=400)

    @app.get("/health")
    def health() -> dict:
        return {"ok": True, "relayer": relayer.account, "coordinator": relayer.client.address}

    @app.post("/requests", status_code=202)
    async def submit(request: Request) -> dict:
        try:
            body = await request.json()
        except ValueError as e:
            raise RelayRefused("", "the body is not JSON") from e
        return relayer.accept(body).to_json()

    @app.get("/requests/{ticket}")
    def status(ticket: int) -> dict:
        if ticket not in relayer.tickets:
            raise HTTPException(404, f"no request {ticket}")
        return relayer.tickets[ticket].to_json()

    @app.post("/flush")
    def flush() -> dict:
        return {"tickets": [t.to_json() for t in relayer.flush()]}

    return app


class Flusher:
    """Flushes a relayer every `interval` seconds in a daemon thread (the standalone service)."""

    def __init__(self, relayer: Relayer, interval: float) -> None:
        self.relayer, self.interval = relayer, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.relayer.flush()

    def start(self) -> Flusher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


class RelayerClient:
    """An ESU's HTTP client for the relayer."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.http = loopback_client(url, timeout)

    def send(self, body: dict) -> dict:
        response = self.http.post("/requests", json=body)
        if response.status_code != 202:
            detail = response.json()
            raise RelayRefused(detail.get("field", ""), detail.get("reason", response.text))
        return response.json()

    def status(self, ticket: int) -> dict:
        response = self.http.get(f"/requests/{ticket}")
        response.raise_for_status()
        return response.json()

    def flush(self) -> list[dict]:
        response = self.http.post("/flush")
        response.raise_for_status()
        return response.json()["tickets"]

    def close(self) -> None:
        self.http.close()
