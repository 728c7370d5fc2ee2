import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest


def rpc(url, method):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())["result"]


@pytest.mark.integration
@pytest.mark.parametrize("hardfork", ["prague", "osaka"])
def test_node_runs_until_ctrl_c_and_stops_anvil(hardfork):
    p = subprocess.Popen(
        [sys.executable, "-m", "gridchain", "node", "--port", "0", "--hardfork", hardfork, "--json", "--accounts", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(p.stdout.readline())
        assert info["hardfork"] == hardfork and len(info["accounts"]) == 2
        assert int(rpc(info["url"], "eth_chainId"), 16) == 31337
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=30) == 0
        assert "anvil stopped" in p.stderr.read()
        with pytest.raises(ProcessLookupError):
            os.kill(info["pid"], 0)
    finally:
        if p.poll() is None:
            p.kill()


def test_node_bad_port():
    p = subprocess.run(
        [sys.executable, "-m", "gridchain", "node", "--port", "70000"], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 2 and p.stderr == "error: --port: 70000 is outside 0..65535\n"
