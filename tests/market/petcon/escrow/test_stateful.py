"""A stateful machine on the escrow: the house opens two rounds whose results share poles and overlapping
windows, parties escrow for them (and for a third round, which anyone but the house fails to open), the house
is funded and drawn, entries are settled in any order with genuine or tampered readings, time passes the
close, parties withdraw. After every step (the harness's `check`): contract and twin agree, the contract holds
exactly total_held == escrows + house, each round's escrowed + credited == paid + refunded + still escrowed;
and no (pole, interval) has paid two entries.
"""

from __future__ import annotations

import boa
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.market.petcon.escrow.model import Reading
from gridchain.market.petcon.result import BUYER, SELLER
from tests.market.petcon.escrow.harness import DAY_S, SETTLE_S, Hotspot

ROUNDS = (21, 22)
LATE = 23  # a round without a result: opened (or not) during the run
PARTIES = 6
_BASE: list[Hotspot] = []


@pytest.fixture(scope="module", autouse=True)
def _deployed():
    """One deployment for all examples, made outside the per-test isolation (each example runs in an anchor)."""
    _BASE.append(Hotspot(poles=4))
    yield
    _BASE.clear()


class EscrowMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        self.hs = _BASE[0].fork()
        self.paid_intervals: set[tuple[str, int]] = set()

    @initialize(
        energy=st.lists(st.integers(0, 4_000), min_size=PARTIES, max_size=PARTIES),
        amount=st.lists(st.integers(0, 2_000_000), min_size=PARTIES, max_size=PARTIES),
        recorded=st.lists(st.integers(0, 1_800), min_size=4 * 8, max_size=4 * 8),
        shift=st.integers(0, 3),
    )
    def setup(self, energy, amount, recorded, shift):
        hs = self.hs
        self.parties = [hs.new_account().address for _ in range(PARTIES)]
        for p in [*self.parties, hs.owner]:
            hs.give(p)
        yesterday = hs.day - 1
        for k in range(4):  # the poles' readings of yesterday's 10:00 .. 12:00, anchored
            hs.anchor_day(k, yesterday, {40 + t: recorded[k * 8 + t] for t in range(8)}, only=range(40, 48))
        roles = (BUYER, SELLER, BUYER, SELLER, BUYER, SELLER)
        poles = (0, 1, 2, 3, 0, 1)  # round 22's parties use round 21's poles 0 and 1, `shift` intervals later
        es = [hs.entry(p, poles[i], roles[i], energy[i], amount[i]) for i, p in enumerate(self.parties)]
        self.results = {
            ROUNDS[0]: hs.result(ROUNDS[0], es[:4], first_interval=yesterday * 96 + 40, intervals=4),
            ROUNDS[1]: hs.result(ROUNDS[1], es[4:], first_interval=yesterday * 96 + 40 + shift, intervals=4),
        }
        for r in self.results.values():
            hs.attest(r)
        for rnd in ROUNDS:
            hs.open_round(rnd)
        for i, p in enumerate(self.parties):  # every party escrows up front (a seller its bond)
            hs.escrow(p, ROUNDS[i // 4], 1 + amount[i] // 2)

    @rule(party=st.integers(0, PARTIES + 1), round=st.sampled_from((*ROUNDS, LATE)))
    def open_round(self, party, round):
        """The house (party PARTIES + 1) or anyone else tries to open a round: only the house's first succeeds."""
        sender = self.hs.house if party == PARTIES + 1 else self._party(party)
        expected = sender == self.hs.house and round == LATE and self.hs.c.opened_at(LATE) == 0
        out = self.hs.attempt(lambda: self.hs.open_round(round, sender=sender), "open_round")
        assert out.ok == expected

    @rule(party=st.integers(0, PARTIES), round=st.sampled_from((*ROUNDS, LATE)), amount=st.integers(0, 3_000_000))
    def escrow(self, party, round, amount):
        p = self._party(party)
        self.hs.attempt(lambda: self.hs.escrow(p, round, amount), "escrow")

    @rule(amount=st.integers(0, 3_000_000))
    def fund(self, amount):
        self.hs.attempt(lambda: self.hs.fund(self.hs.owner, amount), "fund")

    @rule(amount=st.integers(0, 3_000_000))
    def withdraw_house(self, amount):
        self.hs.attempt(lambda: self.hs.withdraw_house(self.hs.house, amount), "withdraw_house")

    @rule(round=st.sampled_from(ROUNDS), data=st.data())
    def settle(self, round, data):
        """A batch of one round's entries with their genuine readings."""
        r = self.results[round]
        indices = data.draw(st.lists(st.integers(0, len(r.entries) - 1), min_size=1, max_size=3))
        out = self.hs.attempt(lambda: self.hs.settle(r, indices), "settle")
        if out.ok:
            for s in out.value:
                spans = {(s.pole, r.first_interval + t) for t in range(r.intervals)}
                assert not spans & self.paid_intervals, "energy settled twice"
                self.paid_intervals |= spans

    @rule(round=st.sampled_from(ROUNDS), data=st.data())
    def settle_more(self, round, data):
        """Settlement weighs twice among the rules."""
        self.settle(round, data)

    @rule(round=st.sampled_from(ROUNDS), index=st.integers(0, 3), t=st.integers(0, 3), delta=st.integers(1, 500))
    def settle_inflated(self, round, index, t, delta):
        r = self.results[round]
        index %= len(r.entries)
        readings = self.hs.readings(r, [index])
        g = readings[t]
        readings[t] = Reading(g.active_wh + delta, g.reactive_varh, g.r, g.vs, g.proof)
        out = self.hs.attempt(lambda: self.hs.settle(r, [index], readings=readings), "settle inflated")
        assert not out.ok

    @rule(party=st.integers(0, PARTIES), round=st.sampled_from(ROUNDS))
    def withdraw(self, party, round):
        p = self._party(party)
        self.hs.attempt(lambda: self.hs.withdraw(p, round), "withdraw")

    @rule(seconds=st.sampled_from((3_600, 3_600, 3_600, DAY_S, SETTLE_S)))
    def wait(self, seconds):
        self.hs.travel_to(self.hs.now + seconds)

    @invariant()
    def coins_are_all_there(self):
        hs = self.hs
        assert hs.coin.balanceOf(hs.c.address) == hs.c.total_held() == hs.model.held()

    def _party(self, i: int) -> str:
        return self.hs.owner if i == PARTIES else self.parties[i]

    def teardown(self) -> None:
        self.anchor.__exit__(None, None, None)


EscrowMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=20)
TestEscrowMachine = EscrowMachine.TestCase
