"""A local anvil node from the npm package (node_modules/@foundry-rs/anvil-linux-amd64), on 127.0.0.1.

Started by `gridchain node` and by the tests that need a real node, and stopped by PID.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic

ROOT = Path(__file__).resolve().parents[3]
HARDFORKS = ("prague", "osaka")
DEV_MNEMONIC = "test test test test test test test test test test test junk"  # anvil's public dev accounts
DEV_BALANCE_WEI = 10_000 * 10**18  # what anvil gives each of them (the embedded chain gives the same)


def anvil_binary() -> Path:
    path = Path(os.environ.get("GRIDCHAIN_ANVIL", ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"))
    if not path.is_file():
        raise FileNotFoundError(f"anvil not found at {path}: run `make setup` (npm ci installs it)")
    return path


def dev_keys(count: int) -> list[str]:
    """The private keys anvil funds by default (BIP-44 children of its public test mnemonic)."""
    seed = seed_from_mnemonic(DEV_MNEMONIC, "")
    return ["0x" + key_from_seed(seed, f"m/44'/60'/0'/0/{i}").hex() for i in range(count)]


def dev_addresses(count: int) -> list[str]:
    return [Account.from_key(k).address for k in dev_keys(count)]


def _die_with_parent() -> None:
    """In the child before exec (Linux): get SIGTERM when the parent dies, however it dies, so that a
    killed command never leaves its node running. (The kernel watches the thread that started the node:
    start it from a thread that outlives it, as every caller here does from the main thread.)"""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port` already (binding as a server does, SO_REUSEADDR on)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _rpc(url: str, method: str, params: list | None = None, timeout: float = 2.0) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())["result"]


@dataclass
class AnvilNode:
    process: subprocess.Popen
    port: int
    hardfork: str
    accounts: int
    keys: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the node by its PID: SIGTERM, then SIGKILL if it does not exit in time."""
        if self.process.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_anvil(
    port: int | None = None,
    hardfork: str = "prague",
    accounts: int = 10,
    timeout: float = 30.0,
    block_time: float | None = None,
    state: Path | None = None,
    chain_id: int | None = None,
    state_interval: int | None = None,
    extra_args: Sequence[str] = (),
) -> AnvilNode:
    """Start anvil on 127.0.0.1 and wait until it answers JSON-RPC.

    `block_time`: mine a block every so many seconds (the chain's clock then follows the wall clock) instead
    of one per transaction; `state`: load the chain from this file at start and save it there at exit;
    `chain_id`: another chain id than anvil's 31337 (tests of what is refused off the development chain);
    `state_interval`: with `state`, also save it every so many seconds (a SIGKILL then loses only the last ones);
    `extra_args`: more of anvil's options (e.g. `--enable-tx-gas-limit`, EIP-7825's cap under Osaka)."""
    if hardfork not in HARDFORKS:
        raise ValueError(f"hardfork {hardfork!r} is not one of {', '.join(HARDFORKS)}")
    if port and port_in_use(port):  # else the probe below would find the other node and report success
        raise OSError(errno.EADDRINUSE, f"127.0.0.1:{port} is in use")
    port = port or free_port()
    cmd = [
        str(anvil_binary()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--hardfork",
        hardfork,
        "--accounts",
        str(accounts),
        "--mnemonic",
        DEV_MNEMONIC,
        "--silent",
    ]
    if block_time is not None:
        cmd += ["--block-time", f"{block_time:g}"]
    if state is not None:
        cmd += ["--state", str(state)]
        if state_interval:
            cmd += ["--state-interval", str(state_interval)]  # whole seconds only
    if chain_id is not None:
        cmd += ["--chain-id", str(chain_id)]
    cmd += list(extra_args)
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
    node = AnvilNode(process, port, hardfork, accounts)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"anvil exited with {process.returncode}: {process.stderr.read().decode()[-500:]}")
        try:
            _rpc(node.url, "eth_chainId")
            if process.poll() is None:  # the answer came from this anvil, not one that beat it to the port
                break
        except OSError:
            if time.monotonic() > deadline:
                node.stop()
                raise TimeoutError(f"anvil did not answer on {node.url} within {timeout} s") from None
            time.sleep(0.05)
    node.keys = dev_keys(accounts)
    return node
