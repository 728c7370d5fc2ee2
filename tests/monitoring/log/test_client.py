"""The access log's client on the embedded chain: deploy, nodes' signatures in any form and order put in the
contract's order, attest, pin, includes, head_after, rotation and events read back; malformed signatures refused
before sending, naming the field. And once on anvil under Osaka (EIP-7825's cap on): the gas section's figures
against the issue's target."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.crypto import eip712
from gridchain.crypto.keys import address_of
from gridchain.errors import InputError
from gridchain.monitoring.log_client import AccessLogClient, in_signer_order, sign_batch
from gridchain.monitoring.model.log import GENESIS, Batch, chain
from tests.committee.signatures import FORMS

KEYS = [keccak(text=f"access log client key {i}") for i in range(4)]
R1, R2 = keccak(text="batch 0"), keccak(text="batch 1")


@pytest.fixture(scope="module")
def log():
    gateway = BoaGateway(accounts=2)
    client, _ = AccessLogClient.deploy(gateway, gateway.accounts[0], [address_of(k) for k in KEYS[:3]], 2)
    return client


def test_attest_in_any_order_and_form_then_prove(log):
    relayer = log.gateway.accounts[1]
    sigs = [log.sign(k, 0, R1, 1000) for k in KEYS[:3]]
    receipt = log.attest(relayer, 0, R1, 1000, [FORMS["compact"](sigs[2]), FORMS["v01"](sigs[0])])
    h1 = chain(GENESIS, R1)
    [event] = receipt.named("Attested")
    assert event.args["index"] == 0 and bytes(event.args["head"]) == h1 and event.args["records"] == 1000
    assert (log.batches(), log.head(), log.head_after(1)) == (1, h1, h1)
    log.pin(relayer)
    log.attest(relayer, 1, R2, 5, [log.sign(k, 1, R2, 5) for k in KEYS[1:3]])
    assert log.includes(0, GENESIS, R1) and log.includes(0, GENESIS, R1, [R2]) and log.includes(1, h1, R2)
    assert not log.includes(1, GENESIS, R2) and log.pinned(1) == h1
    assert [bytes(e.args["root"]) for e in log.events("Attested")] == [R1, R2]
    assert [e.args["count"] for e in log.events("Pinned")] == [1]


def test_sign_batch_is_the_contracts_hash(log):
    batch = Batch(7, R1, 3, log.epoch())
    h = log.batch_hash(7, R1, 3, batch.epoch)
    assert h == eip712.digest(log.domain(), batch)
    assert in_signer_order(h, [sign_batch(KEYS[0], log.domain(), batch)]) == [log.sign(KEYS[0], 7, R1, 3)]


def test_rotation_bumps_the_epoch_and_voids_old_signatures(log):
    owner, relayer = log.gateway.accounts
    index = log.batches()
    old = [log.sign(k, index, R1, 1) for k in KEYS[:2]]
    log.set_nodes(owner, [address_of(k) for k in KEYS[1:]], 3)
    assert log.nodes() == [address_of(k) for k in KEYS[1:]] and log.threshold() == 3 and log.epoch() == 1
    assert not log.is_node(address_of(KEYS[0])) and log.is_node(address_of(KEYS[3]))
    with pytest.raises(Exception, match="access_log"):
        log.attest_raw(relayer, index, R1, 1, old)
    log.attest(relayer, index, R1, 1, [log.sign(k, index, R1, 1) for k in KEYS[1:]])
    assert [e.args["epoch"] for e in log.events("NodesSet")] == [0, 1]


def test_malformed_signatures_are_refused_before_sending(log):
    h = log.batch_hash(0, R1, 1, 0)
    one = log.sign(KEYS[0], 0, R1, 1)
    for form in ("short", "bad_v", "high_s", "r_zero"):
        with pytest.raises(InputError) as e:
            in_signer_order(h, [one, FORMS[form](one)])
        assert e.value.field == "signatures[1]"
    with pytest.raises(InputError) as e:
        in_signer_order(h, [one, FORMS["v01"](one)])
    assert e.value.field == "signatures"
    with pytest.raises(InputError) as e:
        log.events("Transfer")
    assert e.value.field == "name"


@pytest.mark.integration
def test_osaka_receipts_on_anvil_meet_the_target_and_match_prague():
    """The gas section on anvil under Osaka against the embedded chain (Prague): the same up to the signatures'
    zero bytes (the chain ids differ); an attested batch at 2-of-3 and 3-of-5 within 60,000."""
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.monitoring import gas

    prague = gas.measure_functions(BoaGateway(accounts=2))
    with start_anvil(hardfork="osaka", accounts=2, extra_args=["--enable-tx-gas-limit"]) as node:
        osaka = gas.measure_functions(RpcGateway(node.url, node.keys))
    assert osaka.keys() == prague.keys()
    assert all(abs(osaka[k] - prague[k]) <= 5 * 4 * 12 for k in osaka), (osaka, prague)
    assert osaka["attest_2_of_3"] <= gas.ATTEST_MAX and osaka["attest_3_of_5"] <= gas.ATTEST_MAX
