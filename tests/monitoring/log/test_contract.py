"""The access log's functions one by one against its twin (tests/monitoring/log/harness.py): each external
function's success and each of its refusals, the threshold's boundary (m - 1 signatures revert, m pass), the
index's (batches passes, batches +- 1 revert), the node-set bounds (32 nodes, m = n pass; m = n + 1 and m = 0
revert), the signature forms wallets produce, and the EIP-712 hash against eth_account's."""

from __future__ import annotations

import boa
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from gridchain.crypto import eip712
from gridchain.monitoring.model.log import GENESIS, ZERO, ZERO32, AccessLogError, AccessLogModel, Batch, chain
from tests.committee.signatures import FORMS
from tests.monitoring.log.harness import CONTRACT, Log, address, key, refused, root_of
from tests.support.deployers import load

R1, R2, R3 = root_of(1), root_of(2), root_of(3)


@pytest.fixture
def lg():
    with boa.env.anchor():
        yield Log(3, 2)


def deploy_refused(reason: str, nodes: list[str], m: int) -> None:
    with pytest.raises(AccessLogError) as e:
        AccessLogModel(str(boa.env.eoa), nodes, m)
    assert e.value.reason == reason
    with boa.reverts(reason):
        load(CONTRACT).deploy(nodes, m)


# ---- the constructor -------------------------------------------------------------------------------------------


def test_deploy_sets_nodes_threshold_and_an_empty_chain(lg):
    assert [str(a).lower() for a in lg.c.nodes()] == [address(i) for i in range(3)]
    assert (lg.c.epoch(), lg.c.threshold(), lg.c.batches(), lg.c.head()) == (0, 2, 0, GENESIS)
    assert str(lg.c.owner()) == lg.owner
    assert lg.c.is_node(address(0)) and not lg.c.is_node(address(3)) and not lg.c.is_node(ZERO)
    assert lg.c.eip712Domain()[1:3] == ("gridchain access log", "1")


@pytest.mark.parametrize(
    ("nodes", "m", "reason"),
    [
        ([], 1, "m out of range 1 .. node count"),
        ([address(0)], 0, "m out of range 1 .. node count"),
        ([address(0), address(1)], 3, "m out of range 1 .. node count"),
        ([address(0), ZERO], 1, "node is the zero address"),
        ([address(0), address(1), address(0)], 1, "node listed twice"),
    ],
)
def test_deploy_refuses(nodes, m, reason):
    deploy_refused(f"access_log: {reason}", nodes, m)


def test_deploy_takes_32_nodes_and_m_up_to_n():
    with boa.env.anchor():
        lg = Log(32, 32)
        assert lg.c.threshold() == 32 and len(lg.c.nodes()) == 32
        lg.honest(R1)


# ---- rotation ----------------------------------------------------------------------------------------------


def test_set_nodes_replaces_the_set_and_bumps_the_epoch(lg):
    lg.set_nodes(lg.owner, [address(2), address(5), address(6), address(7)], 3)
    assert (lg.c.epoch(), lg.c.threshold()) == (1, 3)
    assert lg.c.is_node(address(5)) and lg.c.is_node(address(2)) and not lg.c.is_node(address(0))
    lg.honest(R1)
    lg.set_nodes(lg.owner, [address(0)], 1)  # back to an old node: its old mark is stale
    assert lg.c.is_node(address(0)) and not lg.c.is_node(address(5)) and lg.c.batches() == 1
    lg.honest(R2)


@pytest.mark.parametrize(
    ("who", "nodes", "m", "reason"),
    [
        ("stranger", [address(5)], 1, "caller is not the owner"),
        ("owner", [], 1, "m out of range 1 .. node count"),
        ("owner", [address(5)], 0, "m out of range 1 .. node count"),
        ("owner", [address(5)], 2, "m out of range 1 .. node count"),
        ("owner", [address(5), ZERO], 1, "node is the zero address"),
        ("owner", [address(5), address(6), address(5)], 2, "node listed twice"),
        ("owner", [address(0), address(0)], 1, "node listed twice"),
    ],
)
def test_set_nodes_refuses(lg, who, nodes, m, reason):
    refused(f"access_log: {reason}", lg.set_nodes, lg.owner if who == "owner" else lg.stranger, nodes, m)


def test_a_node_rotated_out_and_back_counts_again(lg):
    lg.set_nodes(lg.owner, [address(5), address(6)], 1)
    lg.set_nodes(lg.owner, [address(0), address(1)], 2)
    lg.honest(R1)


def test_transfer_ownership_moves_rotation(lg):
    new = lg.new_account().address
    lg.transfer_ownership(lg.owner, new)
    refused("access_log: caller is not the owner", lg.set_nodes, lg.owner, [address(4)], 1)
    lg.set_nodes(new, [address(4)], 1)
    refused("ownable: caller is not the owner", lg.transfer_ownership, lg.owner, lg.owner)


# ---- attesting ---------------------------------------------------------------------------------------------


def test_attest_chains_the_roots(lg):
    lg.honest(R1, 1000)
    lg.honest(R2, 0, extra=1)
    assert lg.c.batches() == 2
    assert lg.c.head() == chain(chain(GENESIS, R1), R2)


def test_threshold_boundary(lg):
    refused(
        "access_log: fewer signatures than the threshold", lg.attest, lg.stranger, 0, R1, 5, lg.signed([0], 0, R1, 5)
    )
    lg.attest(lg.stranger, 0, R1, 5, lg.signed([0, 1], 0, R1, 5))


@pytest.mark.parametrize("index", [0, 2, 2**256 - 1])
def test_index_must_be_the_next_batch(lg, index):
    lg.honest(R1)  # batches: 1
    sigs = lg.signed([0, 1], index, R2, 1)
    refused("access_log: index is not the next batch", lg.attest, lg.stranger, index, R2, 1, sigs)
    lg.attest(lg.stranger, 1, R2, 1, lg.signed([0, 1], 1, R2, 1))


def test_index_zero_again_and_skipping_refused(lg):
    refused("access_log: index is not the next batch", lg.attest, lg.stranger, 1, R1, 1, lg.signed([0, 1], 1, R1, 1))
    lg.honest(R1)
    refused("access_log: index is not the next batch", lg.attest, lg.stranger, 0, R1, 1, lg.signed([0, 1], 0, R1, 1))


@pytest.mark.parametrize("form", ["rsv", "v01"])
def test_wallet_forms_accepted(lg, form):
    lg.attest(lg.stranger, 0, R1, 7, [FORMS[form](s) for s in lg.signed([0, 1], 0, R1, 7)])


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ("compact", "access_log: signatures are not 65 bytes each"),
        ("short", "access_log: signatures are not 65 bytes each"),
        ("empty", "access_log: fewer signatures than the threshold"),  # one signature left of two
        ("bad_v", "access_log: signature v is not 0, 1, 27 or 28"),
        ("high_s", "access_log: signature s in the upper half (malleable, EIP-2)"),
        ("r_zero", "ecdsa: invalid signature"),
        ("s_zero", "ecdsa: invalid signature"),
        ("r_off_curve", "ecdsa: invalid signature"),
        ("r_above_n", "ecdsa: invalid signature"),
    ],
)
def test_malformed_signatures_refused(lg, form, reason):
    sigs = lg.signed([0, 1], 0, R1, 7)
    refused(reason, lg.attest, lg.stranger, 0, R1, 7, [FORMS[form](sigs[0]), sigs[1]])


def test_signers_must_ascend(lg):
    sigs = lg.signed([0, 1], 0, R1, 7)
    refused("access_log: signers not in ascending order", lg.attest, lg.stranger, 0, R1, 7, sigs[::-1])
    refused("access_log: signers not in ascending order", lg.attest, lg.stranger, 0, R1, 7, [sigs[0], sigs[0]])


def test_outsider_refused(lg):
    sigs = lg.signed([0, 5], 0, R1, 7)
    refused("access_log: signer is not a current node", lg.attest, lg.stranger, 0, R1, 7, sigs)


def test_batch_hash_is_eip712(lg):
    batch = Batch(3, R1, 1000, 0)
    h = lg.c.batch_hash(3, R1, 1000, 0)
    assert h == eip712.digest(lg.model.domain(), batch)
    data = eip712.typed_data(lg.model.domain(), batch)
    signed = Account.sign_message(encode_typed_data(full_message=data), key(0))
    assert Account._recover_hash(h, signature=bytes(signed.signature)).lower() == address(0)


# ---- pinning, head_after and includes ---------------------------------------------------------------------


def test_pin_keeps_the_head(lg):
    refused("access_log: no batch to pin", lg.pin, lg.stranger)
    lg.honest(R1)
    lg.pin(lg.stranger)
    refused("access_log: already pinned", lg.pin, lg.owner)
    first = lg.c.head()
    lg.honest(R2)
    assert lg.c.head_after(1) == first and lg.c.head_after(2) == lg.c.head() and lg.c.head_after(0) == ZERO32
    lg.pin(lg.owner)


def test_includes_the_last_and_a_pinned_batch(lg):
    lg.honest(R1)
    assert lg.includes(0, GENESIS, R1, [])
    h1 = lg.c.head()
    lg.pin(lg.stranger)
    lg.honest(R2)
    lg.honest(R3)
    assert lg.includes(0, GENESIS, R1, [R2, R3]) and lg.includes(1, h1, R2, [R3])
    assert lg.includes(0, GENESIS, R1, [])  # pinned after 1
    assert not lg.includes(1, h1, R2, [])  # the head after 2 was never pinned
    lg.pin(lg.stranger)  # after 3: batch 1 is proved through batch 2's root to it
    assert lg.includes(1, h1, R2, [R3]) and lg.includes(2, chain(h1, R2), R3, [])


@pytest.mark.parametrize("index", [0, 1, 2**256 - 1])
def test_includes_nothing_on_an_empty_log(lg, index):
    assert not lg.includes(index, ZERO32, R1, [])


def test_includes_is_false_past_the_end(lg):
    lg.honest(R1)
    lg.honest(R2)
    h1 = chain(GENESIS, R1)
    assert lg.includes(1, h1, R2, [])
    assert not lg.includes(1, h1, R2, [R3])  # end = 3 > batches
    assert not lg.includes(2, lg.c.head(), R3, [])
    assert not lg.includes(2**256 - 1, h1, R2, [R3] * 256)


def test_includes_takes_256_later_roots():
    with boa.env.anchor():
        lg = Log(1, 1)
        roots = [keccak(i.to_bytes(2, "big")) for i in range(257)]
        for r in roots:
            lg.honest(r, 1)
        assert lg.includes(0, GENESIS, roots[0], roots[1:])
