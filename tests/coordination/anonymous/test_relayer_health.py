"""The relayer service's flusher and /health: failing flushes back off exponentially up to a cap (one JSON line
each), /health answers 503 while the node does not answer or flushes fail, and `stop` lets the flush in
progress finish (the service's SIGTERM)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import httpx

from gridchain.coordination.anonymous.service.relayer import Flusher, relayer_app
from gridchain.net.server import LoopbackServer
from tests.support.processes import wait_until


class StubRelayer:
    """What the flusher and /health use of a relayer; its flushes fail while `failing`."""

    account, client, receipt_timeout_s = "0x" + "aa" * 20, SimpleNamespace(address="0x" + "cc" * 20), 1.0

    def __init__(self) -> None:
        self.failing, self.flushes = True, 0
        self.started, self.release = threading.Event(), threading.Event()
        self.block = False

    def flush_due(self) -> bool:
        return True

    def flush(self) -> list:
        if self.block:
            self.started.set()
            self.release.wait(5)
        if self.failing:
            raise ConnectionError("the node went away")
        self.flushes += 1
        return []

    def queue(self) -> tuple[int, int | None]:
        return 2, int(time.time() * 1000) - 5_000


def test_failing_flushes_back_off_to_the_cap_and_health_tells(tmp_path):
    relayer, lines = StubRelayer(), []
    flusher = Flusher(relayer, 0.01, aligned=True, backoff_cap_s=0.04, log_line=lines.append).start()
    server = LoopbackServer(relayer_app(relayer, flusher=flusher, probe=lambda: None)).start()
    http = httpx.Client(base_url=server.url, timeout=10)
    try:
        wait_until(lambda: len(lines) >= 4, 10, "four failed flushes")
        assert [line["retry_in_s"] for line in lines[:4]] == [0.02, 0.04, 0.04, 0.04]
        assert {line["event"] for line in lines} == {"flush_error"} and "the node went away" in lines[0]["error"]
        failing = http.get("/health")
        assert failing.status_code == 503 and failing.json()["flusher"]["failing"] >= 4
        assert failing.json()["queue"]["depth"] == 2 and failing.json()["queue"]["oldest_age_s"] >= 5
        relayer.failing = False
        wait_until(lambda: relayer.flushes, 10, "a flush that succeeds")
        healthy = http.get("/health")
        assert healthy.status_code == 200 and healthy.json()["ok"] and healthy.json()["node"] == {"reachable": True}
    finally:
        http.close()
        server.stop()
        flusher.stop()


def test_health_is_503_when_the_node_does_not_answer():
    relayer = StubRelayer()
    relayer.failing = False
    with LoopbackServer(relayer_app(relayer, probe=lambda: "connection refused")) as server:
        answer = httpx.get(server.url + "/health", timeout=10)
    assert answer.status_code == 503
    assert answer.json()["node"] == {"reachable": False, "error": "connection refused"}


def test_stop_lets_the_flush_in_progress_finish():
    relayer = StubRelayer()
    relayer.failing, relayer.block = False, True
    flusher = Flusher(relayer, 0.01).start()
    assert relayer.started.wait(5)
    threading.Timer(0.2, relayer.release.set).start()
    flusher.stop()
    assert relayer.flushes == 1 and not flusher.alive
