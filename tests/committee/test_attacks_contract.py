"""Attacks on the committee, each through the twin first (tests/committee/harness.py): what a minority of LAGs, a
replaying relayer, a removed member or a forger might try, and what the contract does about it
(docs/committee.md, "Attacks")."""

from __future__ import annotations

import boa
import pytest

from gridchain.committee.model import TWO_THIRDS, UNANIMOUS, CommitteeError, domain
from tests.committee.harness import KIND, Committee, address, deploy, refused
from tests.committee.signatures import FORMS, OFF_CURVE_R, compact, high_s, parts, rsv

TRUE, FALSE = b"\x7e" * 32, b"\xfa" * 32  # the honest result's digest, a forged one


@pytest.fixture
def k():
    with boa.env.anchor():
        yield Committee(7, TWO_THIRDS)  # 5 of 7


def refused_anyhow(call, *args) -> str:
    """Refused on both sides with the same reason (checked by `mirror`), whichever check catches it first (a
    signature over other data recovers to an unpredictable address: not a member, or out of order)."""
    with pytest.raises(CommitteeError) as e:
        call(*args)
    return e.value.reason


# ---- a minority of LAGs signs a false result -----------------------------------------------------------------


def test_a_minority_cannot_attest_a_false_result(k):
    refused(
        "lag_committee: fewer signatures than the threshold",
        k.attest,
        k.stranger,
        1,
        FALSE,
        k.signed(range(4), 1, FALSE),
    )


def test_a_minority_cannot_pad_with_outsiders(k):
    padded = k.signed([0, 1, 2, 3, 20], 1, FALSE)  # four LAGs and a key of their own
    refused("lag_committee: signer is not a member", k.attest, k.stranger, 1, FALSE, padded)


def test_a_minority_cannot_overwrite_the_honest_result(k):
    k.attest(k.stranger, 1, TRUE, k.signed(range(5), 1, TRUE))
    refused(
        "lag_committee: round attested with another digest",
        k.attest,
        k.stranger,
        1,
        FALSE,
        k.signed(range(7), 1, FALSE),
    )


def test_under_unanimity_one_dissenting_lag_blocks_the_result():
    with boa.env.anchor():
        k = Committee(3, UNANIMOUS)
        refused(
            "lag_committee: fewer signatures than the threshold",
            k.attest,
            k.stranger,
            1,
            FALSE,
            k.signed([0, 1], 1, FALSE),
        )
        assert k.attest(k.stranger, 1, TRUE, k.signed([0, 1, 2], 1, TRUE))


# ---- one member counted twice ------------------------------------------------------------------------------------


def test_a_duplicated_signature_counts_once(k):
    sigs = k.signed(range(4), 1, FALSE)
    refused("lag_committee: signers not in ascending order", k.attest, k.stranger, 1, FALSE, [*sigs, sigs[-1]])


@pytest.mark.parametrize("form", ["v01", "compact"])
def test_the_same_signer_in_another_form_counts_once(k, form):
    sigs = k.signed(range(4), 1, FALSE)
    refused(
        "lag_committee: signers not in ascending order", k.attest, k.stranger, 1, FALSE, [*sigs, FORMS[form](sigs[-1])]
    )


def test_a_malleable_high_s_twin_is_refused(k):
    sigs = k.signed(range(4), 1, FALSE)
    refused(
        "lag_committee: signature s in the upper half (malleable, EIP-2)",
        k.attest,
        k.stranger,
        1,
        FALSE,
        [*sigs, high_s(sigs[-1])],
    )


# ---- replay across rotations, removed members --------------------------------------------------------------------


def test_signatures_made_before_a_rotation_are_void(k):
    before = k.signed(range(7), 1, TRUE)  # the whole committee signed at epoch 0 ...
    k.add_member(k.owner, address(7))  # ... then the committee rotated
    refused_anyhow(k.attest, k.stranger, 1, TRUE, before)
    assert k.attest(k.stranger, 1, TRUE, k.signed(range(6), 1, TRUE))  # 6 of 8 at epoch 1


def test_signatures_made_before_a_rule_change_are_void(k):
    before = k.signed(range(5), 1, TRUE)
    k.set_rule(k.owner, TWO_THIRDS, 0)  # the same rule set again still starts a new epoch
    refused_anyhow(k.attest, k.stranger, 1, TRUE, before)


def test_a_removed_member_no_longer_counts(k):
    k.remove_member(k.owner, address(6))  # 6 members: threshold 4
    refused("lag_committee: signer is not a member", k.attest, k.stranger, 1, FALSE, k.signed([0, 1, 2, 6], 1, FALSE))


def test_old_signatures_of_a_removed_and_readmitted_member_are_void(k):
    old = k.signed(range(5), 1, FALSE)
    k.remove_member(k.owner, address(4))
    k.add_member(k.owner, address(4))  # the same committee as at epoch 0, at epoch 2
    refused_anyhow(k.attest, k.stranger, 1, FALSE, old)


# ---- signatures for something else (the domain and the message) ----------------------------------------------------


def test_a_signature_for_another_round_is_refused(k):
    refused_anyhow(k.attest, k.stranger, 2, TRUE, k.signed(range(5), 1, TRUE))


def test_a_signature_for_another_kind_is_refused(k):
    refused_anyhow(k.attest, k.stranger, 1, TRUE, k.signed(range(5), 1, TRUE, kind=b"\x05" * 32))


def test_a_signature_for_another_committee_contract_is_refused(k):
    members = [address(i) for i in range(7)]
    other = deploy(members, TWO_THIRDS)  # the same members and rule at another address
    sigs = k.signed(range(5), 1, FALSE, domain=domain(k.chain_id, str(other.address)))
    other.attest(KIND, 1, FALSE, sigs)  # good there ...
    refused_anyhow(k.attest, k.stranger, 1, FALSE, sigs)  # ... not here


def test_a_signature_for_another_chain_is_refused(k):
    sigs = k.signed(range(5), 1, FALSE, domain=domain(k.chain_id + 1, k.address))
    refused_anyhow(k.attest, k.stranger, 1, FALSE, sigs)


# ---- forging the zero address ------------------------------------------------------------------------------------


@pytest.mark.parametrize("r", [0, OFF_CURVE_R])
def test_a_signature_recovering_to_the_zero_address_is_refused(k, r):
    """ecrecover gives the zero address for a signature it finds nobody for; snekmate's ecdsa refuses it, and the
    zero address can never be a member either."""
    sigs = k.signed(range(5), 1, FALSE)
    _, s, v = parts(sigs[0])
    for forged in (rsv(r, s, v), compact(r, s, v)):
        refused("ecdsa: invalid signature", k.attest, k.stranger, 1, FALSE, [forged, *sigs[1:]])
    refused("lag_committee: member is the zero address", k.add_member, k.owner, "0x" + "00" * 20)
