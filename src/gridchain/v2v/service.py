"""A provider EV's service for the off-chain part of a V2V trade (FastAPI on 127.0.0.1), and its client.

POST /hello    a consumer's Hello (JSON, `Hello.to_json`)       -> 200 Proof {"provider", "signature", "session"}
POST /hello    a consumer's Hello answers a Proof with the session secret that the two calls below carry
POST /deliver  {"token", "session"}                             -> 200 {"delivered_wh"} (cumulative)
POST /receipt  {"token", "session", "delivered_wh", "signature"} -> 200 {"receipted_wh"}
GET /health (200, or 503 naming the checks that failed: the daemon gives its node's and its loop's), GET /metrics
(Prometheus text: requests by route and status, latencies).
A refusal answers 403 {"reason": ...} and changes nothing. `clock()` gives the chain's time.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gridchain.net.health import Health, add_health_route
from gridchain.net.metrics import instrument
from gridchain.net.server import loopback_client
from gridchain.v2v.client import SignedReceipt
from gridchain.v2v.parties import (
    AuthRefused,
    ConsumerEV,
    Hello,
    Proof,
    ProviderEV,
    hex_bytes,
    signature_from,
)


def provider_app(provider: ProviderEV, clock: Callable[[], int], health: Health | None = None) -> FastAPI:
    app = FastAPI(title="gridchain v2v provider", docs_url=None, redoc_url=None)  # no docs pages: they load a CDN
    instrument(app, "v2v provider")  # GET /metrics; app.state.metrics

    @app.exception_handler(AuthRefused)
    async def refused(_: Request, e: AuthRefused) -> JSONResponse:
        return JSONResponse({"reason": e.reason}, status_code=403)

    async def body(request: Request) -> dict:
        try:
            data = await request.json()
        except ValueError:
            raise AuthRefused("the body is not JSON") from None
        if not isinstance(data, dict):
            raise AuthRefused("the body is not a JSON object")
        return data

    add_health_route(
        app, health or Health(), lambda: {"provider": provider.address, "contract": provider.client.address}
    )

    @app.post("/hello")
    async def hello(request: Request) -> dict:
        return provider.authenticate(Hello.from_json(await body(request)), clock()).to_json()

    @app.post("/deliver")
    async def deliver(request: Request) -> dict:
        data = await body(request)
        token, session = hex_bytes(data.get("token", ""), 32), hex_bytes(data.get("session", ""), 32)
        return {"delivered_wh": provider.deliver(token, session, clock())}

    @app.post("/receipt")
    async def receipt(request: Request) -> dict:
        data = await body(request)
        delivered = data.get("delivered_wh")
        if type(delivered) is not int:  # not a float, a string or a bool
            raise AuthRefused(f"delivered_wh must be an integer [Wh], got {delivered!r}")
        token, signature = hex_bytes(data.get("token", ""), 32), signature_from(data.get("signature"))
        session = hex_bytes(data.get("session", ""), 32)
        return {"receipted_wh": provider.accept_receipt(SignedReceipt(token, delivered, signature), session, clock())}

    return app


class ProviderClient:
    """The consumer's HTTP client for a provider's service; a refusal raises AuthRefused with its reason.
    It keeps the session secret of each token it authenticated and sends it along."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.http = loopback_client(url, timeout)
        self.sessions: dict[bytes, bytes] = {}

    def _post(self, path: str, body: dict) -> dict:
        response = self.http.post(path, json=body)
        if response.status_code == 403:
            raise AuthRefused(response.json()["reason"])
        response.raise_for_status()
        return response.json()

    def hello(self, hello: Hello) -> Proof:
        proof = Proof.from_json(self._post("/hello", hello.to_json()))
        self.sessions[hello.token] = proof.session
        return proof

    def _session(self, token: bytes) -> str:
        return "0x" + self.sessions.get(token, b"\x00" * 32).hex()

    def deliver(self, token: bytes) -> int:
        body = {"token": "0x" + token.hex(), "session": self._session(token)}
        return int(self._post("/deliver", body)["delivered_wh"])

    def receipt(self, receipt: SignedReceipt) -> int:
        body = {
            "token": "0x" + receipt.token.hex(),
            "session": self._session(receipt.token),
            "delivered_wh": receipt.delivered_wh,
            "signature": "0x" + receipt.signature.hex(),
        }
        return int(self._post("/receipt", body)["receipted_wh"])

    def close(self) -> None:
        self.http.close()


def charge(consumer: ConsumerEV, http: ProviderClient, token: bytes, keep: Callable[[SignedReceipt], None]) -> dict:
    """The consumer's side of a session with its auction's winner: hello, check the proof against the chain,
    then take energy increment by increment, signing and keeping (`keep`) a cumulative receipt for each, until
    the whole amount has arrived. Returns {"provider", "deliveries": [{"delivered_wh", "receipted_wh"}]}."""
    hello = consumer.hello(token)
    provider = consumer.check_proof(hello, http.hello(hello))
    amount = consumer.client.auction(consumer.address).amount_wh
    deliveries = []
    delivered = 0
    while delivered < amount:
        delivered = http.deliver(token)
        receipt = consumer.receipt(token, delivered)
        keep(receipt)
        deliveries.append({"delivered_wh": delivered, "receipted_wh": http.receipt(receipt)})
    return {"provider": provider, "deliveries": deliveries}
