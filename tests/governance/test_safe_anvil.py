"""Governance on anvil: `gridchain deploy all --owner SAFE` hands every gridchain contract with an owner to a 2-of-3
Safe 1.4.1 (deployed here from safe-eth-py's published bytecode), and the clearing house (which `deploy` leaves out)
is deployed over the deployment's coin, metering and market and handed to it too; each then takes one owner action
through a Safe transaction with 2 owner signatures, and refuses 1 signature (GS020) and a non-owner's (GS026); a Safe
owner rotates (swapOwner) without any redeployment; the coordinator's hot key posts within its bound only until revoked.
`--owner` refuses bad input before deploying anything (exit 2, one line naming the option and the value)."""

import json

import pytest
from eth_utils import keccak
from typer.testing import CliRunner

from gridchain.chain.anvil import start_anvil
from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import ChainRevert
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.config.file import load_config
from gridchain.config.network import connect
from gridchain.crypto.keys import address_of
from gridchain.governance import SafeClient, deploy_safe_contracts, is_safe, published
from gridchain.governance.actions import OWNER_ACTIONS, settlement_args, settlement_meter
from gridchain.market.client import CallMarketClient
from gridchain.market.settlement.client import SettlementClient
from gridchain.monitoring.log_client import AccessLogClient
from tests.support.pilot import init_pilot

pytestmark = pytest.mark.integration

ZERO = "0x" + "00" * 20
runner = CliRunner()


@pytest.fixture(scope="module")
def chain():
    with start_anvil(accounts=6) as node:
        gateway = RpcGateway(node.url, node.keys)
        yield node, gateway, deploy_safe_contracts(gateway, gateway.accounts[0])


def gridchain(*args):
    from gridchain.cli import app

    return runner.invoke(app, [str(a) for a in args])


def pilot(tmp_path, node, members):
    config = init_pilot(tmp_path / "pilot", 2, rpc_url=node.url)
    listed = ", ".join(f'"{m}"' for m in members)
    config.write_text(config.read_text() + f'\n[committee]\nmembers = [{listed}]\nrule = "two-thirds"\n')
    return config


def subject(name: str) -> str:
    return address_of(keccak(text=f"governance test subject {name}"))


def safe_owner_action(safe: SafeClient, keys, relayer: str, contract: str, who: str, at: dict[str, str]) -> None:
    """OWNER_ACTIONS[contract] on `at[contract]` through the 2-of-3 Safe (owners keys[1:4]): refused with one
    signature (GS020) and with a stranger's (GS026), effective with two owners'; its prerequisite first (`at`:
    contract name -> address)."""
    gateway, action, artifact, address = safe.gateway, OWNER_ACTIONS[contract], compile_contract(contract), at[contract]
    if action.before is not None:  # e.g. the settlement's meter, registered in metering (the Safe's too)
        other, fn, args = action.before
        safe.act(compile_contract(other), at[other], fn, args(who), keys[1:3], relayer)
    with pytest.raises(ChainRevert, match="GS020"):  # one signature of two
        safe.act(artifact, address, action.fn, action.args(who), keys[1:2], relayer)
    with pytest.raises(ChainRevert, match="GS026"):  # an owner's and a stranger's
        safe.act(artifact, address, action.fn, action.args(who), [keys[1], keys[4]], relayer)
    assert not action.expect(gateway.call(artifact, address, action.check, action.check_args(who)))
    safe.act(artifact, address, action.fn, action.args(who), keys[2:4], relayer)
    assert action.expect(gateway.call(artifact, address, action.check, action.check_args(who)))


def test_the_published_code_is_what_runs(chain):
    node, gateway, contracts = chain
    for address, name in ((contracts.singleton, "Safe"), (contracts.factory, "ProxyFactory")):
        assert gateway.code(address) == published(name)[1] and len(published(name)[1]) > 1_000
    assert gateway.code(contracts.multi_send) == published("MultiSendCallOnly")[1]  # the batches' (act_batch)
    assert is_safe(gateway, contracts.singleton) is None  # the singleton is locked (threshold 1, no owners)
    assert is_safe(gateway, gateway.accounts[0]) is None


def test_a_safe_governs_every_contract(tmp_path, chain):
    node, gateway, contracts = chain
    keys, accounts = node.keys, gateway.accounts
    safe, _ = SafeClient.create(gateway, contracts, accounts[1:4], 2, accounts[0], salt=1)
    assert is_safe(gateway, safe.address) == (accounts[1:4], 2)
    config = pilot(tmp_path, node, accounts[:3])
    result = gridchain("deploy", "all", "--owner", safe.address, "--json", "--config", config)
    assert result.exit_code == 0, result.stderr
    deployed = json.loads(result.stdout)["contracts"]
    recorded = json.loads((config.parent / "deployment.json").read_text())["contracts"]
    owned = {name: d for name, d in deployed.items() if d["contract"] in OWNER_ACTIONS}
    assert set(owned) == {"coordinator", "v2v", "metering", "coin", "committee"}  # the market has no owner
    relayer = accounts[5]
    artifacts = {name: compile_contract(d["contract"]) for name, d in owned.items()}
    codes = {name: gateway.code(d["address"]) for name, d in owned.items()}
    at = {d["contract"]: d["address"] for d in deployed.values()}
    for name, d in owned.items():
        assert d["owner"] == safe.address and d["owner_safe"] == {"owners": accounts[1:4], "threshold": 2}
        assert recorded[name]["owner"] == safe.address and recorded[name]["owner_safe"] == d["owner_safe"]
        assert str(gateway.call(artifacts[name], d["address"], "owner", [])).lower() == safe.address.lower()
        safe_owner_action(safe, keys, relayer, d["contract"], subject(name), at)
    assert set(deployed) - set(owned) == {"market"} and "owner_safe" not in deployed["market"]

    # the clearing house, which `deploy` does not deploy: over the deployment's coin, metering and call market
    horizon = CallMarketClient(gateway, at["call_market"]).params().horizon
    args = settlement_args(at, safe.address, horizon)  # the Safe is the house, too
    settlement, _ = SettlementClient.deploy(gateway, relayer, *args)  # (account 0 funded the pilot: its nonce moved)
    gateway.transact(settlement.artifact, settlement.address, "transfer_ownership", [safe.address], relayer)
    assert settlement.view("owner").lower() == safe.address.lower()
    with pytest.raises(ChainRevert, match="ownable: caller is not the owner"):
        settlement.set_meter(relayer, subject("settlement"), 0, settlement_meter(subject("settlement")))
    at["market_settlement"] = settlement.address
    safe_owner_action(safe, keys, relayer, "market_settlement", subject("settlement"), at)
    assert settlement.meter_of(subject("settlement"), 0) == settlement_meter(subject("settlement")).lower()
    # the access log (monitoring), which `deploy` does not deploy yet: its node set rotated by the Safe
    log, _ = AccessLogClient.deploy(gateway, relayer, [address_of(keccak(text=f"log node {i}")) for i in range(3)], 2)
    gateway.transact(log.artifact, log.address, "transfer_ownership", [safe.address], relayer)
    with pytest.raises(ChainRevert, match="access_log: caller is not the owner"):
        log.set_nodes(relayer, [subject("log")], 1)
    at["access_log"] = log.address
    safe_owner_action(safe, keys, relayer, "access_log", subject("log"), at)
    assert [a.lower() for a in log.nodes()] == [subject("log").lower()] and log.epoch() == 1
    assert {d["contract"] for d in owned.values()} | {"market_settlement", "access_log"} == set(OWNER_ACTIONS)

    # the deploying account no longer acts alone
    network = connect(load_config(config), ["owner"])
    coordinator = artifacts["coordinator"]
    with pytest.raises(ChainRevert, match="coordinator: caller is not the owner"):
        network.gateway.transact(
            coordinator, owned["coordinator"]["address"], "set_member", [subject("x"), True], network.address("owner")
        )

    # rotation: owner 1 out, account 4 in; the old key no longer counts, the new one does; nothing redeployed
    safe.swap_owner(accounts[1], accounts[4], keys[1:3], relayer)
    assert safe.owners() == [accounts[4], *accounts[2:4]] and safe.threshold() == 2
    address = owned["coordinator"]["address"]
    with pytest.raises(ChainRevert, match="GS026"):
        safe.act(coordinator, address, "post_capacity", [5, 1_234], keys[1:3], relayer)
    safe.act(coordinator, address, "post_capacity", [5, 1_234], [keys[2], keys[4]], relayer)
    assert gateway.call(coordinator, address, "posted_capacity", [5]) == 1_235
    assert {name: gateway.code(d["address"]) for name, d in owned.items()} == codes

    # the hot key: bounded, revocable
    poster = accounts[5]
    safe.act(coordinator, address, "set_capacity_poster", [poster, 60_000], keys[2:4], relayer)
    gateway.transact(coordinator, address, "post_capacity", [6, 60_000], poster)
    assert gateway.call(coordinator, address, "posted_capacity", [6]) == 60_001
    with pytest.raises(ChainRevert, match="coordinator: capacity above the poster's bound"):
        gateway.transact(coordinator, address, "post_capacity", [6, 60_001], poster)
    with pytest.raises(ChainRevert, match="coordinator: caller is not the owner"):
        gateway.transact(coordinator, address, "set_member", [poster, True], poster)
    safe.act(coordinator, address, "set_capacity_poster", [ZERO, 0], [keys[4], keys[3]], relayer)
    with pytest.raises(ChainRevert, match="coordinator: caller is not the owner or poster"):
        gateway.transact(coordinator, address, "post_capacity", [6, 1], poster)
    assert gateway.call(coordinator, address, "posted_capacity", [6]) == 60_001


def test_owner_option_refuses_bad_input_before_deploying(tmp_path, chain):
    node, gateway, _ = chain
    config = pilot(tmp_path, node, gateway.accounts[:3])
    account = gateway.accounts[0]
    cases = [
        ("0x1234", "error: --owner: '0x1234' is not an address\n"),
        (ZERO, f"error: --owner: {ZERO!r} is the zero address (it would renounce ownership)\n"),
        (
            account,
            f"error: --owner: {account} is not a Safe on chain 31337 (getOwners and getThreshold do not answer there); "
            "pass --owner-not-safe to hand the contracts to it anyway\n",
        ),
    ]
    for value, message in cases:
        result = gridchain("deploy", "all", "--owner", value, "--config", config)
        assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")
        assert not (config.parent / "deployment.json").exists()  # nothing deployed, nothing recorded


def test_owner_not_safe_hands_over_to_an_account_and_is_idempotent(tmp_path, chain):
    node, gateway, _ = chain
    config = pilot(tmp_path, node, gateway.accounts[:3])
    target = gateway.accounts[4]
    args = ("deploy", "coordinator", "--owner", target, "--owner-not-safe", "--json", "--config", config)
    first = gridchain(*args)
    assert first.exit_code == 0, first.stderr
    entry = json.loads(first.stdout)["contracts"]["coordinator"]
    assert entry["owner"] == target and entry["owner_safe"] is None
    again = json.loads(gridchain(*args).stdout)["contracts"]["coordinator"]  # reused, owned already: nothing to do
    assert again["reused"] is True and again["owner"] == target
    plain = gridchain(*[a for a in args if a != "--json"])
    assert plain.exit_code == 0 and f"owned by {target} (not checked as a Safe)" in plain.stdout
    artifact = compile_contract("charging_coordinator")
    assert str(gateway.call(artifact, entry["address"], "owner", [])).lower() == target.lower()
    other = gateway.accounts[3]
    result = gridchain("deploy", "coordinator", "--owner", other, "--owner-not-safe", "--config", config)
    assert result.exit_code == 2 and result.stderr == (
        f"error: deployment.coordinator: owned by {target}, not by [accounts] owner "
        f"{connect(load_config(config), ['owner']).address('owner')}: it cannot be handed to {other}\n"
    )
