"""`gridchain utility serve` and `gridchain relayer serve` as processes: banner, a real request, Ctrl-C."""

import json
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


@pytest.mark.integration
def test_relayer_serve_flushes_only_for_the_admin(tmp_path):
    """The relayer process from gridchain.toml on anvil: /health shows the aligned flusher; POST /flush needs
    the admin token of relayer.admin_token_file (never argv); SIGTERM stops it with exit 0."""
    from gridchain.chain.anvil import start_anvil
    from tests.support.cli_pilot import free_port_pair, gridchain, init_pilot, start

    with start_anvil(hardfork="osaka", accounts=1) as node:
        config = init_pilot(tmp_path / "pilot", 0, free_port_pair(), node.url)
        assert gridchain("deploy", "coordinator", "--config", str(config)).returncode == 0
        admin = (config.parent / "secrets/relayer-admin-token").read_text().strip()
        p = start("relayer", "serve", "--config", str(config), "--json")
        try:
            banner = json.loads(p.stdout.readline())
            assert banner["service"] == "relayer" and banner["flush"] == "admin token" and banner["pid"] == p.pid
            health = httpx.get(banner["url"] + "/health", timeout=10).json()
            assert health["ok"] and health["flusher"]["alive"] and health["flusher"]["aligned"]
            assert health["coordinator"] == banner["coordinator"]
            for headers in ({}, {"Authorization": "Bearer " + admin[:-1] + "x"}, {"Authorization": admin}):
                denied = httpx.post(banner["url"] + "/flush", headers=headers, timeout=10)
                assert denied.status_code == 401 and denied.json()["field"] == "authorization"
            ok = httpx.post(banner["url"] + "/flush", headers={"Authorization": "Bearer " + admin}, timeout=30)
            assert ok.status_code == 200 and ok.json() == {"tickets": []}
            walk = httpx.get(banner["url"] + "/requests/1", timeout=10)
            assert walk.status_code == 404 and walk.json()["field"] == "id"
        finally:
            p.send_signal(signal.SIGTERM)
            assert p.wait(timeout=30) == 0, p.stderr.read()
