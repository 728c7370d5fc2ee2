import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from tests.support.processes import gridchain

runner = CliRunner()


@pytest.fixture(scope="module")
def closed_chain():
    """anvil with a coordinator whose slots 0..2 the keeper has closed."""
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.coordination.client import CoordinatorClient
    from gridchain.coordination.parties.keeper import Keeper

    node = start_anvil(accounts=4)
    gateway = RpcGateway(node.url, node.keys)
    owner, keeper, *members = gateway.accounts
    client, _ = CoordinatorClient.deploy(gateway, owner, gateway.now(), 3600, 500, 90_000)
    for m in members:
        client.set_member(owner, m)
        client.set_request_limit(owner, m, 2)  # each member sends two requests a slot below
    for slot in range(3):
        for i, m in enumerate(members * 2):
            client.submit_request(m, 20_000 + 9_000 * i + slot, (300 * i + 7 * slot) % 1000, 1 + (i + slot) % 3)
        gateway.advance_time(client.slot_end(slot) - gateway.now())
        Keeper(client, keeper).close_due()
    yield node, client
    node.stop()


@pytest.mark.integration
def test_verify_a_slot_on_a_node(closed_chain):
    node, client = closed_chain
    p = gridchain("verify", "--slot", "2", "--address", client.address, "--rpc-url", node.url, "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["ok"] and out["mismatches"] == [] and len(out["allocations"]) >= 4


@pytest.mark.integration
def test_verify_reports_a_tampered_record(closed_chain, monkeypatch):
    node, client = closed_chain
    import gridchain.coordination.parties.verifier as verifier

    real = verifier.fetch_records

    def tampered(c):
        records = real(c)
        records.closed[1]["granted_w"] -= 1000  # a log that claims less energy was granted
        return records

    monkeypatch.setattr(verifier, "fetch_records", tampered)
    r = runner.invoke(app, ["verify", "--slot", "1", "--address", client.address, "--rpc-url", node.url])
    assert r.exit_code == 1
    assert "MISMATCH slot 1: granted_w on chain" in r.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--slot", "1", "--address", "0x12"], "error: --address: '0x12' is not an address"),
        (["--slot", "-1", "--address", "0x" + "11" * 20], "error: --slot: -1 is outside"),
        (["--slot", "1", "--address", "0x" + "11" * 20], "error: --rpc-url: needed"),
        (
            ["--slot", "1", "--address", "0x" + "11" * 20, "--rpc-url", "http://127.0.0.1:9"],
            "error: --rpc-url: cannot reach an EVM node",
        ),
    ],
)
def test_verify_bad_input(args, message, monkeypatch):
    monkeypatch.delenv("GRIDCHAIN_RPC_URL", raising=False)
    r = runner.invoke(app, ["verify", *args])
    assert r.exit_code == 2 and r.stderr.startswith(message), r.stderr
