"""`gridchain utility serve` and `gridchain relayer serve` as processes: banner, a real request, Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from eth_account import Account
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.crypto import blind

runner = CliRunner()
ADMIN = "a-long-enough-admin-token-for-tests"


def test_utility_serve_answers_until_ctrl_c(tmp_path):
    member = Account.create()
    community, empty = "0x" + "ab" * 20, "0x" + "cd" * 20
    members = tmp_path / "members.json"
    members.write_text(json.dumps({community: [member.address], empty: []}))
    p = subprocess.Popen(
        [sys.executable, "-m", "gridchain", "utility", "serve", "--members", str(members), "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = json.loads(p.stdout.readline())
        assert banner["service"] == "utility" and banner["members"] == 1 and banner["quota"] == 4
        assert banner["communities"] == 2 and banner["lookahead"] == 1
        health = httpx.get(banner["url"] + "/health", timeout=10).json()
        assert health["utility"] == banner["utility"]
        today = blind.epoch_of(int(time.time()))
        for who in (community, empty):  # a community without members yet is the utility's all the same
            key = httpx.get(f"{banner['url']}/keys/{who}/{today + 1}", timeout=30).json()
            assert len(bytes.fromhex(key["modulus"][2:])) == 256
        stranger = httpx.get(f"{banner['url']}/keys/{'0x' + '11' * 20}/{today}", timeout=10)
        assert stranger.status_code == 404 and stranger.json()["field"] == "community"
        for epoch in (20000, today + 2, -1, "x"):
            far = httpx.get(f"{banner['url']}/keys/{community}/{epoch}", timeout=10)
            assert far.status_code == 400 and far.json()["field"] == "epoch", far.text
        refused = httpx.post(banner["url"] + "/tokens", json={"identity": "nope"}, timeout=10)
        assert refused.status_code == 400 and refused.json()["field"] == "community"
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=30) == 0, p.stderr.read()


def test_services_bad_input(tmp_path):
    r = runner.invoke(app, ["utility", "serve", "--members", str(tmp_path / "missing.json")])
    assert r.exit_code == 2 and r.stderr.startswith("error: --members: cannot read")
    (tmp_path / "m.json").write_text('{"0xab": ["not an address"]}')
    r = runner.invoke(app, ["utility", "serve", "--members", str(tmp_path / "m.json")])
    assert r.exit_code == 2 and r.stderr == "error: --members: '0xab' is not a coordinator address\n"
    (tmp_path / "m.json").write_text(json.dumps({"0x" + "ab" * 20: ["not an address"]}))
    r = runner.invoke(app, ["utility", "serve", "--members", str(tmp_path / "m.json")])
    assert r.exit_code == 2 and "[0]: 'not an address' is not an address" in r.stderr
    r = runner.invoke(app, ["utility", "serve", "--members", str(tmp_path / "m.json"), "--lookahead", "31"])
    assert r.exit_code == 2 and r.stderr == "error: --lookahead: 31 is outside 0..30\n"
    r = runner.invoke(app, ["relayer", "serve", "--coordinator", "0x12"])
    assert (
        r.exit_code == 2
        and r.stderr == "error: --rpc-url: the relayer needs a node (e.g. one started by `gridchain node`)\n"
    )
    r = runner.invoke(
        app, ["relayer", "serve", "--coordinator", "0x12", "--rpc-url", "http://127.0.0.1:9", "--batch", "40"]
    )
    assert r.exit_code == 2 and r.stderr == "error: --batch: 40 is outside 1..32\n"
    relay = ["relayer", "serve", "--coordinator", "0x12", "--rpc-url", "http://127.0.0.1:9"]
    r = runner.invoke(app, [*relay, "--admin-token-file", str(tmp_path / "none")])
    assert r.exit_code == 2 and r.stderr.startswith("error: --admin-token-file: cannot read")
    (tmp_path / "short").write_text("short\n")
    r = runner.invoke(app, [*relay, "--admin-token-file", str(tmp_path / "short")])
    assert r.exit_code == 2
    assert r.stderr == "error: --admin-token-file: the admin token must be at least 16 characters, no spaces\n"
    r = runner.invoke(app, relay, env={"GRIDCHAIN_RELAYER_ADMIN_TOKEN": "short"})
    assert r.exit_code == 2 and r.stderr.startswith("error: GRIDCHAIN_RELAYER_ADMIN_TOKEN: the admin token must")


@pytest.mark.integration
def test_relayer_serve_flushes_only_for_the_admin(tmp_path):
    """The relayer process on anvil: /health shows the flusher; POST /flush needs the admin token (from the
    environment, never argv)."""
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.coordination.client import CoordinatorClient

    with start_anvil(hardfork="osaka", accounts=2) as node:
        gateway = RpcGateway(node.url, node.keys)
        client, _ = CoordinatorClient.deploy(gateway, gateway.accounts[0], gateway.now(), 3600, 500, 100_000)
        env = {**os.environ, "GRIDCHAIN_RELAYER_ADMIN_TOKEN": ADMIN}
        p = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gridchain",
                "relayer",
                "serve",
                "--rpc-url",
                node.url,
                "--coordinator",
                client.address,
                "--port",
                "0",
                "--json",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            banner = json.loads(p.stdout.readline())
            assert banner["service"] == "relayer" and banner["flush"] == "admin token"
            health = httpx.get(banner["url"] + "/health", timeout=10).json()
            assert health["ok"] and health["flusher"]["alive"] and health["coordinator"] == client.address
            for headers in ({}, {"Authorization": "Bearer " + ADMIN[:-1] + "x"}, {"Authorization": ADMIN}):
                denied = httpx.post(banner["url"] + "/flush", headers=headers, timeout=10)
                assert denied.status_code == 401 and denied.json()["field"] == "authorization"
            ok = httpx.post(banner["url"] + "/flush", headers={"Authorization": "Bearer " + ADMIN}, timeout=30)
            assert ok.status_code == 200 and ok.json() == {"tickets": []}
            walk = httpx.get(banner["url"] + "/requests/1", timeout=10)
            assert walk.status_code == 404 and walk.json()["field"] == "id"
        finally:
            p.send_signal(signal.SIGINT)
            assert p.wait(timeout=30) == 0, p.stderr.read()
