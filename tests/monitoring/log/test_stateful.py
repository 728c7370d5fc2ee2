"""The access log under random rotations, attestations and pins, interleaved, against its twin.

The machine replaces the node set (the owner, with hostile sets too: zero, repeated, m out of range; and a stranger,
refused), attests batches with honest signature sets and with hostile ones (random signers among nodes, rotated-out
nodes and outsiders, duplicates, unsorted, a wrong epoch or index, high s, garbage bytes), replays signatures kept
from earlier batches and epochs, and pins heads. Every call goes to the twin first and then the contract
(tests/monitoring/log/harness.py). Its own book, apart from the twin: the roots attested in order, and for each the
node set, threshold and signers it was accepted with; the heads pinned. After every step: the chain's head is the
hash chain of the book's roots and batches their number (it never shrank); every accepted batch had at least m
distinct signers, each a node of its epoch; every pinned head is as it was pinned; and `includes` proves every
attested root up to the head now (and is false for a wrong root).
"""

from __future__ import annotations

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.crypto.keys import recover_digest
from gridchain.monitoring.model.log import GENESIS, ZERO, chain
from tests.committee.signatures import FORMS
from tests.monitoring.log.harness import Log, address, root_of
from tests.support.mirrored import fresh_traces

POOL = 9  # keys 0 .. 8; POOL itself stands for the zero address in a node set
ROOTS = st.integers(0, 5).map(root_of)
HOSTILE = st.sampled_from(["rsv", "rsv", "v01", "high_s", "compact", "short", "bad_v", "r_zero", "r_off_curve"])
SIGNER = st.tuples(st.integers(0, POOL - 1), HOSTILE, st.sampled_from(["now", "now", "stale_epoch", "other_index"]))


class AccessLogMachine(RuleBasedStateMachine):
    @initialize(n=st.integers(1, 5), m=st.integers(1, 5))
    def setup(self, n, m):
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        fresh_traces()
        self.lg = Log(n, min(m, n))
        self.roots: list[bytes] = []
        self.accepted: list[tuple[list[str], int, list[str]]] = []  # (nodes then, m then, signers)
        self.pins: dict[int, bytes] = {}
        self.kept: list[list[bytes]] = []  # signature lists made for earlier batches or epochs
        self.seen_batches = 0

    def teardown(self):
        if hasattr(self, "lg"):
            self.lg.check()
            self.anchor.__exit__(None, None, None)

    # -- rotations ----------------------------------------------------------------------------------------
    @rule(nodes=st.lists(st.integers(0, POOL), max_size=6), m=st.integers(0, 6), stranger=st.booleans())
    def set_nodes(self, nodes, m, stranger):
        lg = self.lg
        chosen = [ZERO if i == POOL else address(i) for i in nodes]
        lg.attempt(lambda: lg.set_nodes(lg.stranger if stranger else lg.owner, chosen, m), "set_nodes")

    @rule(nodes=st.lists(st.integers(0, POOL - 1), min_size=1, max_size=5, unique=True), pick=st.integers(0, 4))
    def rotate(self, nodes, pick):
        """A valid rotation: old nodes may stay, signatures made before it are void."""
        self.lg.set_nodes(self.lg.owner, [address(i) for i in nodes], 1 + pick % len(nodes))

    # -- attestations --------------------------------------------------------------------------------------
    @rule(
        root=ROOTS,
        extra=st.integers(-1, 1),
        keep=st.booleans(),
        twice=st.sampled_from([None, None, "same", "v01"]),  # one signature again, as it is or in the v01 form
    )
    def attest_honest(self, root, extra, keep, twice):
        lg = self.lg
        index = lg.model.batches
        signatures = lg.signed(lg.node_keys()[: max(lg.model.m + extra, 0)], index, root, 1000)
        if twice and signatures:
            again = signatures[-1] if twice == "same" else FORMS["v01"](signatures[-1])
            signatures = [*signatures[:-1], again, signatures[-1]]
        if keep:
            self.kept.append(signatures)
        self._attest(index, root, signatures)

    @rule(
        root=ROOTS,
        signers=st.lists(SIGNER, max_size=6),
        order=st.sampled_from(["sorted", "sorted", "as drawn"]),
        offset=st.sampled_from([0, 0, 0, 1, -1]),
        garbage=st.lists(st.binary(max_size=70), max_size=2),
    )
    def attest_hostile(self, root, signers, order, offset, garbage):
        lg = self.lg
        index = max(lg.model.batches + offset, 0)
        if order == "sorted":
            signers = sorted(signers, key=lambda s: int(address(s[0]), 16))
        signatures = []
        for i, form, when in signers:
            epoch = lg.model.epoch + 1 if when == "stale_epoch" and lg.model.epoch == 0 else None
            epoch = lg.model.epoch - 1 if when == "stale_epoch" and lg.model.epoch > 0 else epoch
            signatures.append(FORMS[form](lg.sign(i, index + (when == "other_index"), root, 1000, epoch=epoch)))
        self._attest(index, root, signatures + garbage)

    @rule(data=st.data(), root=ROOTS)
    def replay_kept(self, data, root):
        if self.kept:
            self._attest(self.lg.model.batches, root, data.draw(st.sampled_from(self.kept)))

    def _attest(self, index, root, signatures):
        lg = self.lg
        nodes, m = list(lg.model.nodes), lg.model.m
        h = lg.model.batch_hash(index, root, 1000, lg.model.epoch)
        outcome = lg.attempt(lambda: lg.attest(lg.stranger, index, root, 1000, signatures), "attest")
        if outcome.ok:
            assert index == len(self.roots)
            self.roots.append(root)
            signers = [recover_digest(h, s).lower() for s in signatures]
            self.accepted.append((nodes, m, signers))

    # -- pins -----------------------------------------------------------------------------------------------
    @rule(stranger=st.booleans())
    def pin(self, stranger):
        lg = self.lg
        if lg.attempt(lambda: lg.pin(lg.stranger if stranger else lg.owner), "pin").ok:
            assert len(self.roots) not in self.pins
            self.pins[len(self.roots)] = lg.c.head()

    # -- invariants ----------------------------------------------------------------------------------------
    @invariant()
    def head_is_the_chain_of_the_attested_roots(self):
        if hasattr(self, "lg"):
            h = GENESIS
            for r in self.roots:
                h = chain(h, r)
            c = self.lg.c
            assert (c.head(), c.batches()) == (h, len(self.roots))
            assert c.batches() >= self.seen_batches
            self.seen_batches = c.batches()

    @invariant()
    def every_batch_had_m_distinct_nodes_of_its_epoch(self):
        if hasattr(self, "lg"):
            for nodes, m, signers in self.accepted:
                assert len(set(signers)) == len(signers) >= m >= 1
                assert set(signers) <= set(nodes)

    @invariant()
    def pinned_heads_never_change(self):
        if hasattr(self, "lg"):
            for count, head in self.pins.items():
                assert self.lg.c.pinned(count) == head == self.lg.c.head_after(count)

    @invariant()
    def includes_proves_every_root_to_the_head_now(self):
        if hasattr(self, "lg") and self.roots:
            h = GENESIS
            for i, r in enumerate(self.roots):
                later = self.roots[i + 1 :]
                assert self.lg.includes(i, h, r, later)
                assert not self.lg.includes(i, h, root_of(99), later)
                h = chain(h, r)


AccessLogMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None, derandomize=True)
test_access_log_machine = AccessLogMachine.TestCase
