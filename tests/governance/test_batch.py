"""Batched owner actions (SafeClient.act_batch) on the embedded chain: several owner actions on two contracts in one
SafeTx through MultiSendCallOnly (the nonce moves by one); all or nothing when one call reverts; too few
signatures refused (GS020); a DELEGATECALL entry refused by MultiSendCallOnly; code other than the published
MultiSendCallOnly refused before signing; the packed encoding is safe-eth-py's."""

import boa
import pytest
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from safe_eth.safe.multi_send import MultiSend, MultiSendOperation, MultiSendTx

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import ChainRevert, encode_call
from gridchain.crypto.keys import address_of
from gridchain.governance import SafeClient, deploy_safe_contracts, multi_send_encoding, published

KEYS = [keccak(text=f"governance batch test owner {i}") for i in range(3)]
OWNERS = [address_of(k) for k in KEYS]
SALTS: list[int] = []
MODULUS = [1 << 255, *([7] * 6), 1]  # 2048 bits, odd: a key the coordinator takes (it checks no more)


@pytest.fixture(scope="module")
def world():
    with boa.swap_env(boa.Env()):
        gateway = BoaGateway(accounts=2)
        contracts = deploy_safe_contracts(gateway, gateway.accounts[0])
        yield gateway, contracts


def fresh(world):
    """A 2-of-3 Safe owning a new coordinator and a new metering contract."""
    gateway, contracts = world
    SALTS.append(len(SALTS))
    deployer = gateway.accounts[0]
    safe, _ = SafeClient.create(gateway, contracts, OWNERS, 2, deployer, salt=SALTS[-1])
    coordinator, metering = compile_contract("charging_coordinator"), compile_contract("metering")
    at = {
        "coordinator": gateway.deploy(coordinator, [gateway.now(), 3600, 500, 1_000], deployer).contract_address,
        "metering": gateway.deploy(metering, [172_800], deployer).contract_address,
    }
    for name, artifact in (("coordinator", coordinator), ("metering", metering)):
        gateway.transact(artifact, at[name], "transfer_ownership", [safe.address], deployer)
    return safe, coordinator, metering, at


def member(i: int) -> str:
    return address_of(keccak(text=f"governance batch member {i}"))


def test_multi_send_is_deployed_and_checked(world):
    gateway, contracts = world
    assert contracts.multi_send and gateway.code(contracts.multi_send) == published("MultiSendCallOnly")[1]
    assert len(published("MultiSendCallOnly")[1]) > 200


def test_several_owner_actions_in_one_safe_tx(world):
    gateway, _ = world
    safe, coordinator, metering, at = fresh(world)
    epoch = gateway.now() // 86_400 + 1
    calls = [
        (coordinator, at["coordinator"], "set_member", [member(0), True]),
        (coordinator, at["coordinator"], "set_member", [member(1), True]),
        (coordinator, at["coordinator"], "register_epoch_key", [epoch, MODULUS]),
        (coordinator, at["coordinator"], "set_capacity_poster", [member(2), 5_000]),
        (metering, at["metering"], "set_gateway", [member(3), True]),
    ]
    receipt = safe.act_batch(calls, KEYS[1:], gateway.accounts[1])
    assert receipt.status == 1 and safe.nonce() == 1  # one SafeTx
    assert all(gateway.call(coordinator, at["coordinator"], "members", [member(i)]) for i in (0, 1))
    assert any(bytes(gateway.call(coordinator, at["coordinator"], "epoch_key", [epoch])))
    poster, bound = gateway.call(coordinator, at["coordinator"], "capacity_poster")
    assert (str(poster).lower(), bound) == (member(2).lower(), 5_000)
    assert gateway.call(metering, at["metering"], "is_gateway", [member(3)]) is True


@pytest.mark.parametrize("failing", ["first", "last"])
def test_a_failing_call_reverts_the_whole_batch(world, failing):
    """The first call on a metering contract the Safe does not own, or the last a key the coordinator refuses
    (even): the SafeTx reverts, nothing changed, the nonce kept."""
    gateway, _ = world
    safe, coordinator, metering, at = fresh(world)
    epoch = gateway.now() // 86_400 + 1
    not_owned = gateway.deploy(metering, [172_800], gateway.accounts[0]).contract_address
    calls = [
        (metering, not_owned if failing == "first" else at["metering"], "set_gateway", [member(5), True]),
        (coordinator, at["coordinator"], "set_member", [member(6), True]),
        (coordinator, at["coordinator"], "register_epoch_key", [epoch, MODULUS[:-1] + [int(failing != "last")]]),
    ]
    with pytest.raises(ChainRevert, match="GS013"):
        safe.act_batch(calls, KEYS[:2], gateway.accounts[1])
    assert safe.nonce() == 0
    assert gateway.call(metering, at["metering"], "is_gateway", [member(5)]) is False
    assert gateway.call(coordinator, at["coordinator"], "members", [member(6)]) is False
    assert not any(bytes(gateway.call(coordinator, at["coordinator"], "epoch_key", [epoch])))
    safe.act_batch(calls[1:2], KEYS[:2], gateway.accounts[1])  # the same Safe, a good batch: it was the call
    assert safe.nonce() == 1 and gateway.call(coordinator, at["coordinator"], "members", [member(6)]) is True


def test_too_few_signatures_are_refused(world):
    gateway, _ = world
    safe, coordinator, _, at = fresh(world)
    calls = [(coordinator, at["coordinator"], "set_member", [member(i), True]) for i in range(3)]
    with pytest.raises(ChainRevert, match="GS020"):
        safe.act_batch(calls, KEYS[:1], gateway.accounts[1])
    assert safe.nonce() == 0 and gateway.call(coordinator, at["coordinator"], "members", [member(0)]) is False


def test_a_delegatecall_entry_is_refused(world):
    """MultiSendCallOnly refuses an entry with operation 1: a batch cannot run foreign code as the Safe."""
    gateway, _ = world
    safe, coordinator, _, at = fresh(world)
    call = encode_call(coordinator, "set_member", [member(7), True])
    entry = MultiSendTx(MultiSendOperation.DELEGATE_CALL, to_checksum_address(at["coordinator"]), 0, call)
    data = encode_call(published("MultiSendCallOnly")[0], "multiSend", [bytes(entry.encoded_data)])
    tx = safe.transaction(safe.multi_send, data, operation=1)
    for key in KEYS[:2]:
        tx.sign("0x" + key.hex())
    with pytest.raises(ChainRevert, match="GS013"):
        safe.execute(tx, gateway.accounts[1])
    assert safe.nonce() == 0


def test_other_code_as_multi_send_is_refused(world):
    gateway, contracts = world
    safe, coordinator, _, at = fresh(world)
    impostor = SafeClient(gateway, safe.address, at["coordinator"])
    calls = [(coordinator, at["coordinator"], "set_member", [member(8), True])]
    with pytest.raises(ValueError, match="is not the published MultiSendCallOnly"):
        impostor.act_batch(calls, KEYS[:2], gateway.accounts[1])
    with pytest.raises(ValueError, match="empty batch"):
        safe.act_batch([], KEYS[:2], gateway.accounts[1])
    assert safe.nonce() == 0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=20, max_size=20), st.binary(max_size=300)), min_size=1, max_size=6))
def test_the_encoding_is_safe_eth_pys(calls):
    ours = multi_send_encoding([("0x" + to.hex(), data) for to, data in calls])
    theirs = b"".join(
        bytes(MultiSendTx(MultiSendOperation.CALL, to_checksum_address(to), 0, data).encoded_data) for to, data in calls
    )
    assert ours == theirs
    decoded = MultiSend.from_bytes(ours)
    assert [(bytes.fromhex(t.to[2:]), bytes(t.data)) for t in decoded] == list(calls)
