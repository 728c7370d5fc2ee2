"""Attacks on the access log, each through the twin first (tests/monitoring/log/harness.py): what a minority of
consensus nodes, a replaying relayer, a rotated-out node, another deployment's signatures, a stranger or a prover
of a false access might try, and what the contract does about it."""

from __future__ import annotations

import boa
import pytest

from gridchain.monitoring.model.log import GENESIS, AccessLogError, chain, domain
from tests.committee.signatures import high_s, parts, rsv
from tests.monitoring.log.harness import Log, address, deploy, refused, root_of

TRUE, FORGED = root_of(1), root_of(666)  # the honest batch's root, a forged one (records of accesses never made)


@pytest.fixture
def lg():
    with boa.env.anchor():
        yield Log(5, 3)  # 3 of 5


def refused_anyhow(call, *args) -> str:
    """Refused on both sides with the same reason (checked by `mirror`), whichever check catches it first (a
    signature over other data recovers to an unpredictable address: not a node, or out of order)."""
    with pytest.raises(AccessLogError) as e:
        call(*args)
    return e.value.reason


# ---- a minority of nodes attests a forged batch --------------------------------------------------------------


def test_a_minority_cannot_attest_a_forged_batch(lg):
    sigs = lg.signed([0, 1], 0, FORGED, 1)
    refused("access_log: fewer signatures than the threshold", lg.attest, lg.stranger, 0, FORGED, 1, sigs)


def test_a_minority_padded_with_outsiders_is_refused(lg):
    sigs = lg.signed([0, 1, 20], 0, FORGED, 1)  # key 20: not a node
    refused("access_log: signer is not a current node", lg.attest, lg.stranger, 0, FORGED, 1, sigs)


def test_a_minority_padded_with_its_own_signature_twice_is_refused(lg):
    a, b = lg.signed([0, 1], 0, FORGED, 1)
    refused("access_log: signers not in ascending order", lg.attest, lg.stranger, 0, FORGED, 1, [a, b, b])


def test_a_minority_padded_with_a_malleable_twin_is_refused(lg):
    a, b = lg.signed([0, 1], 0, FORGED, 1)
    reason = "access_log: signature s in the upper half (malleable, EIP-2)"
    refused(reason, lg.attest, lg.stranger, 0, FORGED, 1, [a, b, high_s(b)])


def test_signatures_over_the_true_root_do_not_carry_a_forged_one(lg):
    sigs = lg.signed([0, 1, 2], 0, TRUE, 1000)
    refused_anyhow(lg.attest, lg.stranger, 0, FORGED, 1000, sigs)
    refused_anyhow(lg.attest, lg.stranger, 0, TRUE, 999, sigs)  # nor another record count
    lg.attest(lg.stranger, 0, TRUE, 1000, sigs)


# ---- rotation ------------------------------------------------------------------------------------------------


def test_signatures_of_the_old_epoch_are_void_after_a_rotation(lg):
    old = lg.signed([0, 1, 2], 0, FORGED, 1)  # made before the owner rotated the same nodes (a key was leaked)
    lg.set_nodes(lg.owner, [address(i) for i in range(5)], 3)
    refused_anyhow(lg.attest, lg.stranger, 0, FORGED, 1, old)
    stale = lg.signed([0, 1, 2], 0, FORGED, 1, epoch=0)  # nodes signing an old epoch on purpose
    refused_anyhow(lg.attest, lg.stranger, 0, FORGED, 1, stale)


def test_rotated_out_nodes_cannot_attest(lg):
    lg.set_nodes(lg.owner, [address(i) for i in range(5, 10)], 3)
    sigs = lg.signed([0, 1, 2], 0, FORGED, 1)  # the old nodes sign under the new epoch
    refused("access_log: signer is not a current node", lg.attest, lg.stranger, 0, FORGED, 1, sigs)
    lg.attest(lg.stranger, 0, TRUE, 1, lg.signed([5, 6, 7], 0, TRUE, 1))


def test_a_stranger_cannot_rotate(lg):
    refused("access_log: caller is not the owner", lg.set_nodes, lg.stranger, [address(20)], 1)
    refused("ownable: caller is not the owner", lg.transfer_ownership, lg.stranger, lg.stranger)
    node = boa.env.generate_address()
    refused("access_log: caller is not the owner", lg.set_nodes, node, [address(20)], 1)


# ---- replays -------------------------------------------------------------------------------------------------


def test_the_same_signature_twice_counts_once(lg):
    a, b, _ = lg.signed([0, 1, 2], 0, TRUE, 1)
    refused("access_log: signers not in ascending order", lg.attest, lg.stranger, 0, TRUE, 1, [a, a, b])
    v01 = a[:64] + bytes([a[64] - 27])  # the same signature in another form is the same signer
    refused("access_log: signers not in ascending order", lg.attest, lg.stranger, 0, TRUE, 1, [a, v01, b])


def test_a_replayed_batch_is_refused(lg):
    sigs = lg.signed([0, 1, 2], 0, TRUE, 1)
    lg.attest(lg.stranger, 0, TRUE, 1, sigs)
    refused("access_log: index is not the next batch", lg.attest, lg.stranger, 0, TRUE, 1, sigs)
    refused_anyhow(lg.attest, lg.stranger, 1, TRUE, 1, sigs)  # signed for index 0, replayed as batch 1
    assert lg.c.batches() == 1


def test_a_batch_signed_under_another_deployments_domain_is_refused(lg):
    other = deploy([address(i) for i in range(5)], 3)  # the same nodes serve another log
    theirs = domain(lg.chain_id, str(other.address))
    sigs = lg.signed([0, 1, 2], 0, FORGED, 1, domain=theirs)
    refused_anyhow(lg.attest, lg.stranger, 0, FORGED, 1, sigs)
    other_chain = lg.signed([0, 1, 2], 0, FORGED, 1, domain=domain(lg.chain_id + 1, lg.address))
    refused_anyhow(lg.attest, lg.stranger, 0, FORGED, 1, other_chain)


def test_garbage_signatures_are_refused(lg):
    a, b, c = lg.signed([0, 1, 2], 0, TRUE, 1)
    r, s, v = parts(c)
    refused("ecdsa: invalid signature", lg.attest, lg.stranger, 0, TRUE, 1, [a, b, rsv(0, s, v)])
    refused("access_log: signatures are not 65 bytes each", lg.attest, lg.stranger, 0, TRUE, 1, [a, b, c[:64]])
    refused("access_log: signature v is not 0, 1, 27 or 28", lg.attest, lg.stranger, 0, TRUE, 1, [a, b, rsv(r, s, 2)])


# ---- includes fooled --------------------------------------------------------------------------------------------


@pytest.fixture
def chained(lg):
    """Three honest batches, the head after the first pinned."""
    for r in (root_of(1), root_of(2), root_of(3)):
        lg.honest(r)
        if r == root_of(1):
            lg.pin(lg.stranger)
    return lg


def test_includes_the_true_batches(chained):
    h1 = chain(GENESIS, root_of(1))
    assert chained.includes(1, h1, root_of(2), [root_of(3)])
    assert chained.includes(0, GENESIS, root_of(1), [])


@pytest.mark.parametrize(
    "lie",
    ["prev_head", "root", "index_up", "index_down", "later_wrong", "later_dropped", "later_extra", "later_swapped"],
)
def test_includes_cannot_be_fooled(chained, lie):
    h1, r2, r3 = chain(GENESIS, root_of(1)), root_of(2), root_of(3)
    index, prev_head, root, later = 1, h1, r2, [r3]
    if lie == "prev_head":
        prev_head = GENESIS  # claim batch 1 came right after genesis
    elif lie == "root":
        root = FORGED
    elif lie == "index_up":
        index = 2  # the same proof claimed for a later batch: end passes the count
    elif lie == "index_down":
        index = 0  # the same proof claimed for batch 0: ends at an unpinned count
    elif lie == "later_wrong":
        later = [FORGED]
    elif lie == "later_dropped":
        later = []  # the head after 2 was never pinned
    elif lie == "later_extra":
        later = [r3, FORGED]
    elif lie == "later_swapped":
        index, prev_head, root, later = 1, h1, r3, [r2]
    assert not chained.includes(index, prev_head, root, later)


def test_includes_a_forged_batch_hashed_onto_the_true_chain_is_false(chained):
    head = chained.c.head()
    assert not chained.includes(3, head, FORGED, [])  # batch 3 does not exist yet
    assert not chained.includes(2, head, FORGED, [])  # the head now is not the head before batch 2


# ---- pins --------------------------------------------------------------------------------------------------------


def test_a_pinned_head_cannot_be_overwritten(chained):
    pinned = chained.c.pinned(1)
    chained.pin(chained.stranger)  # pins count 3
    refused("access_log: already pinned", chained.pin, chained.owner)
    chained.honest(root_of(4))
    chained.pin(chained.stranger)  # count 4: another slot
    assert chained.c.pinned(1) == pinned == chain(GENESIS, root_of(1))
    assert chained.c.pinned(3) == chain(chain(pinned, root_of(2)), root_of(3))
