"""The committee under random rotations and attestations, interleaved, against its twin.

The machine adds and removes members (the owner, and a stranger who is refused), changes the rule, and attests
rounds with honest signature sets (threshold or more current members), short ones, and sets holding signatures
kept from before a rotation. Every call goes to the twin first and then the contract (tests/committee/harness.py).
Its own book, apart from the twin: the first digest attested for each (kind, round), and for each attestation the
committee and threshold it was made under. After every step: every attested digest on chain is the first one
attested for its round (never changed), and every Attested event named at least the threshold's number of signers,
each a member of the committee of its epoch.
"""

from __future__ import annotations

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.committee.model import FIXED, TWO_THIRDS, UNANIMOUS
from tests.committee.harness import KIND, Committee, address
from tests.support.mirrored import fresh_traces

POOL = 10
DIGESTS = st.sampled_from([b"\x11" * 32, b"\x22" * 32, b"\x33" * 32])
ROUNDS = st.integers(0, 4)


class CommitteeMachine(RuleBasedStateMachine):
    @initialize(n=st.integers(1, 6), rule_=st.sampled_from([UNANIMOUS, TWO_THIRDS]))
    def setup(self, n, rule_):
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        fresh_traces()
        self.k = Committee(n, rule_)
        self.first: dict[int, bytes] = {}  # round -> the first digest attested
        self.made: list[tuple[int, int, list[str], int]] = []  # (round, epoch, members then, threshold then)
        self.kept: list[tuple[int, bytes, list[bytes]]] = []  # signatures made before a rotation

    def teardown(self):
        if hasattr(self, "k"):
            self.k.check()
            self.anchor.__exit__(None, None, None)

    # -- rotations ----------------------------------------------------------------------------------------
    @rule(i=st.integers(0, POOL - 1), stranger=st.booleans())
    def add(self, i, stranger):
        self.k.attempt(lambda: self.k.add_member(self.k.stranger if stranger else self.k.owner, address(i)), "add")

    @rule(i=st.integers(0, POOL - 1))
    def remove(self, i):
        self.k.attempt(lambda: self.k.remove_member(self.k.owner, address(i)), "remove")

    @rule(rule_=st.integers(0, 4), m=st.integers(0, 7))
    def set_rule(self, rule_, m):
        self.k.attempt(lambda: self.k.set_rule(self.k.owner, rule_, m if rule_ == FIXED else 0), "set_rule")

    # -- attestations --------------------------------------------------------------------------------------
    @rule(round=ROUNDS, digest=DIGESTS, extra=st.integers(-1, 1), keep=st.booleans())
    def attest(self, round, digest, extra, keep):
        k = self.k
        signers = k.member_keys()[: max(k.model.threshold() + extra, 0)]
        signatures = k.signed(signers, round, digest)
        if keep:
            self.kept.append((round, digest, signatures))
        self._attest(round, digest, signatures)

    @rule(data=st.data())
    def replay_kept(self, data):
        if self.kept:
            round, digest, signatures = data.draw(st.sampled_from(self.kept))
            self._attest(round, digest, signatures)

    def _attest(self, round, digest, signatures):
        k = self.k
        members, threshold, epoch = list(k.model.members), k.model.threshold(), k.model.epoch
        outcome = k.attempt(lambda: k.attest(k.stranger, round, digest, signatures), "attest")
        if outcome.ok and outcome.value:  # newly attested
            assert round not in self.first
            self.first[round] = digest
            self.made.append((round, epoch, members, threshold))
            event = k.events["Attested"][0]
            signed = [members[b] for b in range(len(members)) if event["signers"] >> b & 1]
            assert len(signed) >= threshold and event["signers"] >> len(members) == 0
            assert event["epoch"] == epoch

    # -- invariants ----------------------------------------------------------------------------------------
    @invariant()
    def attested_digests_never_change(self):
        if hasattr(self, "k"):
            for round, digest in self.first.items():
                assert self.k.c.attested(KIND, round) == digest

    @invariant()
    def every_attestation_had_enough_current_signers(self):
        if hasattr(self, "k"):
            for _, _, members, threshold in self.made:
                assert 1 <= threshold <= len(members)


CommitteeMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None, derandomize=True)
test_committee_machine = CommitteeMachine.TestCase
