import os
import signal
import socket

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from tests.support.processes import gridchain, json_lines, kill, read_banner, rpc, start, stop, wait_until

# init code that deploys a 10-byte contract returning 42
RUNTIME = "602a60005260206000f3"
INIT = "600a600c600039600a6000f3" + RUNTIME
DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def start_node(*args):
    """`gridchain node --port 0 --json ARGS` as a process; returns it and its banner."""
    p = start("node", "--port", "0", "--json", "--accounts", "2", *args)
    return p, read_banner(p)


def stop_node(p, sig=signal.SIGTERM):
    """Stop the node by PID (it must exit 0); the JSON lines it logged on stderr."""
    return json_lines(stop(p, sig, timeout=30)[1])


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.integration
@pytest.mark.parametrize("hardfork", ["prague", "osaka"])
def test_node_runs_until_ctrl_c_and_stops_anvil(hardfork):
    p, info = start_node("--hardfork", hardfork)
    try:
        assert info["hardfork"] == hardfork and len(info["accounts"]) == 2
        assert info["gridchain_pid"] == p.pid and info["url"].startswith("http://127.0.0.1:")
        assert int(rpc(info["url"], "eth_chainId"), 16) == 31337
        logs = stop_node(p, signal.SIGINT)
        assert logs[-1]["event"] == "stopped" and logs[-1]["saved"] is False
        assert gone(info["pid"])
    finally:
        kill(p)


@pytest.mark.integration
def test_node_saves_state_at_sigterm_and_a_restart_has_the_contract(tmp_path):
    state = tmp_path / "node-state.json"
    p, info = start_node("--state", str(state), "--block-time", "1", "--chain-id", "1337")
    try:
        url = info["url"]
        assert info["chain_id"] == 1337 and int(rpc(url, "eth_chainId"), 16) == 1337
        assert info["block_time_s"] == 1 and info["state"] == str(state)
        first = int(rpc(url, "eth_blockNumber"), 16)
        wait_until(lambda: int(rpc(url, "eth_blockNumber"), 16) > first, 5, "a block", 0.1)  # with no transaction
        tx = rpc(url, "eth_sendTransaction", [{"from": DEV0, "data": "0x" + INIT, "gas": hex(100_000)}])
        receipt = wait_until(lambda: rpc(url, "eth_getTransactionReceipt", [tx]), 5, "the receipt", 0.1)
        address = receipt["contractAddress"]
        logs = stop_node(p)
        assert logs[-1] == {
            "event": "stopped",
            "anvil_pid": info["pid"],
            "state": str(state),
            "saved": True,
        }
        assert state.is_file() and gone(info["pid"])
        p, info = start_node("--state", str(state), "--chain-id", "1337")
        assert rpc(info["url"], "eth_getCode", [address, "latest"]) == "0x" + RUNTIME
        stop_node(p)
    finally:
        kill(p)


def deploy(url):
    """Deploy the 42-contract; its address once mined."""
    tx = rpc(url, "eth_sendTransaction", [{"from": DEV0, "data": "0x" + INIT, "gas": hex(100_000)}])
    return wait_until(lambda: rpc(url, "eth_getTransactionReceipt", [tx]), 5, "the receipt", 0.1)["contractAddress"]


@pytest.mark.integration
def test_node_sigkilled_with_its_anvil_keeps_what_it_saved_a_second_before(tmp_path):
    state = tmp_path / "node-state.json"
    p, info = start_node("--state", str(state), "--block-time", "1")
    try:
        assert info["state_interval_s"] == 1
        address = deploy(info["url"])
        mined = int(rpc(info["url"], "eth_blockNumber"), 16)
        wait_until(lambda: (tmp_path / "node-state.json.good").is_file() and state.stat().st_size, 10, "a dump")
        wait_until(lambda: int(rpc(info["url"], "eth_blockNumber"), 16) >= mined + 3, 10, "3 more blocks", 0.1)
        os.kill(info["pid"], signal.SIGKILL)  # the whole node at once: anvil gets no chance to save at exit
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        wait_until(lambda: gone(info["pid"]), 10, "anvil gone")
        p, info = start_node("--state", str(state), "--port", info["url"].rsplit(":", 1)[1])
        assert rpc(info["url"], "eth_getCode", [address, "latest"]) == "0x" + RUNTIME
        stop_node(p)
    finally:
        kill(p)


@pytest.mark.integration
def test_node_sigkilled_alone_takes_its_anvil_with_it(tmp_path):
    p, info = start_node("--state", str(tmp_path / "s.json"))
    try:
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        wait_until(lambda: gone(info["pid"]), 15, "anvil to die with its parent")  # and save at its SIGTERM
        wait_until(lambda: (tmp_path / "s.json").is_file(), 10, "the state saved at anvil's exit")
    finally:
        kill(p)


@pytest.mark.integration
def test_node_state_cut_short_by_a_kill_is_restored_from_the_last_complete_dump(tmp_path):
    state = tmp_path / "node-state.json"
    p, info = start_node("--state", str(state))
    try:
        address = deploy(info["url"])
        stop_node(p)
        good = state.read_bytes()
        assert (tmp_path / "node-state.json.good").read_bytes() == good
        state.write_bytes(good[: len(good) // 2])  # what a SIGKILL in the middle of a dump leaves
        p = start("node", "--port", "0", "--json", "--accounts", "2", "--state", str(state))
        info = read_banner(p)
        assert rpc(info["url"], "eth_getCode", [address, "latest"]) == "0x" + RUNTIME
        logs = stop_node(p)
        assert logs[0] == {"event": "restored", "state": str(state), "backup": str(state) + ".good"}
    finally:
        kill(p)


def test_node_port_in_use_is_an_error_naming_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = gridchain("node", "--port", str(port))
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
    p = gridchain("node", "--port", "0", "--state", str(bad))
    assert p.returncode == 2
    assert p.stderr == f"error: --state: anvil cannot load {str(bad)!r} (not an anvil state file?)\n"


@pytest.mark.parametrize(
    "args, error",
    [
        (["--port", "70000"], "error: --port: 70000 is outside 0..65535\n"),
        (["--block-time", "-1"], "error: --block-time: -1 is outside 0..3600\n"),
        (["--chain-id", "0"], "error: --chain-id: 0 is outside 1..9223372036854775807\n"),
        (["--accounts", "0"], "error: --accounts: 0 is outside 1..1000\n"),
        (["--state-interval", "-1"], "error: --state-interval: -1 is outside 0..3600\n"),
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
