"""data_access.vy's grants and revocations, call by call, against its twin (tests/monitoring/consent/harness.py):
every check's reason, its boundaries, and the stored word."""

from __future__ import annotations

import pytest

from tests.monitoring.consent.harness import DAY, RESEARCH, Consent, address, refused, stand_in


@pytest.fixture
def k() -> Consent:
    return Consent(stand_in())


def test_a_signed_grant_is_stored_with_its_time_and_expiry(k):
    g = k.terms()
    gid = k.grant(k.stranger, g, k.sign_grant(g))
    st = k.state(gid)
    assert (st.granted_at, st.expiry, st.revoked_at) == (k.now, g.expiry, 0)
    assert k.c.grant_id(g.as_tuple()) == gid


def test_the_grantee_or_anyone_may_submit(k):
    g = k.terms(salt=b"\x01" * 32)
    k.grant(address(1), g, k.sign_grant(g))


def test_a_grant_is_submitted_once(k):
    g = k.terms()
    k.grant(k.stranger, g, k.sign_grant(g))
    refused("data_access: grant already submitted", k.grant, k.stranger, g, k.sign_grant(g))


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"household": "0x" + "00" * 20}, "data_access: household is zero"),
        ({"grantee": "0x" + "00" * 20}, "data_access: grantee is zero"),
    ],
)
def test_zero_parties_are_refused(k, change, reason):
    g = k.terms()
    g = type(g)(**{**g.__dict__, **change})
    refused(reason, k.grant, k.stranger, g, k.sign_grant(g))


def test_a_range_must_not_be_reversed_but_may_be_one_day(k):
    g = k.terms()
    bad = type(g)(**{**g.__dict__, "first_day": g.last_day + 1})
    refused("data_access: first day after last day", k.grant, k.stranger, bad, k.sign_grant(bad))
    one = type(g)(**{**g.__dict__, "first_day": g.last_day})
    k.grant(k.stranger, one, k.sign_grant(one))


def test_the_expiry_must_be_in_the_future(k):
    now = k.terms(expiry=k.now)
    refused("data_access: expiry not in the future", k.grant, k.stranger, now, k.sign_grant(now))
    k.grant(k.stranger, k.terms(expiry=k.now + 1), k.sign_grant(k.terms(expiry=k.now + 1)))


def test_only_the_households_signature_grants(k):
    g = k.terms()
    refused("data_access: not signed by the household", k.grant, k.stranger, g, k.sign_grant(g, signer=1))
    other_terms = k.terms(purpose=RESEARCH)
    refused("data_access: not signed by the household", k.grant, k.stranger, g, k.sign_grant(other_terms))


@pytest.mark.parametrize(
    "mangle, reason",
    [
        (lambda s: s[:64] + bytes([29]), "data_access: signature v is not 0, 1, 27 or 28"),
        (lambda s: s[:63], "data_access: signature is not 64 or 65 bytes"),
        (lambda s: b"\x00" * 64 + bytes([27]), "ecdsa: invalid signature"),
        (
            lambda s: s[:32] + (2**256 - 1 - 2**255).to_bytes(32, "big") + s[64:],
            "data_access: signature s in the upper half (malleable, EIP-2)",
        ),
    ],
)
def test_malformed_signatures_are_refused(k, mangle, reason):
    g = k.terms()
    refused(reason, k.grant, k.stranger, g, mangle(k.sign_grant(g)))


def test_wallet_forms_of_one_signature_all_grant(k):
    g = k.terms()
    s = k.sign_grant(g)
    v01 = s[:64] + bytes([s[64] - 27])
    k.grant(k.stranger, g, v01)


def test_the_household_revokes_by_itself_and_its_time_is_kept(k):
    g = k.terms()
    gid = k.grant(k.stranger, g, k.sign_grant(g))
    granted = k.now
    k.travel_to(k.now + DAY)
    refused("data_access: caller is not the household", k.revoke, address(1), g)
    k.revoke(address(0), g)
    st = k.state(gid)
    assert (st.granted_at, st.expiry, st.revoked_at) == (granted, g.expiry, k.now)
    refused("data_access: grant already revoked", k.revoke, address(0), g)


def test_a_signed_revocation_is_submitted_by_anyone(k):
    g = k.terms()
    k.grant(k.stranger, g, k.sign_grant(g))
    refused("data_access: not signed by the household", k.revoke_signed, k.stranger, g, k.sign_revoke(g, signer=1))
    k.revoke_signed(k.stranger, g, k.sign_revoke(g))
    refused("data_access: grant already revoked", k.revoke_signed, k.stranger, g, k.sign_revoke(g))


def test_a_grant_revoked_before_it_was_submitted_is_never_granted(k):
    g = k.terms()
    signature = k.sign_grant(g)
    k.revoke(address(0), g)
    refused("data_access: grant revoked", k.grant, address(1), g, signature)
    assert k.state(k.model.grant_id(g)).granted_at == 0


def test_a_grant_signature_is_not_a_revocation(k):
    g = k.terms()
    grant_sig = k.sign_grant(g)
    refused("data_access: not signed by the household", k.revoke_signed, k.stranger, g, grant_sig)


def test_a_grant_under_another_deployment_is_refused(k):
    other = Consent(stand_in())
    g = k.terms()
    refused("data_access: not signed by the household", k.grant, k.stranger, g, other.sign_grant(g))
