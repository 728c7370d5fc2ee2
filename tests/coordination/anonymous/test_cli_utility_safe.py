"""`gridchain utility serve` and `gridchain utility epoch-keys` when a 2-of-3 Safe owns the coordinator (anvil
mining every second): the service refuses to start until the Safe names [accounts] poster the capacity poster,
then posts capacity with the poster's key and registers no key, failing its step (naming the epoch) while today's
key is missing; `epoch-keys` registers the coming days' keys through the Safe with two owners' keystores, in one
batched Safe transaction (through a MultiSendCallOnly it deploys and records, the chain having none), after which
the service is healthy and warns of the few days left; more days later go in batches of BATCH_EPOCHS. Without a
Safe, `epoch-keys` sends as the owner."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from eth_utils import keccak
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.crypto.blind import epoch_of
from gridchain.crypto.keys import address_of
from gridchain.crypto.keystore import write_keystore
from tests.support.pilot import SCRYPT_N, init_pilot
from tests.support.processes import free_ports, json_lines, kill, read_banner, start, stop, wait_until

pytestmark = pytest.mark.integration

runner = CliRunner()
ZERO = "0x" + "00" * 20
BOUND_W = 100_000


@pytest.fixture(scope="module")
def node():
    from gridchain.chain.anvil import start_anvil

    with start_anvil(block_time=1) as n:
        yield n


def gridchain(*args):
    return runner.invoke(app, [str(a) for a in args])


def pilot(folder: Path, node) -> Path:
    config = init_pilot(folder, 2, free_ports(), node.url, {"utility.listen": '"127.0.0.1:0"'})
    assert gridchain("deploy", "coordinator", "--config", config).exit_code == 0
    return config


def record(config: Path) -> dict:
    return json.loads((config.parent / "deployment.json").read_text())["contracts"]


def error(result) -> str:
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, (result.exit_code, result.output)
    return result.stderr.removeprefix("error: ").strip()


def test_epoch_keys_as_the_owner_account(tmp_path, node):
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.coordination.client import CoordinatorClient

    config = pilot(tmp_path / "p", node)
    args = ("utility", "epoch-keys", "--config", config)
    assert error(gridchain(*args, "--days", 0)) == "--days: 0 is outside 1..366"
    assert error(gridchain(*args, "--days", 2, "--signer", "x.json")).startswith(
        "--signer: the coordinator's owner is [accounts] owner, not a Safe"
    )
    result = gridchain(*args, "--days", 2, "--json")
    assert result.exit_code == 0, result.output
    out, today = json.loads(result.stdout), epoch_of(int(time.time()))
    assert out["via"] == "owner" and [e["epoch"] for e in out["epochs"]] == [today, today + 1]
    assert all(e["tx"].startswith("0x") for e in out["epochs"])
    client = CoordinatorClient(RpcGateway(node.url, []), record(config)["coordinator"]["address"])
    assert all(any(client.epoch_key(e)) for e in (today, today + 1)) and not any(client.epoch_key(today + 2))
    again = json.loads(gridchain(*args, "--days", 3, "--json").stdout)  # the first two are on chain already
    assert [e["tx"] is None for e in again["epochs"]] == [True, True, False]


def test_the_utility_under_a_safe(tmp_path, node, monkeypatch):
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.config.accounts import account_address
    from gridchain.config.file import load_config
    from gridchain.coordination.anonymous.cli import epoch_keys
    from gridchain.coordination.client import CoordinatorClient
    from gridchain.governance import SafeClient, deploy_safe_contracts, published

    config = pilot(tmp_path / "p", node)
    config.write_text(config.read_text().replace("\ncapacity_w = 50000 ", "\ncapacity_w = 42000 "))  # to post
    gateway = RpcGateway(node.url, node.keys[1:2])  # not anvil's first account: `deploy` funds from it
    sender = gateway.accounts[0]
    keys = [keccak(text=f"utility safe owner {i}") for i in range(4)]  # three owners and a stranger
    safe, _ = SafeClient.create(
        gateway, deploy_safe_contracts(gateway, sender), [address_of(k) for k in keys[:3]], 2, sender
    )
    password = (config.parent / "secrets/keystore-password").read_text().strip()
    signer = [tmp_path / f"owner{i}.json" for i in range(4)]
    for path, key in zip(signer, keys, strict=True):
        write_keystore(path, "0x" + key.hex(), password, SCRYPT_N)
    assert gridchain("deploy", "coordinator", "--owner", safe.address, "--config", config).exit_code == 0
    client = CoordinatorClient(gateway, record(config)["coordinator"]["address"])
    poster = account_address(load_config(config), "poster")

    # the service needs the capacity poster named by the Safe
    serve = ("utility", "serve", "--config", config)
    assert error(gridchain(*serve)) == (
        f"accounts.poster: {poster} is not the coordinator's capacity poster ({ZERO}): the Safe {safe.address} "
        "names it with set_capacity_poster"
    )
    text = config.read_text()
    config.write_text("\n".join(line for line in text.splitlines() if not line.startswith("poster =")) + "\n")
    assert error(gridchain(*serve)).startswith(
        f"accounts.poster: is not configured: the coordinator's owner {safe.address}"
    )
    config.write_text(text)
    safe.act(client.artifact, client.address, "set_capacity_poster", [poster, BOUND_W], keys[:2], sender)

    # epoch-keys refuses too few signers and a stranger's keystore before sending anything
    keys_cmd = ("utility", "epoch-keys", "--days", 3, "--config", config)
    assert error(gridchain(*keys_cmd, "--signer", signer[0])) == (
        f"--signer: the Safe {safe.address} needs 2 owners' signatures: 1 keystore(s) given"
    )
    assert error(gridchain(*keys_cmd, "--signer", signer[0], "--signer", signer[3])) == (
        f"--signer: {address_of(keys[3])} ({signer[3]}) is not an owner of the Safe {safe.address}"
    )
    assert error(gridchain(*keys_cmd, "--signer", signer[1], "--signer", signer[1])) == (
        f"--signer: {address_of(keys[1])} ({signer[1]}) is given twice: one signature per owner"
    )
    (tmp_path / "junk.json").write_text("{}")
    assert error(gridchain(*keys_cmd, "--signer", signer[1], "--signer", tmp_path / "junk.json")).startswith(
        f"--signer ({tmp_path / 'junk.json'}): "
    )
    today = epoch_of(int(time.time()))
    assert not any(client.epoch_key(today)) and safe.nonce() == 1  # nothing sent but the poster's naming

    p = start(*serve, "--json")
    try:
        banner = read_banner(p)
        assert banner["owner"] == safe.address and banner["sender"] == poster
        assert banner["epoch_keys"] == "registered ahead by the Safe"
        first, length = client.slot_clock()

        def posted_and_failing():
            current = (client.gateway.now() - first) // length
            duty = httpx.get(banner["url"] + "/health", timeout=10).json()["duty"]
            posted = client.capacity_in_force(current + 1) == 42_000
            return duty if posted and duty["last_error"] else None

        duty = wait_until(posted_and_failing, 60, "the poster's capacity post and the missing key's error")
        assert f"no key registered for epoch {today} " in duty["last_error"]
        assert duty["epoch_keys"]["days_ahead"] == 0 and "0 day(s)" in duty["epoch_keys"]["warning"]

        result = gridchain(*keys_cmd, "--signer", signer[2], "--signer", signer[0], "--json")
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        assert out["via"] == "Safe" and out["owner"] == safe.address
        assert [e["epoch"] for e in out["epochs"]] == [today, today + 1, today + 2]
        assert all(any(client.epoch_key(today + k)) for k in range(3)) and safe.nonce() == 2  # poster + 1 batch
        assert len({e["tx"] for e in out["epochs"]}) == 1 and out["epochs"][0]["tx"].startswith("0x")
        multi_send = record(config)["multi_send"]["address"]
        assert client.gateway.code(multi_send) == published("MultiSendCallOnly")[1]

        last = {}

        def healthy():
            last.update(httpx.get(banner["url"] + "/health", timeout=10).json())
            duty = last["duty"]
            return (
                dict(last)
                if last["ok"] and not duty["consecutive_errors"] and duty["epoch_keys"]["days_ahead"] == 3
                else None  # a check before the batch was mined may have seen none; the next one sees 3
            )

        try:
            report = wait_until(healthy, 60, "the service healthy once the Safe registered the keys")
        except AssertionError:
            raise AssertionError(last) from None
        keys_state = report["duty"]["epoch_keys"]
        assert "3 day(s)" in keys_state["warning"]  # fewer than 7: a warning
        again = json.loads(gridchain(*keys_cmd, "--signer", signer[0], "--signer", signer[1], "--json").stdout)
        assert [e["tx"] for e in again["epochs"]] == [None] * 3 and safe.nonce() == 2
    finally:
        out, err = stop(p) if p.poll() is None else ("", "")
        kill(p)
    logged = json_lines(out)
    assert not [d for d in logged if d["action"] == "register_epoch_key"]
    assert [d["days_ahead"] for d in logged if d["action"] == "epoch_keys_low"][-1] == 3
    assert any(d["action"] == "recovered" for d in logged)

    # three more days, the service stopped, batches of 2: two more batches, through the recorded MultiSendCallOnly
    monkeypatch.setattr(epoch_keys, "BATCH_EPOCHS", 2)
    more = gridchain(*keys_cmd[:3], 6, *keys_cmd[4:], "--signer", signer[0], "--signer", signer[1], "--json")
    txs = [e["tx"] for e in json.loads(more.stdout)["epochs"]]
    assert txs[:3] == [None] * 3 and txs[3] == txs[4] != txs[5] and txs[5].startswith("0x")
    assert all(any(client.epoch_key(today + k)) for k in range(6)) and not any(client.epoch_key(today + 6))
    assert safe.nonce() == 4 and record(config)["multi_send"]["address"] == multi_send
