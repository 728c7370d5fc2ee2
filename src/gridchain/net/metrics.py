"""Prometheus metrics of a service (prometheus-client), served as text on GET /metrics.

Each service has its own `CollectorRegistry` (never the library's global one: tests run several services in one
process). `instrument(app, service)` adds the route and a middleware that counts requests by method, route
template (never the raw path: ticket ids stay out of the labels) and status, with a latency histogram; the service
then adds its own counters and gauges, or values read when scraped (`read`), and its loops (`watch`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from gridchain.net.loops import Loop

PREFIX = "gridchain_"
UNMATCHED = "unmatched"  # the route label of a path no route serves (404s): one label for all of them


class Metrics:
    """One service's registry, with the HTTP request metrics and the service's own."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        Gauge(
            f"{PREFIX}service_info", "The service this process runs (always 1).", ["service"], registry=self.registry
        ).labels(service).set(1)
        self.requests = Counter(
            f"{PREFIX}http_requests",
            "HTTP requests answered, by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            f"{PREFIX}http_request_duration_seconds",
            "Time to answer an HTTP request [s].",
            ["method", "route"],
            registry=self.registry,
        )
        self._reads = _Reads()
        self.registry.register(self._reads)

    def counter(self, name: str, doc: str, labels: Iterable[str] = ()) -> Counter:
        """A counter the service increments (`name` without the gridchain_ prefix and the _total suffix)."""
        return Counter(PREFIX + name, doc, list(labels), registry=self.registry)

    def gauge(self, name: str, doc: str, labels: Iterable[str] = ()) -> Gauge:
        return Gauge(PREFIX + name, doc, list(labels), registry=self.registry)

    def read(self, name: str, doc: str, value: Callable[[], float], counter: bool = False) -> None:
        """A value read from the service at each scrape (a queue's depth, a party's own count)."""
        self._reads.values.append((PREFIX + name, doc, value, counter))

    def watch(self, loop: Loop) -> None:
        """Export `loop`'s state, labelled by its name (gridchain_loop_*)."""
        self._reads.loops.append(loop)

    def text(self) -> bytes:
        return generate_latest(self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class _Reads(Collector):
    """What is read at scrape time: the services' values and their loops' states."""

    def __init__(self) -> None:
        self.values: list[tuple[str, str, Callable[[], float], bool]] = []
        self.loops: list[Loop] = []

    def collect(self) -> Iterable[Metric]:
        for name, doc, value, counter in self.values:
            family = CounterMetricFamily if counter else GaugeMetricFamily
            yield family(name, doc, value=float(value()))
        yield from loop_families(self.loops)


def loop_families(loops: list[Loop]) -> list[Metric]:
    """gridchain_loop_{steps,errors}_total, _consecutive_errors, _alive and _last_success_timestamp_seconds."""
    if not loops:
        return []
    families = [
        CounterMetricFamily(f"{PREFIX}loop_steps", "Steps of the loop that completed.", labels=["loop"]),
        CounterMetricFamily(f"{PREFIX}loop_errors", "Steps of the loop that failed.", labels=["loop"]),
        GaugeMetricFamily(f"{PREFIX}loop_consecutive_errors", "Failures since the last success.", labels=["loop"]),
        GaugeMetricFamily(f"{PREFIX}loop_alive", "1 while the loop runs.", labels=["loop"]),
        GaugeMetricFamily(
            f"{PREFIX}loop_last_success_timestamp_seconds",
            "Unix time of the last step that completed.",
            labels=["loop"],
        ),
    ]
    for loop in loops:
        values = (loop.steps, loop.errors, loop.consecutive_errors, int(loop.alive), loop.last_success or 0)
        for family, value in zip(families, values, strict=True):
            family.add_metric([loop.name], float(value))
    return families


def route_of(scope: dict) -> str:
    """The template of the route that serves `scope` (`/requests/{ticket}`), or UNMATCHED."""
    app = scope.get("app")
    for route in getattr(getattr(app, "router", None), "routes", ()):
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return getattr(route, "path", UNMATCHED)
    return UNMATCHED


class _CountRequests:
    """ASGI middleware: every HTTP request's method, route, status and latency into `metrics`."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, status = time.perf_counter(), [500]  # an exception that escapes the app is answered 500

        async def send_status(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.observe(scope["method"], route_of(scope), status[0], time.perf_counter() - began)


def instrument(app: FastAPI, service: str) -> Metrics:
    """Count `app`'s requests and serve GET /metrics (Prometheus text); the service's `Metrics`, also kept as
    `app.state.metrics` for the code that builds the app around it."""
    metrics = Metrics(service)
    app.add_middleware(_CountRequests, metrics=metrics)
    app.state.metrics = metrics

    @app.get("/metrics", include_in_schema=False)
    def metrics_route(_: Request) -> Response:
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    return metrics
