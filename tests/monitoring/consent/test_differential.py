"""data_access.vy's judgement against its twin's on random records around a grant's every boundary: the day
range (inside, at each end, one beyond, reversed), the parties, the purpose, the time (before the grant, at it,
at the revocation and the expiry, one second either side), grants revoked or not, submitted or not, and terms
that are the record's grant or another's. `breach_of` (a view) must return the twin's value or revert with its
reason; then `report` on the same record, attested, must agree too."""

from __future__ import annotations

import boa
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.monitoring.model.consent import ConsentError
from gridchain.monitoring.model.records import purpose_tag
from tests.monitoring.consent.harness import DAY, address
from tests.monitoring.consent.world import World
from tests.support.mirrored import fresh_traces

EDGE = st.sampled_from([-1, 0, 1])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    revoked=st.booleans(),
    submitted=st.booleans(),
    other_terms=st.sampled_from([False, False, False, True]),
    household=st.sampled_from([0, 0, 0, 1]),
    grantee=st.sampled_from([4, 4, 4, 5]),
    purpose=st.sampled_from(["billing", "billing", "research"]),
    first=st.tuples(st.sampled_from(["first", "last"]), EDGE),
    last=st.tuples(st.sampled_from(["first", "last"]), EDGE),
    when=st.tuples(st.sampled_from(["granted", "revoked", "expiry", "middle"]), EDGE),
)
def test_the_contract_judges_as_its_twin(
    revoked, submitted, other_terms, household, grantee, purpose, first, last, when
):
    with boa.env.anchor():
        fresh_traces()
        w = World()
        g = w.k.terms(0, 4, days=10, expiry=w.k.now + 10 * DAY)
        if submitted:
            w.k.grant(w.k.stranger, g, w.k.sign_grant(g))
        granted = w.k.now
        w.later(3)
        if revoked:
            w.k.revoke(address(0), g)
        ends = {"first": g.first_day, "last": g.last_day}
        times = {
            "granted": granted,
            "revoked": w.k.now if revoked else granted + 3 * DAY,
            "expiry": g.expiry,
            "middle": granted + DAY,
        }
        r = w.access(
            g,
            household=household,
            grantee=address(grantee),
            purpose=purpose_tag(purpose),
            first_day=ends[first[0]] + first[1],
            last_day=ends[last[0]] + last[1],
            time=times[when[0]] + when[1],
        )
        terms = w.k.terms(0, 4, days=10, salt=b"\x05" * 32) if other_terms else g
        try:
            expected = w.k.model.breach_of(r, terms)
        except ConsentError as e:
            with boa.reverts(e.reason):
                w.k.c.breach_of(r.as_tuple(), terms.as_tuple())
            return
        assert w.k.c.breach_of(r.as_tuple(), terms.as_tuple()) == expected
        w.attest([r])
        outcome = w.k.attempt(lambda: w.k.report(w.k.stranger, r, terms, w.where(r)), "report")
        assert outcome.ok == (expected != 0)
