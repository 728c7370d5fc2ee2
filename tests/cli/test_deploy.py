"""`gridchain deploy`: idempotent, refuses what it must not silently replace, and checks the code on chain."""

import json

import pytest
from typer.testing import CliRunner

from gridchain.chain.anvil import dev_keys, free_port, start_anvil
from gridchain.config.file import load_config
from gridchain.config.network import connect
from gridchain.config.record import checked_address, load_record
from gridchain.errors import InputError
from tests.support.pilot import write_pilot
from tests.support.processes import rpc, wait_until

pytestmark = pytest.mark.integration

RUNTIME = "602a60005260206000f3"  # a 10-byte contract that returns 42
INIT = "600a600c600039600a6000f3" + RUNTIME


@pytest.fixture(scope="module")
def node():
    with start_anvil(accounts=2) as anvil:
        yield anvil


def deploy(config, *args):
    from gridchain.cli import app

    return CliRunner().invoke(app, ["deploy", "coordinator", "--config", str(config), *args])


def deployed(config, *args):
    result = deploy(config, *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["contracts"]["coordinator"]


def check(config, name="coordinator"):
    """What every command using a contract does: the recorded address, after checking the code there."""
    network = connect(load_config(config))
    record = load_record(load_config(config), network.settings.chain_id)
    return checked_address(record, name, network.gateway.code)


def one_error_line(result, message):
    assert result.exit_code == 2 and result.stderr == f"error: {message}\n" and result.stdout == ""


def test_deploy_is_idempotent_and_redeploy_deploys_anew(tmp_path, node):
    config = write_pilot(tmp_path, node.url)
    first = deployed(config, "--json")
    assert first["reused"] is False and check(config) == first["address"]
    again = deployed(config, "--json")
    assert again["reused"] is True and again["address"] == first["address"]
    new = deployed(config, "--redeploy", "--json")
    assert new["reused"] is False and new["address"] != first["address"] and check(config) == new["address"]


def test_changed_settings_refused_naming_the_deployment(tmp_path, node):
    config = write_pilot(tmp_path, node.url)
    address = deployed(config, "--json")["address"]
    config.write_text(config.read_text().replace("beta1_pm = 500", "beta1_pm = 700"))
    one_error_line(
        deploy(config),
        f"deployment.coordinator: deployed at {address} with other settings (beta1_pm changed): "
        "pass --redeploy to deploy a new one",
    )
    assert deployed(config, "--redeploy", "--json")["address"] != address


def test_record_pointing_at_another_contract(tmp_path, node):
    config = write_pilot(tmp_path, node.url)
    deployed(config, "--json")
    dev0 = rpc(node.url, "eth_accounts")[0]
    tx = rpc(node.url, "eth_sendTransaction", [{"from": dev0, "data": "0x" + INIT}])
    receipt = wait_until(lambda: rpc(node.url, "eth_getTransactionReceipt", [tx]), 10, "the receipt", 0.05)
    other = receipt["contractAddress"]
    record = json.loads((tmp_path / "deployment.json").read_text())
    record["contracts"]["coordinator"]["address"] = other
    (tmp_path / "deployment.json").write_text(json.dumps(record))
    from eth_utils import to_checksum_address

    other = to_checksum_address(other)
    with pytest.raises(InputError) as e:
        check(config)
    assert str(e.value) == f"deployment.coordinator: the code at {other} is not the charging_coordinator deployed"
    one_error_line(
        deploy(config),
        f"deployment.coordinator: the code at {other} is not the charging_coordinator recorded: "
        "fix the record, or pass --redeploy to deploy a new one",
    )


def test_record_of_another_chain(tmp_path, node):
    config = write_pilot(tmp_path, node.url)
    (tmp_path / "deployment.json").write_text(json.dumps({"chain_id": 1337, "contracts": {}}))
    path = tmp_path / "deployment.json"
    one_error_line(deploy(config), f"deployment.record: {str(path)!r} records chain 1337, the node is chain 31337")


def test_node_restarted_without_state_redeploys_and_checks_say_no_contract(tmp_path):
    port = free_port()
    with start_anvil(port=port, accounts=2) as first:
        config = write_pilot(tmp_path, first.url)
        address = deployed(config, "--json")["address"]
    with start_anvil(port=port, accounts=2):  # the same URL, a fresh chain: the record points at nothing
        with pytest.raises(InputError) as e:
            check(config)
        assert str(e.value) == (
            f"deployment.coordinator: no contract at {address} (a fresh node, or one restarted without --state?): "
            "run `gridchain deploy coordinator`"
        )
        again = deployed(config, "--json")
        assert again["reused"] is False and check(config) == again["address"]


def test_off_the_dev_chain_dev_keys_and_dev_funding_refused(tmp_path):
    with start_anvil(accounts=2, chain_id=1337) as node:
        config = write_pilot(tmp_path / "a", node.url, 1337, {"owner": dev_keys(1)[0]}, dev_funding=False)
        one_error_line(
            deploy(config),
            "accounts.owner: holds one of anvil's public development keys: refused on chain id 1337 (only 31337)",
        )
        config = write_pilot(tmp_path / "b", node.url, 1337, dev_funding=True)
        one_error_line(
            deploy(config), "keys.dev_funding: anvil's development account exists only on chain id 31337, not 1337"
        )


def test_unknown_target(tmp_path):
    from gridchain.cli import app

    result = CliRunner().invoke(app, ["deploy", "coordinater", "--config", str(write_pilot(tmp_path))])
    assert result.exit_code == 2 and result.stderr.startswith("error: TARGET: 'coordinater' is not one of coordinator")


def test_missing_config(tmp_path):
    result = deploy(tmp_path / "none.toml")
    one_error_line(
        result,
        f"--config: {str(tmp_path / 'none.toml')!r} does not exist (write one with `gridchain init`, or pass --config)",
    )
