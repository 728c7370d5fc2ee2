"""data_access.vy over a real access log under random grants, revocations (by the household, by signature, by
strangers), time, access records (honest and hostile: other parties, days, purposes, times, grants never made)
attested in batches, and reports (right and wrong terms, records never attested, twice), against its twin.

Every call goes to the twin first and then the contract (tests/monitoring/consent/harness.py); a refusal must carry
the same reason on both sides and change nothing. The machine's own book, apart from the twin: every record it
reported and the reason the contract gave. After every step: the twin's invariant (a grant's times never
rewritten, a revocation never cleared, no grant after a revocation, a record reported once), every grant word and
reported flag on chain equal to the twin's, and every reported record one the judge finds a breach in.
"""

from __future__ import annotations

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.monitoring.model.consent import Grant, InLog
from gridchain.monitoring.model.records import Access
from tests.monitoring.consent.harness import BILLING, DAY, RESEARCH, address
from tests.monitoring.consent.world import World
from tests.support.mirrored import fresh_traces

HOUSEHOLDS = st.integers(0, 3)
GRANTEES = st.integers(4, 7)
SALTS = st.sampled_from([b"\x00" * 32, b"\x01" * 32])
PURPOSES = st.sampled_from([BILLING, BILLING, RESEARCH])


class ConsentMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        fresh_traces()
        self.w = World()
        self.terms: list[Grant] = []  # every grant signed (submitted or not)
        self.pending: list[Access] = []
        self.attested: list[Access] = []
        self.reported: dict[bytes, int] = {}

    def teardown(self):
        if hasattr(self, "w"):
            self.w.k.check()
            self.anchor.__exit__(None, None, None)

    @rule(
        h=HOUSEHOLDS,
        grantee=GRANTEES,
        signer=st.sampled_from([None, None, None, None, 5]),  # None: the household
        start=st.integers(-40, 5),
        days=st.integers(-1, 20),
        purpose=PURPOSES,
        expiry=st.one_of(st.integers(-DAY, DAY), st.integers(DAY, 30 * DAY), st.integers(DAY, 30 * DAY)),
        salt=SALTS,
    )
    def grant(self, h, grantee, signer, start, days, purpose, expiry, salt):
        k = self.w.k
        g = Grant(
            address(h),
            address(grantee),
            k.now // DAY + start,
            k.now // DAY + start + days,
            purpose,
            max(k.now + expiry, 0),
            salt,
        )
        self.terms.append(g)
        k.attempt(lambda: k.grant(k.stranger, g, k.sign_grant(g, h if signer is None else signer)), "grant")

    @rule(data=st.data(), by=st.sampled_from(["household", "signed", "stranger", "signed by another"]))
    def revoke(self, data, by):
        if not self.terms:
            return
        k, g = self.w.k, data.draw(st.sampled_from(self.terms))
        h = next(i for i in range(4) if address(i) == g.household.lower())
        if by == "household":
            k.attempt(lambda: k.revoke(address(h), g), "revoke")
        elif by == "stranger":
            k.attempt(lambda: k.revoke(k.stranger, g), "revoke")
        else:
            signer = h if by == "signed" else (h + 1) % 4
            k.attempt(lambda: k.revoke_signed(k.stranger, g, k.sign_revoke(g, signer)), "revoke_signed")

    @rule(hours=st.integers(0, 72))
    def travel(self, hours):
        self.w.k.travel_to(self.w.k.now + hours * 3600)

    @rule(
        data=st.data(),
        h=st.one_of(st.none(), HOUSEHOLDS),
        grantee=st.one_of(st.none(), GRANTEES),
        first=st.one_of(st.just(0), st.integers(-2, 2)),
        span=st.one_of(st.just(0), st.integers(-1, 3)),
        purpose=st.one_of(st.none(), PURPOSES),
        dt=st.one_of(st.just(0), st.integers(-2 * DAY, DAY)),
        unknown=st.booleans(),
        honest=st.booleans(),
    )
    def access(self, data, h, grantee, first, span, purpose, dt, unknown, honest):
        if not self.terms:
            return
        g = data.draw(st.sampled_from(self.terms))
        if honest:  # the grant's own party, days, purpose and a time now
            h, grantee, first, span, purpose, dt, unknown = None, None, 0, 0, None, 0, False
        kw = dict(first_day=g.first_day + first, last_day=g.first_day + first + span, time=max(self.w.k.now + dt, 0))
        if grantee is not None:
            kw["grantee"] = address(grantee)
        if purpose is not None:
            kw["purpose"] = purpose
        if kw["first_day"] < 0 or kw["last_day"] < 0:
            return
        fields = dict(
            household=g.household if h is None else address(h),
            seq=len(self.pending) + len(self.attested),
            node=address(8),
            grantee=g.grantee,
            grant=b"\x99" * 32 if unknown else self.w.k.model.grant_id(g),
            purpose=g.purpose,
            data_hash=b"\x00" * 32,
            prev=b"\x00" * 32,
        )
        self.pending.append(Access(**{**fields, **kw}))  # any record: the log does not read threads

    @rule()
    def attest(self):
        if self.pending:
            self.w.attest(self.pending)
            self.attested += self.pending
            self.pending = []

    @rule(
        data=st.data(),
        terms=st.sampled_from(["own", "own", "other"]),
        place=st.sampled_from(["true", "true", "forged", "proof"]),
    )
    def report(self, data, terms, place):
        if not self.attested:
            return
        r = data.draw(st.sampled_from(self.attested))
        own = [g for g in self.terms if self.w.k.model.grant_id(g) == r.grant]
        g = own[0] if own and terms == "own" else data.draw(st.sampled_from(self.terms))
        where = self.w.where(r)
        if place == "proof":  # another record's proof
            where = InLog((b"\x21" * 32,) + where.proof[1:], where.index, where.prev_head, where.root, where.later)
        if place == "forged":
            where = InLog(where.proof, where.index, b"\x13" * 32, where.root, where.later)
        out = self.w.k.attempt(lambda: self.w.k.report(self.w.k.stranger, r, g, where), "report")
        if out.ok:
            self.reported[r.leaf()] = out.value

    @invariant()
    def reported_records_are_breaches(self):
        if not hasattr(self, "w"):
            return
        assert set(self.reported) == self.w.k.model.reported
        assert all(reason in range(1, 7) for reason in self.reported.values())


ConsentMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None, derandomize=True)
TestConsent = ConsentMachine.TestCase
