"""Gateway.transact_many: many transactions sent before any receipt is awaited, the same on both gateways; on a
node, gas limits from one estimate per function and calldata length, reverts and refused sends reported per call."""

import pytest

from gridchain.chain.gateway import Call, ChainRevert, NotSent, Receipt
from gridchain.coordination.client import CoordinatorClient

SLOT = 3600


def deploy(gateway, members=3, limit=1):
    owner, *accounts = gateway.accounts
    client, _ = CoordinatorClient.deploy(gateway, owner, gateway.now(), SLOT, 500, 100_000)
    accounts = accounts[:members]
    calls = [Call(client.artifact, client.address, "set_member", (m, True), owner) for m in accounts]
    if limit > 1:
        calls += [Call(client.artifact, client.address, "set_request_limit", (m, limit), owner) for m in accounts]
    assert all(isinstance(r, Receipt) and r.status == 1 for r in gateway.transact_many(calls))
    return client, owner, accounts


def submit(client, member, demand_w, soc_pm=100, tcc=2):
    return Call(client.artifact, client.address, "submit_request", (demand_w, soc_pm, tcc), member)


def test_every_call_is_mined_and_one_senders_calls_keep_their_order(gateway):
    client, _, members = deploy(gateway, limit=4)
    calls = [submit(client, members[i % 3], 1_000 + i) for i in range(12)]
    receipts = gateway.transact_many(calls)
    assert all(isinstance(r, Receipt) and r.status == 1 for r in receipts)
    events = [r.named("RequestSubmitted")[0].args for r in receipts]
    assert [e["sender"] for e in events] == [c.sender for c in calls]
    for m in members:  # a member's requests arrive in the order it sent them
        mine = [s.request for s in client.submissions(0) if s.sender == m]
        assert mine == [e["request"] for e in events if e["sender"] == m]
    assert len(client.submissions(0)) == 12 and gateway.transact_many([]) == []


def test_a_call_that_reverts_is_reported_with_the_contracts_reason_and_the_others_are_mined(gateway):
    client, _, members = deploy(gateway, limit=3)
    calls = [
        submit(client, members[0], 10),
        submit(client, members[0], 20, soc_pm=1000),
        submit(client, members[1], 30),
    ]
    first, failed, third = gateway.transact_many(calls)
    assert isinstance(failed, ChainRevert) and not isinstance(failed, NotSent)
    assert failed.reason == "coordinator: soc_pm above 999"
    assert first.status == third.status == 1
    assert [s.sender for s in client.submissions(0)] == [members[0], members[1]]
    if gateway.kind == "rpc":  # the estimate served the first call only: the second was mined, and reverted
        mined = gateway.receipt(None, failed.tx_hash)
        assert mined.status == 0 and first.block <= mined.block <= third.block


def test_a_send_the_node_refuses_mid_batch_is_reported_and_the_senders_later_calls_still_run(gateway):
    client, _, members = deploy(gateway, limit=3)
    member, other = members[0], members[1]
    calls = [
        Call.transfer(member, other, 1),  # on a node: estimates a transfer's gas once, for the one below
        submit(client, member, 10),
        Call.transfer(member, other, 10**30),  # more than the member has: the node refuses it
        submit(client, member, 20),
    ]
    before = gateway.balance(other)
    paid, first, refused, second = gateway.transact_many(calls)
    assert isinstance(refused, NotSent) and "nsufficient funds" in refused.reason
    assert paid.status == first.status == second.status == 1
    assert gateway.balance(other) == before + 1
    assert [s.request & 0xFFFFFFFF for s in client.submissions(0)] == [10, 20]  # both, once each, in order
    again = gateway.transact_many([submit(client, member, 30)])[0]  # the nonce counted on is the node's
    assert again.status == 1 and len(client.submissions(0)) == 3


@pytest.mark.integration
def test_the_cached_gas_limit_covers_a_dearer_call_of_the_same_function_and_length(anvil, monkeypatch):
    """The limit cached from a cheap call must also carry a dearer call of the same function and calldata length:
    a coin transfer estimated to a holder (its balance word rewritten) carries transfers to new holders, each
    writing a fresh word (+17,100 gas). (A slot's first submission, the case GAS_HEADROOM was sized for, costs
    no more than a later one since the ring of submit chains.) No pipelined call may run out of gas."""
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.coin.client import CoinClient

    gateway = RpcGateway(anvil.url, anvil.keys)
    owner, holder, *fresh = gateway.accounts
    coin, _ = CoinClient.deploy(gateway, owner)
    coin.mint(owner, holder, 10**9)
    coin.mint(owner, owner, 1)  # the owner holds coins: the transfer estimated below rewrites a balance
    cheap = gateway.transact_many([Call(coin.artifact, coin.address, "transfer", (owner, 1), holder)])[0]
    estimates = []
    real = gateway.w3.eth.estimate_gas
    monkeypatch.setattr(gateway.w3.eth, "estimate_gas", lambda tx: estimates.append(tx) or real(tx))
    dear = gateway.transact_many([Call(coin.artifact, coin.address, "transfer", (f, 1), holder) for f in fresh[:3]])
    assert [r.status for r in dear] == [1, 1, 1]
    assert all(r.gas_used > cheap.gas_used + 15_000 for r in dear)  # the dearer case ran on the cached limit
    assert estimates == []  # the transfer's one estimate, of the cheap case, served them all


@pytest.mark.integration
def test_gas_limits_come_from_one_estimate_per_function_and_calldata_length(anvil, monkeypatch):
    from gridchain.chain.rpc_gateway import RpcGateway

    gateway = RpcGateway(anvil.url, anvil.keys)
    client, _, members = deploy(gateway, limit=5)
    estimates = []
    real = gateway.w3.eth.estimate_gas
    monkeypatch.setattr(gateway.w3.eth, "estimate_gas", lambda tx: estimates.append(tx) or real(tx))
    receipts = gateway.transact_many([submit(client, m, 10 + i) for i in range(4) for m in members])
    assert all(r.status == 1 for r in receipts) and len(estimates) == 1
    gateway.transact_many([Call(client.artifact, client.address, "submit_request", (1, 1, 1, 0), members[0])])
    assert len(estimates) == 2  # another argument count, another calldata length


def test_transactions_signed_for_the_pipeline_are_byte_for_byte_eth_accounts():
    from eth_account import Account
    from eth_utils import to_checksum_address
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from gridchain.chain.anvil import dev_keys
    from gridchain.chain.signing import Signer

    key = dev_keys(1)[0]
    signer, account = Signer(bytes.fromhex(key[2:])), Account.from_key(key)
    word = st.integers(0, 2**256 - 1)

    @settings(max_examples=60, deadline=None)
    @given(
        chain=st.integers(1, 2**64 - 1),
        nonce=st.integers(0, 2**64 - 2),
        tip=word,
        fee=word,
        gas=st.integers(0, 2**64 - 1),
        to=st.one_of(st.none(), st.binary(min_size=20, max_size=20)),
        value=word,
        data=st.binary(max_size=300),
    )
    def same(chain, nonce, tip, fee, gas, to, value, data):
        tx = {"chainId": chain, "nonce": nonce, "maxPriorityFeePerGas": tip, "maxFeePerGas": fee, "gas": gas}
        tx |= {"to": None if to is None else "0x" + to.hex(), "value": value, "data": data}
        theirs = {k: v for k, v in tx.items() if k != "to"} | {"type": 2}
        if to is not None:
            theirs["to"] = to_checksum_address(to)
        expected = account.sign_transaction(theirs)
        assert signer.sign(tx) == (bytes(expected.raw_transaction), bytes(expected.hash))

    same()


@pytest.mark.integration
def test_calls_beyond_the_in_flight_bound_go_in_turns_and_all_land_in_order(anvil, monkeypatch):
    from gridchain.chain import rpc_gateway

    monkeypatch.setattr(rpc_gateway, "IN_FLIGHT", 3)
    gateway = rpc_gateway.RpcGateway(anvil.url, anvil.keys)
    client, _, members = deploy(gateway, members=1, limit=8)
    receipts = gateway.transact_many([submit(client, members[0], 100 + i) for i in range(8)])
    assert [r.status for r in receipts] == [1] * 8
    assert [s.request & 0xFFFFFFFFFFFFFFFF for s in client.submissions(0)] == [100 + i for i in range(8)]
    assert receipts[2].block < receipts[3].block  # the second turn was sent after the first was mined
