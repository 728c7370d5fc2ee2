import json
import os
import signal
import socket
import subprocess
import time

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from tests.support.cli_process import gridchain_argv, gridchain_env, rpc

# init code that deploys a 10-byte contract returning 42
RUNTIME = "602a60005260206000f3"
INIT = "600a600c600039600a6000f3" + RUNTIME
DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def start_node(*args):
    """`gridchain node --port 0 --json ARGS` as a process; returns it and its banner."""
    p = subprocess.Popen(
        gridchain_argv("node", "--port", "0", "--json", "--accounts", "2", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=gridchain_env(),
    )
    line = p.stdout.readline()
    if not line:
        p.wait(30)
        raise AssertionError(f"node did not start: {p.stderr.read()}")
    return p, json.loads(line)


def stop_node(p, sig=signal.SIGTERM):
    """Stop the node by PID; its exit code and the JSON lines it logged on stderr."""
    os.kill(p.pid, sig)
    code = p.wait(timeout=30)
    return code, [json.loads(line) for line in p.stderr.read().splitlines()]


def poll(deadline_s, fn):
    end = time.monotonic() + deadline_s
    while (value := fn()) is None:
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)
    return value


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def run(*args):
    return subprocess.run(gridchain_argv(*args), capture_output=True, text=True, timeout=60, env=gridchain_env())


@pytest.mark.integration
@pytest.mark.parametrize("hardfork", ["prague", "osaka"])
def test_node_runs_until_ctrl_c_and_stops_anvil(hardfork):
    p, info = start_node("--hardfork", hardfork)
    try:
        assert info["hardfork"] == hardfork and len(info["accounts"]) == 2
        assert info["gridchain_pid"] == p.pid and info["url"].startswith("http://127.0.0.1:")
        assert int(rpc(info["url"], "eth_chainId"), 16) == 31337
        code, logs = stop_node(p, signal.SIGINT)
        assert code == 0 and logs[-1]["event"] == "stopped" and logs[-1]["saved"] is False
        assert gone(info["pid"])
    finally:
        if p.poll() is None:
            p.kill()


@pytest.mark.integration
def test_node_saves_state_at_sigterm_and_a_restart_has_the_contract(tmp_path):
    state = tmp_path / "node-state.json"
    p, info = start_node("--state", str(state), "--block-time", "1", "--chain-id", "1337")
    try:
        url = info["url"]
        assert info["chain_id"] == 1337 and int(rpc(url, "eth_chainId"), 16) == 1337
        assert info["block_time_s"] == 1 and info["state"] == str(state)
        first = int(rpc(url, "eth_blockNumber"), 16)
        poll(5, lambda: int(rpc(url, "eth_blockNumber"), 16) > first or None)  # mines with no transaction
        tx = rpc(url, "eth_sendTransaction", [{"from": DEV0, "data": "0x" + INIT, "gas": hex(100_000)}])
        receipt = poll(5, lambda: rpc(url, "eth_getTransactionReceipt", [tx]))
        address = receipt["contractAddress"]
        code, logs = stop_node(p)
        assert code == 0 and logs[-1] == {
            "event": "stopped",
            "anvil_pid": info["pid"],
            "state": str(state),
            "saved": True,
        }
        assert state.is_file() and gone(info["pid"])
        p, info = start_node("--state", str(state), "--chain-id", "1337")
        assert rpc(info["url"], "eth_getCode", [address, "latest"]) == "0x" + RUNTIME
        assert stop_node(p)[0] == 0
    finally:
        if p.poll() is None:
            p.kill()


def test_node_port_in_use_is_an_error_naming_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = run("node", "--port", str(port))
    assert p.returncode == 2
    assert p.stderr == f"error: --port: 127.0.0.1:{port} is in use: choose another port (0: any free port)\n"
    assert p.stdout == ""


def test_node_anvil_exiting_at_start_is_an_error_naming_port(monkeypatch):
    """A node that takes the port between the check and anvil's start: anvil exits, and that is bad input."""

    def exits(**kwargs):
        raise RuntimeError("anvil exited with 1: Error: Address already in use (os error 98)")

    monkeypatch.setattr("gridchain.chain.anvil.start_anvil", exits)
    result = CliRunner().invoke(app, ["node", "--port", "8545"])
    assert result.exit_code == 2
    assert result.stderr == "error: --port: 127.0.0.1:8545 is in use: choose another port (0: any free port)\n"


@pytest.mark.integration
def test_node_state_file_that_is_not_anvil_state(tmp_path):
    bad = tmp_path / "state.json"
    bad.write_text("garbage\n")
    p = run("node", "--port", "0", "--state", str(bad))
    assert p.returncode == 2
    assert p.stderr == f"error: --state: anvil cannot load {str(bad)!r} (not an anvil state file?)\n"


@pytest.mark.parametrize(
    "args, error",
    [
        (["--port", "70000"], "error: --port: 70000 is outside 0..65535\n"),
        (["--block-time", "-1"], "error: --block-time: -1 is outside 0..3600\n"),
        (["--chain-id", "0"], "error: --chain-id: 0 is outside 1..9223372036854775807\n"),
        (["--accounts", "0"], "error: --accounts: 0 is outside 1..1000\n"),
        (
            ["--state", "/nonexistent-folder/state.json"],
            "error: --state: folder '/nonexistent-folder' does not exist\n",
        ),
    ],
)
def test_node_bad_options(args, error):
    result = CliRunner().invoke(app, ["node", *args])
    assert result.exit_code == 2 and result.stderr == error


def test_node_state_that_is_a_folder(tmp_path):
    result = CliRunner().invoke(app, ["node", "--state", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr == f"error: --state: {str(tmp_path)!r} is a folder, not a file\n"
