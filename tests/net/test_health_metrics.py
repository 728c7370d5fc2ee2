"""/health composed of checks (200 only when all pass, else 503 naming the failed ones) and /metrics in
Prometheus text with request counts by route template, latency histograms, loop states and read values."""

import contextlib
import socket

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from gridchain.net.health import Health, add_health_route, loop_check, node_check
from gridchain.net.loops import Loop
from gridchain.net.metrics import UNMATCHED, instrument
from gridchain.net.server import LoopbackServer
from gridchain.net.status import status_app


@contextlib.contextmanager
def client_of(app: FastAPI):
    # a connection per request: the server closes one after an unhandled error's 500, and a pooled connection
    # reused just then is reset (the suite under load saw it)
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    with LoopbackServer(app) as server, httpx.Client(base_url=server.url, timeout=10, limits=no_reuse) as http:
        yield http


def samples(text: str) -> dict:
    """{(sample name, frozenset of labels): value} of a Prometheus text answer."""
    return {
        (s.name, frozenset(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }


def fake_node() -> FastAPI:
    app = FastAPI()

    @app.post("/")
    def rpc(body: dict) -> dict:
        return {"jsonrpc": "2.0", "id": body["id"], "result": "0x2a"}

    return app


def test_the_node_check_sees_an_answer_a_refusal_and_a_stall():
    with LoopbackServer(fake_node()) as node:
        found = node_check(node.url)()
    assert found["ok"] and found["block"] == 42 and found["latency_ms"] >= 0
    assert not (refused := node_check(node.url)())["ok"] and "ConnectError" in refused["error"]  # stopped now
    with socket.socket() as stalled:  # listens, never answers (a node stopped with SIGSTOP)
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(1)
        found = node_check(f"http://127.0.0.1:{stalled.getsockname()[1]}", timeout_s=0.2)()
    assert not found["ok"] and "Timeout" in found["error"]


def test_a_loop_fails_its_check_once_dead_or_failing_for_too_long():
    now = [1000.0]
    loop = Loop("duty", lambda: 1 / 0, 2.0, clock=lambda: now[0], wait=lambda s: True, log=lambda e, **f: None)
    check = loop_check(loop, failing_intervals=3, extra=lambda: {"transactions": 5})
    assert not check()["ok"]  # never started
    loop.alive, loop.started = True, now[0]
    loop.once()
    assert check()["ok"] and check()["consecutive_errors"] == 1 and check()["transactions"] == 5
    now[0] += 6.0  # three intervals: still tolerated
    assert check()["ok"]
    now[0] += 0.5
    found = check()
    assert not found["ok"] and found["failing_for_s"] == 6.5 and found["last_error"].startswith("ZeroDivision")


def test_health_is_200_only_when_every_check_passes():
    app, up = FastAPI(), {"node": True}
    health = Health({"node": lambda: {"ok": up["node"], "block": 1}, "duty": lambda: {"ok": True}})
    add_health_route(app, health.add("broken", lambda: {"ok": True, "n": 1 / 0}), lambda: {"service": "x"})
    with client_of(app) as client:
        health_answers(client, health, up)


def health_answers(client, health, up):
    r = client.get("/health")
    assert (
        r.status_code == 503 and r.json()["failed"] == ["broken"] and "ZeroDivisionError" in r.json()["broken"]["error"]
    )
    del health.checks["broken"]
    r = client.get("/health")
    assert r.status_code == 200 and r.json() == {
        "service": "x",
        "ok": True,
        "failed": [],
        "node": {"ok": True, "block": 1},
        "duty": {"ok": True},
    }
    up["node"] = False
    r = client.get("/health")
    assert r.status_code == 503 and r.json()["ok"] is False and r.json()["failed"] == ["node"]


def test_metrics_count_requests_by_route_template_and_status():
    app = FastAPI()
    metrics = instrument(app, "relayer")

    @app.get("/requests/{ticket}")
    def ticket(ticket: str) -> dict:
        if ticket == "boom":
            raise RuntimeError("a bug")
        return {"id": ticket}

    depth = [3]
    metrics.read("queue_depth", "Requests waiting.", lambda: depth[0])
    metrics.counter("relayed", "Requests relayed.", ["status"]).labels("submitted").inc(2)
    with client_of(app) as client:
        for path in ("/requests/a", "/requests/b", "/nowhere", "/requests/boom"):
            client.get(path)
        r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    found = samples(r.text)
    count = "gridchain_http_requests_total"
    assert found[(count, frozenset({"method": "GET", "route": "/requests/{ticket}", "status": "200"}.items()))] == 2
    assert found[(count, frozenset({"method": "GET", "route": "/requests/{ticket}", "status": "500"}.items()))] == 1
    assert found[(count, frozenset({"method": "GET", "route": UNMATCHED, "status": "404"}.items()))] == 1
    assert not any("/requests/a" in str(labels) for _, labels in found)  # no raw paths (ticket ids) in labels
    buckets = "gridchain_http_request_duration_seconds_count"
    assert found[(buckets, frozenset({"method": "GET", "route": "/requests/{ticket}"}.items()))] == 3
    assert found[("gridchain_service_info", frozenset({"service": "relayer"}.items()))] == 1
    assert found[("gridchain_queue_depth", frozenset())] == 3
    assert found[("gridchain_relayed_total", frozenset({"status": "submitted"}.items()))] == 2


def test_metrics_show_loops_and_each_service_has_its_own_registry():
    one, two = FastAPI(), FastAPI()
    loop = Loop("duty", lambda: None, 1.0, wait=lambda s: True, log=lambda e, **f: None)
    instrument(one, "utility").watch(loop)
    instrument(two, "utility")  # the same names again: no clash with the first
    loop.run()
    loop.step = lambda: 1 / 0
    loop.once()
    with client_of(one) as client:
        found = samples(client.get("/metrics").text)
    label = frozenset({"loop": "duty"}.items())
    assert found[("gridchain_loop_steps_total", label)] == 1 and found[("gridchain_loop_errors_total", label)] == 1
    assert found[("gridchain_loop_consecutive_errors", label)] == 1 and found[("gridchain_loop_alive", label)] == 0
    assert found[("gridchain_loop_last_success_timestamp_seconds", label)] > 1.7e9
    with client_of(two) as client:
        assert not any(name.startswith("gridchain_loop") for name, _ in samples(client.get("/metrics").text))


def test_a_status_app_checks_the_node_and_its_loops():
    loop = Loop("keeper", lambda: None, 5.0, wait=lambda s: True, log=lambda e, **f: None)
    with LoopbackServer(fake_node()) as node, client_of(status_app("keeper", node.url, [loop])) as http:
        r = http.get("/health")
        assert r.status_code == 503 and r.json()["failed"] == ["keeper"] and r.json()["node"]["ok"]  # not started
        loop.alive = True
        assert http.get("/health").status_code == 200 and http.get("/docs").status_code == 404
        assert 'gridchain_loop_alive{loop="keeper"} 1.0' in http.get("/metrics").text
