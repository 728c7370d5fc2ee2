"""The committee contract's functions one by one against its twin (tests/committee/harness.py): each external
function's success and each of its refusals, the threshold's boundary (M - 1 signatures revert, M pass) under
every rule, the signature forms wallets produce, and the EIP-712 hash against eth_account's."""

from __future__ import annotations

import boa
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from gridchain.committee.model import FIXED, TWO_THIRDS, UNANIMOUS, ZERO, Attestation, CommitteeError, CommitteeModel
from gridchain.crypto import eip712
from tests.committee.harness import CONTRACT, KIND, Committee, address, key, refused
from tests.committee.signatures import FORMS
from tests.support.deployers import load

D1, D2 = b"\x11" * 32, b"\x22" * 32


@pytest.fixture
def k():
    with boa.env.anchor():
        yield Committee(3, TWO_THIRDS)


def deploy_refused(reason: str, members: list[str], rule: int, m: int = 0) -> None:
    with pytest.raises(CommitteeError) as e:
        CommitteeModel(str(boa.env.eoa), members, rule, m)
    assert e.value.reason == reason
    with boa.reverts(reason):
        load(CONTRACT).deploy(members, rule, m)


# ---- the constructor -------------------------------------------------------------------------------------------


def test_deploy_sets_members_rule_and_epoch_zero(k):
    assert [str(a).lower() for a in k.c.members()] == [address(i) for i in range(3)]
    assert (k.c.epoch(), k.c.rule(), k.c.threshold(), k.c.member_count()) == (0, (TWO_THIRDS, 0), 2, 3)
    assert str(k.c.owner()) == k.owner
    assert k.c.is_member(address(0)) and not k.c.is_member(address(3))


@pytest.mark.parametrize(
    ("members", "rule", "m", "reason"),
    [
        ([], UNANIMOUS, 0, "no members"),
        ([ZERO], UNANIMOUS, 0, "member is the zero address"),
        ([address(0), address(0)], UNANIMOUS, 0, "already a member"),
        ([address(0)], 0, 0, "unknown rule"),
        ([address(0)], 4, 0, "unknown rule"),
        ([address(0)], UNANIMOUS, 1, "m is only for the FIXED rule"),
        ([address(0)], TWO_THIRDS, 1, "m is only for the FIXED rule"),
        ([address(0), address(1)], FIXED, 0, "m out of range 1 .. member count"),
        ([address(0), address(1)], FIXED, 3, "m out of range 1 .. member count"),
    ],
)
def test_deploy_refuses(members, rule, m, reason):
    deploy_refused(f"lag_committee: {reason}", members, rule, m)


def test_deploy_takes_32_members_and_fixed_m_up_to_n():
    with boa.env.anchor():
        k = Committee(32, FIXED, 32)
        assert k.c.threshold() == 32


# ---- membership ------------------------------------------------------------------------------------------------


def test_add_member_bumps_the_epoch(k):
    k.add_member(k.owner, address(5))
    assert k.c.epoch() == 1 and k.c.threshold() == 3  # ceil(8/3)
    assert k.events["MemberAdded"] == [{"member": address(5), "epoch": 1}]


@pytest.mark.parametrize(
    ("who", "member", "reason"),
    [
        ("stranger", address(5), "caller is not the owner"),
        ("owner", ZERO, "member is the zero address"),
        ("owner", address(1), "already a member"),
    ],
)
def test_add_member_refuses(k, who, member, reason):
    refused(f"lag_committee: {reason}", k.add_member, k.owner if who == "owner" else k.stranger, member)


def test_add_member_refuses_a_33rd():
    with boa.env.anchor():
        k = Committee(31, UNANIMOUS)
        k.add_member(k.owner, address(31))  # the 32nd passes
        refused("lag_committee: committee is full", k.add_member, k.owner, address(32))


def test_remove_member_moves_the_last_slot(k):
    k.remove_member(k.owner, address(0))
    assert [str(a).lower() for a in k.c.members()] == [address(2), address(1)]
    assert k.events["MemberRemoved"] == [{"member": address(0), "epoch": 1}]
    k.remove_member(k.owner, address(1))  # the last slot itself
    assert [str(a).lower() for a in k.c.members()] == [address(2)]


@pytest.mark.parametrize(
    ("who", "member", "reason"),
    [("stranger", address(0), "caller is not the owner"), ("owner", address(7), "not a member")],
)
def test_remove_member_refuses(k, who, member, reason):
    refused(f"lag_committee: {reason}", k.remove_member, k.owner if who == "owner" else k.stranger, member)


def test_remove_member_refuses_the_last():
    with boa.env.anchor():
        k = Committee(1, UNANIMOUS)
        refused("lag_committee: cannot remove the last member", k.remove_member, k.owner, address(0))


def test_remove_member_under_fixed_keeps_m_within_n():
    with boa.env.anchor():
        k = Committee(3, FIXED, 2)
        k.remove_member(k.owner, address(2))  # 2 left: m = 2 still fits
        refused("lag_committee: removal would leave fewer members than m", k.remove_member, k.owner, address(1))


# ---- the rule --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "m", "threshold"), [(UNANIMOUS, 0, 3), (TWO_THIRDS, 0, 2), (FIXED, 1, 1), (FIXED, 3, 3)]
)
def test_set_rule(k, rule, m, threshold):
    k.set_rule(k.owner, rule, m)
    assert k.c.threshold() == threshold and k.c.epoch() == 1
    assert k.events["RuleSet"] == [{"rule": rule, "m": m, "epoch": 1}]


@pytest.mark.parametrize(
    ("who", "rule", "m", "reason"),
    [
        ("stranger", UNANIMOUS, 0, "caller is not the owner"),
        ("owner", 0, 0, "unknown rule"),
        ("owner", 4, 0, "unknown rule"),
        ("owner", UNANIMOUS, 2, "m is only for the FIXED rule"),
        ("owner", FIXED, 0, "m out of range 1 .. member count"),
        ("owner", FIXED, 4, "m out of range 1 .. member count"),
        ("owner", FIXED, 2**256 - 1, "m out of range 1 .. member count"),
    ],
)
def test_set_rule_refuses(k, who, rule, m, reason):
    refused(f"lag_committee: {reason}", k.set_rule, k.owner if who == "owner" else k.stranger, rule, m)


@pytest.mark.parametrize("n", range(1, 33))
def test_two_thirds_is_ceil_of_2n_over_3(n):
    from math import ceil

    model = CommitteeModel(ZERO, [address(i) for i in range(n)], TWO_THIRDS, 0)
    assert model.threshold() == ceil(2 * n / 3)


def test_two_thirds_threshold_on_chain_for_n_up_to_32():
    with boa.env.anchor():
        k = Committee(1, TWO_THIRDS)
        for n in range(2, 33):
            k.add_member(k.owner, address(n - 1))  # `check` compares threshold() with the twin's
            assert k.c.threshold() == -(-2 * n // 3)


# ---- attesting -------------------------------------------------------------------------------------------------


def test_attest_records_the_digest_and_the_signers(k):
    assert k.attest(k.stranger, 1, D1, k.signed([0, 2], 1, D1))
    assert k.c.attested(KIND, 1) == D1
    assert k.events["Attested"][0]["signers"] == 0b101


def test_attest_again_with_the_same_digest_is_a_no_op(k):
    k.attest(k.stranger, 1, D1, k.signed([0, 1], 1, D1))
    assert not k.attest(k.stranger, 1, D1, [])  # no signatures checked, no event


def test_attest_refuses_another_digest_for_an_attested_round(k):
    k.attest(k.stranger, 1, D1, k.signed([0, 1], 1, D1))
    refused(
        "lag_committee: round attested with another digest", k.attest, k.stranger, 1, D2, k.signed([0, 1, 2], 1, D2)
    )
    other = b"\x01" * 32  # another kind is another slot
    assert k.attest(k.stranger, 1, D2, k.signed([0, 1], 1, D2, kind=other), kind=other)


def test_attest_refuses_a_zero_digest(k):
    refused("lag_committee: digest is zero", k.attest, k.stranger, 1, b"\x00" * 32, k.signed([0, 1], 1, b"\x00" * 32))


@pytest.mark.parametrize(
    ("n", "rule", "m", "threshold"),
    [
        (3, UNANIMOUS, 0, 3),
        (3, TWO_THIRDS, 0, 2),
        (7, TWO_THIRDS, 0, 5),
        (4, TWO_THIRDS, 0, 3),
        (5, FIXED, 4, 4),
        (1, UNANIMOUS, 0, 1),
    ],
)
def test_threshold_boundary_m_minus_1_reverts_m_passes(n, rule, m, threshold):
    with boa.env.anchor():
        k = Committee(n, rule, m)
        assert k.c.threshold() == threshold
        refused(
            "lag_committee: fewer signatures than the threshold",
            k.attest,
            k.stranger,
            1,
            D1,
            k.signed(range(threshold - 1), 1, D1),
        )
        assert k.attest(k.stranger, 1, D1, k.signed(range(threshold), 1, D1))
        assert k.attest(k.stranger, 2, D1, k.signed(range(n), 1 + 1, D1))  # all N: more than M is fine


@pytest.mark.parametrize("form", ["rsv", "v01", "compact"])
def test_attest_takes_what_wallets_produce(k, form):
    sigs = [FORMS[form](s) for s in k.signed([0, 1], 1, D1)]
    assert k.attest(k.stranger, 1, D1, sigs)


def test_attest_takes_mixed_forms(k):
    a, b = k.signed([1, 2], 1, D1)
    assert k.attest(k.stranger, 1, D1, [FORMS["compact"](a), FORMS["v01"](b)])


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ("short", "lag_committee: signature is not 64 or 65 bytes"),
        ("empty", "lag_committee: signature is not 64 or 65 bytes"),
        ("bad_v", "lag_committee: signature v is not 0, 1, 27 or 28"),
        ("high_s", "lag_committee: signature s in the upper half (malleable, EIP-2)"),
        ("high_s_compact", "lag_committee: signature s in the upper half (malleable, EIP-2)"),
        ("r_zero", "ecdsa: invalid signature"),
        ("s_zero", "ecdsa: invalid signature"),
        ("r_off_curve", "ecdsa: invalid signature"),
        ("r_above_n", "ecdsa: invalid signature"),
    ],
)
def test_attest_refuses_malformed_signatures(k, form, reason):
    a, b = k.signed([0, 1], 1, D1)
    refused(reason, k.attest, k.stranger, 1, D1, [a, FORMS[form](b)])


def test_attest_refuses_signers_out_of_order(k):
    a, b = k.signed([0, 1], 1, D1)
    refused("lag_committee: signers not in ascending order", k.attest, k.stranger, 1, D1, [b, a])


def test_attest_refuses_a_non_member(k):
    refused("lag_committee: signer is not a member", k.attest, k.stranger, 1, D1, k.signed([0, 9], 1, D1))


# ---- ownership and views ---------------------------------------------------------------------------------------


def test_transfer_ownership_hands_over_membership_changes(k):
    k.transfer_ownership(k.owner, k.stranger)
    k.add_member(k.stranger, address(5))
    refused("lag_committee: caller is not the owner", k.add_member, k.owner, address(6))
    refused("ownable: caller is not the owner", k.transfer_ownership, k.owner, k.owner)
    refused("ownable: new owner is the zero address", k.transfer_ownership, k.stranger, ZERO)


def test_attestation_hash_is_eip712_as_wallets_sign_it(k):
    attestation = Attestation(KIND, 7, D1, 0)
    message = encode_typed_data(full_message=eip712.typed_data(k.model.domain(), attestation))
    signed = Account.sign_message(message, key(0))  # a wallet's eth_signTypedData_v4
    assert k.c.attestation_hash(KIND, 7, D1, 0) == k.model.attestation_hash(KIND, 7, D1, 0)
    assert bytes(signed.message_hash) == k.model.attestation_hash(KIND, 7, D1, 0)
    k.set_rule(k.owner, FIXED, 1)
    refused(
        "lag_committee: signer is not a member", k.attest, k.stranger, 7, D1, [bytes(signed.signature)]
    )  # epoch 1 now
    wallet = Account.sign_message(
        encode_typed_data(full_message=eip712.typed_data(k.model.domain(), Attestation(KIND, 7, D1, 1))), key(0)
    )
    assert k.attest(k.stranger, 7, D1, [bytes(wallet.signature)])
