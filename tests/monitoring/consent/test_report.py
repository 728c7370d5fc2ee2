"""data_access.vy's `report` over a real access log, against its twin: each breach judged with its reason, an
honest record refused, a record reported once, and the record's place in the log checked (its batch's proof and
the chain of roots to a head the log holds, now's or a pinned one)."""

from __future__ import annotations

import pytest

from gridchain.monitoring.model.consent import EXPIRED, NOT_GRANTED, OUT_OF_RANGE, PURPOSE, REVOKED, WRONG_PARTY
from gridchain.monitoring.model.records import purpose_tag
from tests.monitoring.consent.harness import address, refused
from tests.monitoring.consent.world import World


@pytest.fixture
def w() -> World:
    return World()


def test_an_honest_record_is_no_breach(w):
    g, _ = w.grant()
    r = w.access(g)
    w.attest([r])
    refused("data_access: no breach", w.k.report, w.k.stranger, r, g, w.where(r))
    assert w.k.c.breach_of(r.as_tuple(), g.as_tuple()) == 0


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"grantee": address(5)}, WRONG_PARTY),
        ({"last_day": "past"}, OUT_OF_RANGE),
        ({"first_day": "before"}, OUT_OF_RANGE),
        ({"purpose": purpose_tag("marketing")}, PURPOSE),
    ],
)
def test_a_record_beyond_its_grant_is_reported_with_its_reason(w, change, reason):
    g, _ = w.grant()
    if change.get("last_day") == "past":
        change = {"last_day": g.last_day + 1}
    if change.get("first_day") == "before":
        change = {"first_day": g.first_day - 1}
    r = w.access(g, **change)
    w.attest([r])
    assert w.k.report(w.k.stranger, r, g, w.where(r)) == reason
    refused("data_access: record already reported", w.k.report, w.k.stranger, r, g, w.where(r))


def test_a_reversed_range_is_out_of_range(w):
    g, _ = w.grant()
    r = w.access(g, first_day=g.first_day + 2, last_day=g.first_day + 1)
    w.attest([r])
    assert w.k.report(w.k.stranger, r, g, w.where(r)) == OUT_OF_RANGE


def test_another_households_data_under_a_grant_is_the_wrong_party(w):
    g, _ = w.grant(household=0)
    r = w.access(g, household=1)
    w.attest([r])
    assert w.k.report(w.k.stranger, r, g, w.where(r)) == WRONG_PARTY


def test_a_grant_never_submitted_is_not_granted_with_any_terms(w):
    g, _ = w.grant()
    r = w.access(g, grant=b"\x42" * 32)
    w.attest([r])
    assert w.k.report(w.k.stranger, r, g, w.where(r)) == NOT_GRANTED


def test_times_before_the_grant_at_the_expiry_and_at_the_revocation(w):
    g, gid = w.grant(expiry=None)
    granted = w.k.state(gid).granted_at
    early = w.access(g, time=granted - 1)
    on_time = w.access(g, time=granted)
    w.later(2)
    w.k.revoke(address(0), g)
    revoked = w.k.state(gid).revoked_at
    before_revocation = w.access(g, time=revoked - 1)
    at_revocation = w.access(g, time=revoked)
    at_expiry = w.access(g, time=g.expiry)
    w.attest([early, on_time, before_revocation, at_revocation, at_expiry])
    assert w.k.report(w.k.stranger, early, g, w.where(early)) == NOT_GRANTED
    for r in (on_time, before_revocation):
        refused("data_access: no breach", w.k.report, w.k.stranger, r, g, w.where(r))
    assert w.k.report(w.k.stranger, at_revocation, g, w.where(at_revocation)) == REVOKED
    assert w.k.report(w.k.stranger, at_expiry, g, w.where(at_expiry)) == EXPIRED


def test_the_terms_given_must_be_the_records_grant(w):
    g, _ = w.grant()
    other, _ = w.grant(salt=b"\x01" * 32)
    r = w.access(g, purpose=purpose_tag("marketing"))
    w.attest([r])
    refused("data_access: terms are not the record's grant", w.k.report, w.k.stranger, r, other, w.where(r))


def test_a_record_in_an_old_batch_is_reported_through_the_roots_after_it(w):
    g, _ = w.grant()
    bad = w.access(g, purpose=purpose_tag("marketing"))
    w.attest([w.access(g), bad, w.access(g)])
    for _ in range(3):
        w.attest([w.access(g)])
    where = w.where(bad)
    assert len(where.later) == 3
    assert w.k.report(w.k.stranger, bad, g, where) == PURPOSE


def test_a_pinned_head_serves_as_the_end_of_the_chain(w):
    g, _ = w.grant()
    bad = w.access(g, purpose=purpose_tag("marketing"))
    w.attest([bad])
    w.attest([w.access(g)])
    w.log.pin(w.k.stranger)
    w.attest([w.access(g)])
    assert w.k.report(w.k.stranger, bad, g, w.where(bad, to=2)) == PURPOSE


def test_a_chain_to_a_head_the_log_does_not_hold_is_refused(w):
    g, _ = w.grant()
    bad = w.access(g, purpose=purpose_tag("marketing"))
    w.attest([bad])
    w.attest([w.access(g)])
    w.attest([w.access(g)])
    refused("data_access: batch not in the log", w.k.report, w.k.stranger, bad, g, w.where(bad, to=2))
