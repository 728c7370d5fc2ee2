"""The deployment record: a record of another chain, a file that is no record, and the code check."""

import json

import pytest

from gridchain.config.file import load_config
from gridchain.config.record import DeploymentRecord, checked_address, code_hash, load_record
from gridchain.errors import InputError
from tests.support.pilot import write_pilot

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def refused(fn, message):
    with pytest.raises(InputError) as e:
        fn()
    assert str(e.value) == message


def test_no_record_yet_is_empty_and_save_round_trips(tmp_path):
    config = load_config(write_pilot(tmp_path))
    record = load_record(config, 31337)
    assert record.contracts == {} and record.path == tmp_path / "deployment.json"
    record.put("coordinator", {"address": ADDRESS, "code_hash": "0x00"})
    assert load_record(config, 31337).entry("coordinator")["address"] == ADDRESS


def test_record_of_another_chain(tmp_path):
    config = load_config(write_pilot(tmp_path))
    (tmp_path / "deployment.json").write_text(json.dumps({"chain_id": 1, "contracts": {}}))
    path = tmp_path / "deployment.json"
    refused(
        lambda: load_record(config, 31337), f"deployment.record: {str(path)!r} records chain 1, the node is chain 31337"
    )


@pytest.mark.parametrize("text", ["[]", '{"chain_id": 31337, "contracts": []}'])
def test_file_that_is_not_a_record(tmp_path, text):
    config = load_config(write_pilot(tmp_path))
    path = tmp_path / "deployment.json"
    path.write_text(text)
    refused(lambda: load_record(config, 31337), f"deployment.record: {str(path)!r} is not a deployment record")


def test_record_not_json(tmp_path):
    config = load_config(write_pilot(tmp_path))
    (tmp_path / "deployment.json").write_text("{")
    with pytest.raises(InputError) as e:
        load_record(config, 31337)
    assert e.value.field == "deployment.record"


def record_with(entry):
    return DeploymentRecord(None, {"chain_id": 31337, "contracts": {"coordinator": entry}})


def test_checked_address():
    code = b"\x60\x2a"
    record = record_with({"address": ADDRESS, "code_hash": code_hash(code), "contract": "charging_coordinator"})
    assert checked_address(record, "coordinator", lambda a: code) == ADDRESS
    refused(
        lambda: checked_address(record, "coordinator", lambda a: b""),
        f"deployment.coordinator: no contract at {ADDRESS} (a fresh node, or one restarted without --state?): "
        "run `gridchain deploy coordinator`",
    )
    refused(
        lambda: checked_address(record, "coordinator", lambda a: b"\x00"),
        f"deployment.coordinator: the code at {ADDRESS} is not the charging_coordinator deployed",
    )


def test_checked_address_not_deployed_or_malformed():
    record = DeploymentRecord(None, {"chain_id": 31337, "contracts": {}})
    with pytest.raises(InputError) as e:
        checked_address(record, "v2v", lambda a: b"")
    assert e.value.field == "deployment.v2v" and "run `gridchain deploy v2v`" in e.value.reason
    with pytest.raises(InputError) as e:
        checked_address(record_with({"address": "0x12"}), "coordinator", lambda a: b"")
    assert e.value.field == "deployment.coordinator"
