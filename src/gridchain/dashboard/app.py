"""The dashboard's web app: server-rendered pages (Jinja2) from the `pages` registry, their JSON APIs, the
static files and the charting library (plotly.js from the `plotly` package: served from this machine, never a
CDN). Every response forbids loading anything from another origin."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from gridchain import __version__
from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.pages import PAGES

HERE = Path(__file__).parent
# only this server: no CDN, no fonts, no beacons; plotly sets inline styles on the charts it draws
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def plotly_js() -> Path:
    """plotly.js as the installed `plotly` package ships it."""
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


def create_app(deployment: Deployment) -> FastAPI:
    app = FastAPI(title="gridchain dashboard", version=__version__, docs_url=None, redoc_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    nav = [(page.TITLE, page.PATH) for page in PAGES]
    templates.env.globals.update(nav=nav, version=__version__, poll_ms=int(deployment.settings.poll_s * 1000))
    templates.env.globals.update(chain_id=deployment.chain_id, node=_node_host(deployment.rpc_url))
    templates.env.filters["kw"] = _kw
    templates.env.filters["short"] = _short
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    plotly = plotly_js()

    app.add_middleware(SecurityHeaders)

    @app.get("/", include_in_schema=False)
    def home():
        return RedirectResponse(PAGES[0].PATH)

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def charts():
        return FileResponse(plotly, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/health")
    def health():
        """200 while the node answers (its head block), else 503 naming the error."""
        try:
            return {"ok": True, "head": deployment.gateway.block_number()}
        except Exception as e:  # the node is down or unreachable: the pages cannot be fresh
            return JSONResponse({"ok": False, "error": f"network.rpc_url: {type(e).__name__}"}, status_code=503)

    for page in PAGES:
        app.include_router(page.router(deployment, templates))
    return app


class SecurityHeaders:
    """Adds the policy headers to every HTTP response as it starts (a plain ASGI middleware: the body passes
    through untouched, which Starlette's BaseHTTPMiddleware did not do for large files under load)."""

    HEADERS = [
        (b"content-security-policy", POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _node_host(url: str) -> str:
    """The node's scheme, host and port only: a provider's URL may carry an API key in its path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _kw(watts: int | None) -> str:
    return "-" if watts is None else f"{watts / 1000:g}"


def _short(value: str | None, keep: int = 10) -> str:
    return "-" if not value else value if len(value) <= keep + 2 else value[:keep] + "…"
