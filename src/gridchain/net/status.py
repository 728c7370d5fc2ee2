"""The status app of a daemon that has no HTTP API of its own (the keeper): GET /health and GET /metrics only,
with its loops watched by both; served on the address its config gives, none by default."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from gridchain.net.health import Health, add_health_route, loop_check, node_check
from gridchain.net.loops import Loop
from gridchain.net.metrics import instrument


def status_app(service: str, rpc_url: str | None, loops: list[Loop], info: Callable[[], dict] | None = None) -> FastAPI:
    """/health checks the node at `rpc_url` (if any) and each loop (a check named after it); /metrics exports
    the loops."""
    app = FastAPI(title=f"gridchain {service}: status", docs_url=None, redoc_url=None)
    metrics = instrument(app, service)
    health = Health({"node": node_check(rpc_url)} if rpc_url else {})
    for loop in loops:
        health.add(loop.name, loop_check(loop))
        metrics.watch(loop)
    add_health_route(app, health, info)
    return app
