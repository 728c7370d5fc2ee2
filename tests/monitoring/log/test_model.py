"""The access log's twin alone (no chain): its checks in the contract's order, a refusal changing nothing, the hash
chain and `includes` against a chain recomputed here, and `check_invariant` catching a tampered log."""

from __future__ import annotations

import copy
from functools import cache

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.crypto import eip712
from gridchain.crypto.keys import SECP256K1_N, address_of, sign_digest
from gridchain.monitoring.model.log import GENESIS, ZERO, AccessLogError, AccessLogModel, Batch, chain, split

OWNER = "0x" + "0a" * 20
CONTRACT = "0x" + "0c" * 20


@cache
def key(i: int) -> bytes:
    return keccak(text=f"access log model key {i}")


@cache
def node(i: int) -> str:
    return address_of(key(i)).lower()


def signed(model: AccessLogModel, indices, index: int, root: bytes, records: int, epoch=None) -> bytes:
    """The keys' signatures in signer order, concatenated (as `attest` takes them)."""
    h = model.batch_hash(index, root, records, model.epoch if epoch is None else epoch)
    return b"".join(sign_digest(key(i), h) for i in sorted(indices, key=lambda i: int(node(i), 16)))


def fresh(n: int = 3, m: int = 2) -> AccessLogModel:
    return AccessLogModel(OWNER, [node(i) for i in range(n)], m, 31337, CONTRACT)


def refused(reason: str, model: AccessLogModel, call, *args) -> None:
    before = copy.deepcopy(model)
    with pytest.raises(AccessLogError) as e:
        call(*args)
    assert e.value.reason == reason
    assert model == before


def test_batch_type_and_domain():
    assert Batch.TYPE == "Batch(uint256 index,bytes32 root,uint256 records,uint256 epoch)"
    model = fresh()
    assert model.domain() == eip712.Domain("gridchain access log", "1", 31337, CONTRACT)


def test_checks_in_the_contracts_order():
    model, root = fresh(), keccak(b"r")
    sigs = signed(model, [0, 1], 1, root, 5)
    # a wrong index is caught before the length, the length before the count, the count before any signature
    refused("access_log: index is not the next batch", model, model.attest, 1, root, 5, sigs[:64])
    refused("access_log: signatures are not 65 bytes each", model, model.attest, 0, root, 5, sigs[:64])
    refused("access_log: fewer signatures than the threshold", model, model.attest, 0, root, 5, sigs[:65])
    refused("access_log: fewer signatures than the threshold", model, model.attest, 0, root, 5, b"")
    bad_v = sigs[:64] + bytes([2]) + sigs[65:]
    refused("access_log: signature v is not 0, 1, 27 or 28", model, model.attest, 0, root, 5, bad_v)
    other = signed(model, [0, 1], 0, root, 5)
    swapped = other[65:] + other[:65]
    refused("access_log: signers not in ascending order", model, model.attest, 0, root, 5, swapped)
    outsider = signed(model, [0, 7], 0, root, 5)
    refused("access_log: signer is not a current node", model, model.attest, 0, root, 5, outsider)


@pytest.mark.parametrize("v", [0, 1, 27, 28])
def test_split_accepts_both_v_forms(v):
    signature = b"\x01" * 32 + (5).to_bytes(32, "big") + bytes([v])
    assert split(signature, 0) == (27 + v % 27, int.from_bytes(b"\x01" * 32, "big"), 5)


def test_split_boundary_of_high_s():
    low = b"\x01" * 32 + (SECP256K1_N // 2).to_bytes(32, "big") + b"\x1b"
    assert split(b"\x00" * 65 + low, 65)[2] == SECP256K1_N // 2
    with pytest.raises(AccessLogError, match="upper half"):
        split(b"\x01" * 32 + (SECP256K1_N // 2 + 1).to_bytes(32, "big") + b"\x1b", 0)


def test_set_nodes_refused_changes_nothing_and_success_bumps_the_epoch():
    model = fresh()
    refused("access_log: node listed twice", model, model.set_nodes, OWNER, [node(4), node(4)], 1)
    refused("access_log: node is the zero address", model, model.set_nodes, OWNER, [node(4), ZERO], 1)
    refused("access_log: caller is not the owner", model, model.set_nodes, node(0), [node(4)], 1)
    model.set_nodes(OWNER.upper().replace("0X", "0x"), [node(4)], 1)
    assert (model.epoch, model.nodes, model.m) == (1, [node(4)], 1)


def test_old_epoch_signatures_void_after_rotation():
    model, root = fresh(), keccak(b"r")
    old = signed(model, [0, 1], 0, root, 5)
    model.set_nodes(OWNER, [node(0), node(1), node(2)], 2)  # the same nodes, a new epoch
    with pytest.raises(AccessLogError):
        model.attest(0, root, 5, old)
    model.attest(0, root, 5, signed(model, [0, 1], 0, root, 5))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(roots=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=6), data=st.data())
def test_head_and_includes_follow_the_chain(roots, data):
    model = fresh(1, 1)
    heads = [GENESIS]
    for i, root in enumerate(roots):
        model.attest(i, root, 1, signed(model, [0], i, root, 1))
        heads.append(keccak(heads[-1] + root))
        if data.draw(st.booleans()):
            model.pin()
    assert model.head == heads[-1] and model.batches == len(roots)
    model.check_invariant()
    index = data.draw(st.integers(0, len(roots) - 1))
    end = data.draw(st.integers(index + 1, len(roots)))
    later = roots[index + 1 : end]
    known = end == len(roots) or end in model.pinned
    assert model.includes(index, heads[index], roots[index], later) == known
    assert not model.includes(index, heads[index], keccak(roots[index]), later)
    assert not model.includes(index, keccak(heads[index]), roots[index], later)


def test_pin_refusals():
    model, root = fresh(1, 1), keccak(b"r")
    refused("access_log: no batch to pin", model, model.pin)
    model.attest(0, root, 1, signed(model, [0], 0, root, 1))
    assert model.pin() == chain(GENESIS, root)
    refused("access_log: already pinned", model, model.pin)


def test_check_invariant_catches_tampering():
    model, root = fresh(1, 1), keccak(b"r")
    model.attest(0, root, 1, signed(model, [0], 0, root, 1))
    model.pin()
    model.check_invariant()
    for tamper in (
        lambda m: setattr(m, "head", keccak(b"x")),
        lambda m: setattr(m, "batches", 2),
        lambda m: m.pinned.__setitem__(1, keccak(b"x")),
        lambda m: m.log.__setitem__(0, (m.log[0][0], (), m.log[0][2], 1)),
    ):
        bad = copy.deepcopy(model)
        tamper(bad)
        with pytest.raises(AssertionError):
            bad.check_invariant()
