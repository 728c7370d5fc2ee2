"""`gridchain keeper run|status` and `gridchain verify --slots` on a pilot written by `gridchain init`, against
anvil mining a block a second, with 4-second slots: the keeper daemon as a process, stopped by PID."""

import json
import os
import queue
import re
import threading
import time

import httpx
import pytest
from typer.testing import CliRunner

from gridchain.chain.anvil import start_anvil
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.cli import app
from gridchain.coordination.client import CoordinatorClient
from tests.support.pilot import edit_toml, init_pilot
from tests.support.processes import gridchain, start, stop

runner = CliRunner()


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    """A deployed pilot on anvil (block_time 1, slots of 4 s) with three members allowed two requests a slot."""
    node = start_anvil(block_time=1, accounts=6)
    try:
        config = init_pilot(tmp_path_factory.mktemp("pilot"), 2, rpc_url=node.url, slot_length_s=4)
        r = runner.invoke(app, ["deploy", "coordinator", "--config", str(config)])
        assert r.exit_code == 0, r.output + r.stderr
        record = json.loads((config.parent / "deployment.json").read_text())
        owner_key = _owner_key(config)
        members = RpcGateway(node.url, [owner_key, *node.keys[3:6]])
        client = CoordinatorClient(members, record["contracts"]["coordinator"]["address"])
        for m in members.accounts[1:]:
            client.set_member(members.accounts[0], m)
            client.set_request_limit(members.accounts[0], m, 2)
        yield node, config, client, members.accounts[1:]
    finally:
        node.stop()


def _owner_key(config):
    from gridchain.config.accounts import account_key
    from gridchain.config.file import load_config

    return account_key(load_config(config), "owner", 31337)


def submit(client, members, count, seed):
    """`count` (at most 3) requests from the members into one slot, sent in its first seconds: a request
    estimated in one slot and mined in the next would run out of gas (a slot's first request costs more)."""
    length = int(client.view("SLOT_LENGTH"))
    deadline = time.monotonic() + 3 * length
    while client.gateway.now() % length != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    slots = [
        client.submit_request(members[i], 20_000 + 7_000 * i + seed, (97 * i + seed) % 1000, 1 + i % 3)[0].slot
        for i in range(count)
    ]
    return max(slots)


class Lines:
    """A process's stdout lines, read by a thread, waited for with a deadline."""

    def __init__(self, process):
        self.queue, self.seen = queue.Queue(), []
        threading.Thread(target=lambda: [self.queue.put(line) for line in process.stdout], daemon=True).start()

    def until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = json.loads(self.queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"no such line within {timeout} s; seen: {self.seen}")


@pytest.mark.integration
def test_keeper_run_closes_every_slot_then_verify_agrees(pilot):
    node, config, client, members = pilot
    submit(client, members, 2, seed=1)
    edit_toml(config, "keeper.listen", '"127.0.0.1:0"')  # /health and /metrics on any free port
    p = start("keeper", "run", "--config", config, "--json")
    try:
        lines = Lines(p)
        banner = lines.until(lambda line: "service" in line, 60)
        assert banner["pid"] == p.pid and banner["coordinator"] == client.address
        health = httpx.get(banner["url"] + "/health", timeout=10)
        assert health.status_code == 200 and health.json()["keeper"]["alive"] and health.json()["node"]["ok"]
        assert 'gridchain_loop_alive{loop="keeper"} 1.0' in httpx.get(banner["url"] + "/metrics", timeout=10).text
        lines.until(lambda line: line.get("event") == "closed" and line["requests"] > 0, 30)
        later = submit(client, members, 2, seed=2)  # into a later slot, while the keeper runs
        last = lines.until(lambda line: line.get("event") == "closed" and line["slot"] >= later + 1, 40)
        assert last["gas"] > 21_000 and last["tx"].startswith("0x")
        assert not [line for line in lines.seen if line.get("event") == "error"], lines.seen
    finally:
        stop(p)
    closed = [line["slot"] for line in lines.seen if line.get("event") == "closed"]
    assert closed == list(range(closed[0], closed[-1] + 1))  # in order, none skipped
    with pytest.raises(ProcessLookupError):
        os.kill(p.pid, 0)
    done = client.next_slot_to_close - 1
    ok = gridchain("verify", "--config", str(config), "--slots", f"0..{done}", "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    out = json.loads(ok.stdout)
    assert out["ok"] and out["counts"]["ok"] == done + 1 and out["slots"][later]["requests"] >= 2
    unclosed = gridchain("verify", "--config", str(config), "--slots", f"{done}..{done + 50}")
    assert unclosed.returncode == 3, unclosed.stdout + unclosed.stderr
    assert "not yet closed" in unclosed.stdout and "MISMATCH" not in unclosed.stdout
    assert max(len(line) for line in unclosed.stdout.splitlines()) <= 80  # piped: 80 columns


@pytest.mark.integration
def test_keeper_status(pilot):
    node, config, client, _ = pilot
    r = runner.invoke(app, ["keeper", "status", "--config", str(config), "--json"])
    assert r.exit_code == 0, r.output + r.stderr
    out = json.loads(r.stdout)
    assert out["next_slot_to_close"] == client.next_slot_to_close and out["keeper_balance_wei"] > 0
    assert out["due_slots"] == max(0, out["current_slot"] - out["next_slot_to_close"])
    text = runner.invoke(app, ["keeper", "status", "--config", str(config)])
    assert text.exit_code == 0 and "next slot" in text.stdout and "behind" in text.stdout


@pytest.mark.integration
def test_verify_a_wrong_contract_or_none(pilot, tmp_path):
    node, config, client, _ = pilot
    eoa = client.gateway.accounts[0]
    r = runner.invoke(app, ["verify", "--slots", "0..1", "--address", eoa, "--rpc-url", node.url])
    assert r.exit_code == 2 and r.stderr == f"error: --address: no contract at {eoa} on {node.url}\n"
    from gridchain.chain.compiler import compile_contract
    from tests.support.attackers import FIXTURES

    other = client.gateway.deploy(
        compile_contract("close_relay", directory=FIXTURES), [client.address], client.gateway.accounts[0]
    )
    r = runner.invoke(app, ["verify", "--slots", "0..1", "--address", other.contract_address, "--rpc-url", node.url])
    assert r.exit_code == 2 and r.stderr.startswith(
        f"error: --address: {other.contract_address} does not answer as a coordinator"
    ), r.stderr
    # a record whose code is not the coordinator's
    copy = tmp_path / "gridchain.toml"
    copy.write_text(
        config.read_text()
        .replace('"keys/', f'"{config.parent}/keys/')
        .replace('"secrets/', f'"{config.parent}/secrets/')
    )
    record = json.loads((config.parent / "deployment.json").read_text())
    record["contracts"]["coordinator"]["address"] = other.contract_address
    (tmp_path / "deployment.json").write_text(json.dumps(record))
    r = runner.invoke(app, ["verify", "--slots", "0..1", "--config", str(copy)])
    assert r.exit_code == 2 and r.stderr.startswith("error: deployment.coordinator: the code at"), r.stderr
    (tmp_path / "deployment.json").unlink()
    for command in (["verify", "--slots", "0..1"], ["keeper", "status"], ["keeper", "run"]):
        r = runner.invoke(app, [*command, "--config", str(copy)])
        assert r.exit_code == 2 and r.stderr.startswith("error: deployment.coordinator: not deployed"), r.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--slots", "5..2"], "error: --slots: '5..2' is empty: 5 comes after 2\n"),
        (["--slots", "x"], "error: --slots: 'x' is not A..B (two slot numbers, e.g. 0..23)\n"),
        (["--slots", "-1..3"], "error: --slots: '-1..3' is not A..B (two slot numbers, e.g. 0..23)\n"),
        (["--slots", "0..100000"], "error: --slots: '0..100000' holds 100001 slots, more than 100000\n"),
        (["--slots", "0..1", "--slot", "1"], "error: --slots: give --slots or --slot, not both\n"),
        ([], "error: --slots: needed: the slots to verify, A..B (or --slot N)\n"),
        (["--slots", "0..1", "--config", "/nonexistent/g.toml"], "error: --config: '/nonexistent/g.toml' does not"),
    ],
)
def test_verify_bad_slots(args, message, monkeypatch):
    monkeypatch.delenv("GRIDCHAIN_COORDINATOR", raising=False)
    r = runner.invoke(app, ["verify", *args])
    assert r.exit_code == 2 and r.stderr.startswith(message), r.stderr


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace("poll_s = 5.0", "poll_s = 0"), "error: keeper.poll_s: 0 is outside 0.1..3600.0\n"),
        (lambda t: t.replace("page = 1024", "page = 0"), "error: keeper.page: 0 is outside 1..1024\n"),
        (lambda t: t.replace("max_log_range = 2000", 'max_log_range = "all"'), "error: keeper.max_log_range: "),
        (lambda t: t.replace("poll_s = 5.0", "pol_s = 5.0"), "error: keeper.pol_s: unknown option"),
        (lambda t: t.replace('listen = ""', 'listen = "8702"'), "error: keeper.listen: '8702' is not host:port"),
        (lambda t: re.sub(r"\nkeeper = .*", "", t), "error: accounts.keeper: is not configured"),
        (lambda t: re.sub(r'rpc_url = ".*"', 'rpc_url = "http://127.0.0.1:9"', t), "error: network.rpc_url: cannot"),
        (lambda t: re.sub(r'rpc_url = ".*"', 'rpc_url = "127.0.0.1:8545"', t), "error: network.rpc_url: '127.0.0.1"),
    ],
)
def test_keeper_run_bad_config(edit, message, tmp_path):
    config = init_pilot(tmp_path / "pilot", 2, rpc_url="http://127.0.0.1:9", slot_length_s=4)
    config.write_text(edit(config.read_text()))
    r = runner.invoke(app, ["keeper", "run", "--config", str(config)])
    assert r.exit_code == 2 and r.stderr.startswith(message), r.stderr


@pytest.mark.integration
def test_keeper_run_refuses_a_status_port_in_use(pilot):
    import socket

    node, config, client, _ = pilot
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        edit_toml(config, "keeper.listen", f'"127.0.0.1:{port}"')
        try:
            r = runner.invoke(app, ["keeper", "run", "--config", str(config)])
        finally:
            edit_toml(config, "keeper.listen", '""')
    assert r.exit_code == 2 and r.stderr.startswith(f"error: keeper.listen: cannot listen on 127.0.0.1:{port}: "), (
        r.stderr
    )
