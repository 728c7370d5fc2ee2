"""The board's HTTP service (FastAPI, served on loopback by gridchain.net) and its client.

POST /offers                 a listing (JSON, `Listing.to_json`) -> 201 the listing as stored
GET  /offers?community=C     {"offers": [...]} the community's live listings, oldest first
POST /mailboxes/{key}        {"ciphertext": base64} -> 202 {"seq"}: an envelope into the mailbox of one-time key `key`
GET  /mailboxes/{key}?after=N  {"messages": [{"seq", "ciphertext"}]} the envelopes after sequence number N
GET  /health                 the store answers (listings and envelopes held); 200, else 503
GET  /metrics                Prometheus text
Bad input answers 400 {"field", "reason"}; nothing is written then. The service logs one JSON line per change.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gridchain.checks import check_id, parse_decimal_int
from gridchain.errors import InputError
from gridchain.escrow.negotiation.model import Listing, parse_listing
from gridchain.escrow.negotiation.service.board import Board
from gridchain.net.health import Health, add_health_route
from gridchain.net.logs import EventLog
from gridchain.net.metrics import instrument
from gridchain.net.server import loopback_client

SERVICE = "negotiation-board"
MAX_SEQ = 2**63 - 1


def board_app(board: Board) -> FastAPI:
    """The service over `board` (its `log`, if unset, becomes the service's JSON-line log on stderr)."""
    if board.log is None:
        board.log = EventLog(SERVICE)
    app = FastAPI(title="gridchain negotiation board", docs_url=None, redoc_url=None)
    metrics = instrument(app, SERVICE)
    metrics.read("negotiation_envelopes", "Envelopes the board holds.", lambda: board.counts()["envelopes"])
    metrics.read("negotiation_live_listings", "Listings not yet expired.", lambda: board.counts()["live_listings"])

    @app.exception_handler(InputError)
    async def refused(_: Request, e: InputError) -> JSONResponse:
        return JSONResponse({"field": e.field, "reason": e.reason}, status_code=400)

    add_health_route(app, Health({"store": lambda: {"ok": True, **board.counts()}}), lambda: {"service": SERVICE})

    @app.post("/offers", status_code=201)
    async def post_offer(request: Request) -> dict:
        return board.post_offer(await _json(request)).to_json()

    @app.get("/offers")
    def offers(community: str | None = None) -> dict:
        return {"offers": [o.to_json() for o in board.offers(check_id("community", community))]}

    @app.post("/mailboxes/{key}", status_code=202)
    async def post(key: str, request: Request) -> dict:
        body = await _json(request)
        if not isinstance(body, dict) or set(body) != {"ciphertext"}:
            raise InputError("ciphertext", 'the body must be {"ciphertext": base64}')
        return {"seq": board.post(key, _b64("ciphertext", body["ciphertext"]))}

    @app.get("/mailboxes/{key}")
    def fetch(key: str, after: str = "0") -> dict:
        found = board.fetch(key, parse_decimal_int("after", after, 0, MAX_SEQ))
        return {"messages": [{"seq": s, "ciphertext": base64.b64encode(c).decode()} for s, c in found]}

    return app


async def _json(request: Request) -> object:
    try:
        return await request.json()
    except ValueError:
        raise InputError("body", "is not JSON") from None


def _b64(field: str, value: object) -> bytes:
    if not isinstance(value, str):
        raise InputError(field, "must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(field, "is not base64") from None


class BoardClient:
    """A party's client for the board over HTTP: the same calls as `Board` (the parties' port). A refusal
    raises the service's InputError (field, reason)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.http = loopback_client(url, timeout)

    def _answer(self, response) -> dict:
        if response.status_code >= 400:
            try:
                detail = response.json()
            except ValueError:
                detail = {}
            raise InputError(str(detail.get("field", "")), str(detail.get("reason", response.text)))
        return response.json()

    def post_offer(self, listing: Listing) -> Listing:
        return parse_listing(self._answer(self.http.post("/offers", json=listing.to_json())))

    def offers(self, community: str) -> list[Listing]:
        found = self._answer(self.http.get("/offers", params={"community": community}))["offers"]
        return [parse_listing(o) for o in found]

    def post(self, mailbox: str, ciphertext: bytes) -> int:
        body = {"ciphertext": base64.b64encode(ciphertext).decode()}
        return int(self._answer(self.http.post(f"/mailboxes/{mailbox}", json=body))["seq"])

    def fetch(self, mailbox: str, after: int = 0) -> list[tuple[int, bytes]]:
        found = self._answer(self.http.get(f"/mailboxes/{mailbox}", params={"after": after}))["messages"]
        return [(int(m["seq"]), base64.b64decode(m["ciphertext"])) for m in found]

    def close(self) -> None:
        self.http.close()
