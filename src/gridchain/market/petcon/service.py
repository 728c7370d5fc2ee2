"""The LAG's auctioneer as an HTTP service (FastAPI on 127.0.0.1), over `parties.auctioneer.Auction`.

GET  /auction     the opening (public constants), the phase, the round solved last, seats taken
POST /join        a PHEV's signed join                                     -> 200 {"index", "opening"}
POST /allocation  {"auction", "pseudonym", "k", "signature"}               -> 200 {"state": "ready", "k",
                  "c_kwh", "bids"} (its row or column), or "done"; waits up to WAIT_S for round k, then "waiting"
POST /bids        {"auction", "pseudonym", "k", "row", "bids", "signature"} -> 200 {"accepted", "k", "state"}
GET  /result      the published document (record, entries, digest) once the auction is done; 409 before
GET /health, GET /metrics (Prometheus text).
A malformed field answers 400 {"field", "reason"}; a refusal (unknown pseudonym, another's row or key, wrong
round, duplicate join or bids) 403 {"field", "reason"}; neither changes anything.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gridchain.errors import InputError, Refused
from gridchain.market.petcon.parties.auctioneer import Auction
from gridchain.net.health import Health, add_health_route
from gridchain.net.metrics import instrument

WAIT_S = 5.0  # how long /allocation holds a request for a round not yet solved


async def _body(request: Request) -> dict:
    try:
        data = await request.json()
    except ValueError:
        raise InputError("body", "is not JSON") from None
    if not isinstance(data, dict):
        raise InputError("body", "is not a JSON object")
    return data


def _add_refusals(app: FastAPI) -> None:
    """400 {"field", "reason"} for a malformed field, 403 for a refusal."""

    @app.exception_handler(Refused)
    async def refused(_: Request, e: Refused) -> JSONResponse:
        return JSONResponse({"field": e.field, "reason": e.reason}, status_code=403)

    @app.exception_handler(InputError)
    async def bad_input(_: Request, e: InputError) -> JSONResponse:
        return JSONResponse({"field": e.field, "reason": e.reason}, status_code=400)


async def _wait_for_round(changed: asyncio.Condition, auction: Auction, k: int) -> None:
    """Until round k is solved or the auction ends, at most WAIT_S."""
    async with changed:
        try:
            await asyncio.wait_for(changed.wait_for(lambda: auction.k >= k or auction.state == "done"), WAIT_S)
        except TimeoutError:
            pass


def auctioneer_app(auction: Auction, health: Health | None = None) -> FastAPI:
    """The service of one auction. Handlers run on the event loop one at a time, so the auction needs no lock."""
    app = FastAPI(title="gridchain petcon auctioneer", docs_url=None, redoc_url=None)  # no docs pages: a CDN
    instrument(app, "petcon auctioneer")
    _add_refusals(app)
    app.state.auction = auction
    changed = asyncio.Condition()
    add_health_route(app, health or Health(), lambda: {"lot": auction.opening.lot, "auction": auction.opening.round})

    async def notify() -> None:
        async with changed:
            changed.notify_all()

    @app.get("/auction")
    async def opening() -> dict:
        return {
            "opening": auction.opening.public(),
            "state": auction.state,
            "k": auction.k,
            "seats": len(auction.seats),
        }

    @app.post("/join")
    async def join(request: Request) -> dict:
        answer = auction.join(await _body(request))
        await notify()
        return answer

    @app.post("/allocation")
    async def allocation(request: Request) -> dict:
        data = await _body(request)
        answer = auction.allocation(data)
        if answer["state"] == "waiting":  # k is then a valid round number
            await _wait_for_round(changed, auction, data["k"])
            answer = auction.allocation(data)
        return answer

    @app.post("/bids")
    async def bids(request: Request) -> dict:
        k = auction.k
        answer = auction.bid(await _body(request))
        if auction.k != k or auction.state == "done":
            await notify()
        return answer

    @app.get("/result")
    async def result() -> JSONResponse:
        if auction.state != "done":
            return JSONResponse({"field": "auction", "reason": f"the auction is {auction.state}"}, status_code=409)
        return JSONResponse(auction.document())

    return app
