"""The utility's token issuance service (`gridchain utility serve`): FastAPI over an `Issuer`.

POST /tokens            an issuance request (JSON, see `gridchain.coordination.anonymous.parties.issuer`)
                        -> blind signatures, signed
GET  /keys/{community}/{epoch}   the (community, epoch) public key (the one the utility registers on chain), for
                        the utility's own communities and the epochs from today to its look-ahead only
GET  /health          200 when every check passes (the node, the utility's loop on chain: see `Health`), else 503
GET  /metrics         Prometheus text: requests by route and status, latencies, and what the service adds
Refusals answer {"field": ..., "reason": ...} with 400 (malformed, or an epoch outside the window), 401
(signature), 403 (not a member), 404 (not a community of this utility) or 429 (over quota, field `blinded`;
more issuance requests in a minute than the issuer's rate limit, field `identity`).
Requests are answered in worker threads, side by side: the issuer's book settles the quota of each in one
transaction.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from gridchain.coordination.anonymous.parties.issuer import IssuanceRefused, Issuer
from gridchain.errors import InputError
from gridchain.net.health import Health, add_health_route
from gridchain.net.metrics import instrument
from gridchain.net.server import loopback_client


def issuance_app(issuer: Issuer, health: Health | None = None) -> FastAPI:
    """The service over `issuer`. `health`: the checks /health runs (the node, the utility's loop on chain);
    none by default. Its `Metrics` are `app.state.metrics`. No docs pages (they load scripts from a CDN);
    /openapi.json stays."""
    app = FastAPI(title="gridchain utility: token issuance", docs_url=None, redoc_url=None)
    instrument(app, "utility")

    @app.exception_handler(InputError)  # IssuanceRefused carries its status; other bad input is a 400
    async def refused(_: Request, e: InputError) -> JSONResponse:
        return JSONResponse({"field": e.field, "reason": e.reason}, status_code=getattr(e, "status", 400))

    def info() -> dict:
        return {
            "utility": issuer.address,
            "quota": issuer.quota,
            "communities": len(issuer.book.communities()),
            "lookahead_epochs": issuer.lookahead_epochs,
        }

    add_health_route(app, health or Health(), info)

    @app.get("/keys/{community}/{epoch}")
    def key(community: str, epoch: str) -> dict:
        # refused (community 404, epoch 400) before any key is made for a stranger's (community, epoch)
        return issuer.public_key(community, epoch)

    @app.post("/tokens")
    async def tokens(request: Request) -> dict:
        try:
            body = await request.json()
        except ValueError as e:
            raise IssuanceRefused("", "the body is not JSON") from e
        return await run_in_threadpool(issuer.issue, body)  # RSA and the database: not on the event loop

    return app


class IssuanceClient:
    """The ESU's HTTP client for the issuance service (a `TokenWallet` transport)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.http = loopback_client(url, timeout)

    def __call__(self, body: dict) -> dict:
        response = self.http.post("/tokens", json=body)
        if response.status_code != 200:
            detail = response.json()
            raise IssuanceRefused(detail.get("field", ""), detail.get("reason", response.text), response.status_code)
        return response.json()

    def modulus(self, community: str, epoch: int) -> bytes:
        response = self.http.get(f"/keys/{community}/{epoch}")
        if response.status_code != 200:
            detail = response.json()
            raise IssuanceRefused(detail.get("field", ""), detail.get("reason", response.text), response.status_code)
        return bytes.fromhex(response.json()["modulus"][2:])

    def close(self) -> None:
        self.http.close()
