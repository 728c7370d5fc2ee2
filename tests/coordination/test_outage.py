"""A node outage of 15 s under the utility and the keeper as processes (anvil stopped, then started again on
the same port from its --state): no loop ends, the utility's /health answers 503 naming the node (then the
duty) meanwhile and 200 once the node is back, /metrics answers Prometheus text with the expected names, both
loops log their errors and their recovery; then the keeper is SIGKILLed and restarted: every slot is closed once,
in order."""

import json
import os
import signal
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gridchain.chain.anvil import start_anvil
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.coordination.client import CoordinatorClient
from tests.support.pilot import init_pilot
from tests.support.processes import Processes, free_ports, json_lines, wait_until

OUTAGE_S = 15.0
METRICS = {
    "gridchain_service_info",
    "gridchain_http_requests",
    "gridchain_http_request_duration_seconds",
    "gridchain_loop_steps",
    "gridchain_loop_errors",
    "gridchain_loop_consecutive_errors",
    "gridchain_loop_alive",
    "gridchain_loop_last_success_timestamp_seconds",
    "gridchain_utility_transactions",
}


def health(url: str) -> tuple[int, dict]:
    r = httpx.get(url + "/health", timeout=10)
    return r.status_code, r.json()


def metrics(url: str) -> dict:
    """{family name: {labels: value}} of the service's /metrics."""
    text = httpx.get(url + "/metrics", timeout=10).text
    return {
        f.name: {frozenset(s.labels.items()): s.value for s in f.samples} for f in text_string_to_metric_families(text)
    }


@pytest.mark.integration
@pytest.mark.pilot
def test_the_loops_outlive_a_node_outage_and_health_tells_it(tmp_path):
    state = tmp_path / "node-state.json"
    node = start_anvil(block_time=1, accounts=6, state=state)
    procs = None
    try:
        edits = {"utility.listen": '"127.0.0.1:0"', "keeper.poll_s": "1.0"}
        config = init_pilot(tmp_path / "p", 2, free_ports(), node.url, edits, slot_length_s=4)
        procs = Processes(config)
        deployed = procs.run("deploy", "coordinator")
        assert deployed.returncode == 0, deployed.stderr
        url = procs.start("utility", "utility", "serve")["url"]
        keeper = procs.start("keeper", "keeper", "run")
        client = CoordinatorClient(RpcGateway(node.url, []), keeper["coordinator"])
        wait_until(lambda: health(url)[0] == 200 and client.next_slot_to_close >= 1, 30, "health and a first close")
        assert METRICS <= set(metrics(url))

        node.stop()  # SIGTERM: anvil saves its state
        began = time.monotonic()
        code, body = wait_until(lambda: (h := health(url))[0] == 503 and h, 10, "a 503 naming the node")
        assert body["failed"][0] == "node" and not body["node"]["ok"] and body["duty"]["alive"]
        code, body = wait_until(lambda: "duty" in (h := health(url))[1]["failed"] and h, 15, "the duty failing")
        assert (
            body["duty"]["consecutive_errors"] >= 1
            and body["duty"]["alive"]
            and "Connection" in body["duty"]["last_error"]
        )
        seen = metrics(url)
        assert seen["gridchain_loop_errors"][frozenset({("loop", "utility-duty")})] >= 1
        assert (
            seen["gridchain_http_requests"][frozenset({("method", "GET"), ("route", "/health"), ("status", "503")})]
            >= 1
        )
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - began)))
        assert all(p.poll() is None for p in procs.daemons.values())  # nothing ended

        node = start_anvil(port=node.port, block_time=1, accounts=6, state=state)
        after = client.next_slot_to_close
        wait_until(lambda: health(url)[0] == 200, 40, "/health back to 200")
        caught_up = lambda: client.next_slot_to_close > max(after, int(client.view("current_slot")) - 1)  # noqa: E731
        wait_until(caught_up, 40, "the keeper closing again, every due slot")

        killed = procs.daemons.pop("keeper")
        first_run = lines_until(killed, "recovered", 60)  # its first whole round after the outage has ended
        os.kill(killed.pid, signal.SIGKILL)  # SIGKILL, then a new keeper on the same chain
        killed.wait(10)
        first_run += json_lines(killed.stdout.read())
        procs.start("keeper", "keeper", "run")
        resumed = client.next_slot_to_close
        wait_until(lambda: client.next_slot_to_close > resumed, 30, "the restarted keeper closing")
        second_run = json_lines(procs.stop("keeper")[0])
        utility_out, utility_err = procs.stop("utility")
        closed = [e.args["slot"] for e in client.closes()]
    finally:
        if procs is not None:
            procs.kill_all()

        node.stop()
    assert utility_err.endswith("utility stopped\n")
    check_logs(json_lines(utility_out), first_run, second_run)
    assert closed == list(range(len(closed)))  # every slot once, in order: nothing closed twice, none skipped


def lines_until(p, event: str, timeout_s: float) -> list[dict]:
    """A daemon's JSON lines up to and including its first `event` line (the keeper logs `recovered` only once
    the round that closes every slot the outage left due has ended; killed before it, it would never say so)."""
    lines: list[dict] = []

    def next_is_event() -> bool:
        lines.append(json.loads(p.stdout.readline()))
        return lines[-1]["event"] == event

    wait_until(next_is_event, timeout_s, f"the {event!r} line")
    return lines


def check_logs(utility: list[dict], first_run: list[dict], second_run: list[dict]) -> None:
    """Each loop logged its errors (attempts counting up) and its recovery; the keepers' closes never repeat."""
    errors = [line for line in utility if line["event"] == "error"]
    assert errors and all(line["action"] == "error" and line["loop"] == "utility-duty" for line in errors)
    assert [line["attempt"] for line in errors][:3] == [1, 2, 3] and errors[0]["service"] == "utility"
    assert any(line["event"] == "recovered" for line in utility)
    keeper_errors = [line for line in first_run if line["event"] == "error"]
    assert keeper_errors and keeper_errors[0]["loop"] == "keeper" and keeper_errors[0]["retry_in_s"] == 1.0
    assert any(line["event"] == "recovered" for line in first_run)
    closes = [line["slot"] for line in first_run + second_run if line["event"] == "closed"]
    assert len(closes) == len(set(closes)) and closes == sorted(closes)
    assert second_run[-1]["event"] == "stopped"
