"""The Safe client on the embedded chain: the SafeTx hash safe-eth-py computes is the Safe's own, owner rotation by the
Safe's self-calls, replay refused, and hostile signatures refused with the Safe's codes, nothing executed."""

import boa
import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import ChainRevert
from gridchain.crypto.keys import address_of
from gridchain.governance import SafeClient, deploy_safe_contracts, is_safe

KEYS = [keccak(text=f"governance client test owner {i}") for i in range(5)]
OWNERS = [address_of(k) for k in KEYS]
SALTS: list[int] = []
SAFE_AND_TARGET: dict = {}  # the hostile-signature test's one Safe, made at its first example


@pytest.fixture(scope="module")
def world():
    with boa.swap_env(boa.Env()):
        gateway = BoaGateway(accounts=2)
        contracts = deploy_safe_contracts(gateway, gateway.accounts[0])
        artifact = compile_contract("charging_coordinator")
        yield gateway, contracts, artifact


def fresh(world, threshold=2):
    """A 2-of-3 Safe owning a new coordinator."""
    gateway, contracts, artifact = world
    SALTS.append(len(SALTS))  # one proxy per salt
    safe, _ = SafeClient.create(gateway, contracts, OWNERS[:3], threshold, gateway.accounts[0], salt=SALTS[-1])
    coordinator = gateway.deploy(artifact, [gateway.now(), 3600, 500, 1_000], gateway.accounts[0]).contract_address
    gateway.transact(artifact, coordinator, "transfer_ownership", [safe.address], gateway.accounts[0])
    return safe, coordinator


def test_safe_tx_hash_is_the_safes(world):
    gateway, _, artifact = world
    safe, coordinator = fresh(world)
    tx = safe.transaction(coordinator, safe.call_data(artifact, "post_capacity", [1, 5]))
    args = [tx.to, 0, tx.data, 0, 0, 0, 0, tx.gas_token, tx.refund_receiver, safe.nonce()]
    assert bytes(tx.safe_tx_hash) == bytes(safe.view("getTransactionHash", *args))


def test_replay_is_refused(world):
    gateway, _, artifact = world
    safe, coordinator = fresh(world)
    tx = safe.transaction(coordinator, safe.call_data(artifact, "post_capacity", [1, 5]))
    for key in KEYS[:2]:
        tx.sign("0x" + key.hex())
    safe.execute(tx, gateway.accounts[1])
    assert safe.nonce() == 1 and gateway.call(artifact, coordinator, "posted_capacity", [1]) == 6
    with pytest.raises(ChainRevert, match="GS026"):  # the nonce moved: the signatures recover to strangers
        safe.execute(tx, gateway.accounts[1])
    assert safe.nonce() == 1


def test_rotation_add_remove_threshold(world):
    gateway, _, artifact = world
    safe, coordinator = fresh(world)
    relayer = gateway.accounts[1]
    safe.add_owner(OWNERS[3], 3, KEYS[:2], relayer)
    assert safe.owners() == [OWNERS[3], *OWNERS[:3]] and safe.threshold() == 3
    with pytest.raises(ChainRevert, match="GS020"):  # two of four no longer pass
        safe.act(artifact, coordinator, "post_capacity", [1, 5], KEYS[:2], relayer)
    with pytest.raises(ChainRevert, match="GS013"):  # a threshold above the owners: GS201 inside, the call fails
        safe.change_threshold(5, KEYS[:3], relayer)
    safe.remove_owner(OWNERS[0], 2, KEYS[:3], relayer)
    assert OWNERS[0] not in safe.owners() and safe.threshold() == 2
    with pytest.raises(ChainRevert, match="GS026"):
        safe.act(artifact, coordinator, "post_capacity", [1, 5], [KEYS[0], KEYS[1]], relayer)
    safe.act(artifact, coordinator, "post_capacity", [1, 5], [KEYS[1], KEYS[3]], relayer)
    safe.change_threshold(1, [KEYS[2], KEYS[3]], relayer)
    assert safe.threshold() == 1 and is_safe(gateway, safe.address) == (safe.owners(), 1)
    with pytest.raises(ValueError, match="is not an owner"):
        safe.swap_owner(OWNERS[4], OWNERS[0], KEYS[1:2], relayer)


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=0, max_size=200), st.sampled_from([0, 1, 2]))
def test_hostile_signatures_are_refused(world, blob, owner_signatures):
    """Random bytes in place of (or after) owner signatures: the Safe refuses with a GS code, executes nothing."""
    gateway, _, artifact = world
    safe, coordinator = SAFE_AND_TARGET.setdefault("pair", fresh(world))
    tx = safe.transaction(coordinator, safe.call_data(artifact, "post_capacity", [7, 9]))
    for key in KEYS[:owner_signatures]:
        tx.sign("0x" + key.hex())
    tx.signatures = (tx.signatures[:65] + blob) if owner_signatures else blob
    nonce = safe.nonce()
    with pytest.raises(ChainRevert, match=r"^GS0\d\d"):
        safe.execute(tx, gateway.accounts[1])
    assert safe.nonce() == nonce and gateway.call(artifact, coordinator, "posted_capacity", [7]) == 0
