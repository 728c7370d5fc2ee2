"""`gridchain utility serve` and `gridchain relayer serve` as processes: banner, a real request, Ctrl-C."""

import json
import signal
import subprocess
import sys

import httpx
from eth_account import Account
from typer.testing import CliRunner

from gridchain.cli import app

runner = CliRunner()


def test_utility_serve_answers_until_ctrl_c(tmp_path):
    member = Account.create()
    community = "0x" + "ab" * 20
    members = tmp_path / "members.json"
    members.write_text(json.dumps({community: [member.address]}))
    p = subprocess.Popen([sys.executable, "-m", "gridchain", "utility", "serve", "--members", str(members),
                          "--port", "0", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        banner = json.loads(p.stdout.readline())
        assert banner["service"] == "utility" and banner["members"] == 1 and banner["quota"] == 4
        health = httpx.get(banner["url"] + "/health", timeout=10).json()
        assert health["utility"] == banner["utility"]
        key = httpx.get(f"{banner['url']}/keys/{community}/20000", timeout=30).json()
        assert len(bytes.fromhex(key["modulus"][2:])) == 256
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
    assert r.exit_code == 2 and "is not an address" in r.stderr
    r = runner.invoke(app, ["relayer", "serve", "--coordinator", "0x12"])
    assert r.exit_code == 2 and r.stderr == "error: --rpc-url: the relayer needs a node (e.g. one started by `gridchain node`)\n"
    r = runner.invoke(app, ["relayer", "serve", "--coordinator", "0x12", "--rpc-url", "http://127.0.0.1:9", "--batch", "40"])
    assert r.exit_code == 2 and r.stderr == "error: --batch: 40 is outside 1..32\n"
