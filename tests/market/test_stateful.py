"""The call market under random sequences of every action, against its twin (the differential test of every rule).

The machine commits (well-formed orders, hostile terms over their whole ranges, copies of another trader's
commitment, intervals too far ahead or already closed), reveals (honestly, with a wrong salt, a wrong or
too-large commit index, from another sender, twice, with terms out of range), moves the clock to each window's
edges, and clears (the keeper's honest arguments, or tampered: the marks changed - a field +-1, a position moved,
K, L, B or A one rank along its side, the pair one rank earlier, no trade claimed -, a reveal dropped, a fake
order, a valid reveal flagged, a commitment dropped or handed in above 192 bits), under both rules, each through
the twin
(`gridchain.market.model.CallMarketModel`) first and then the contract (tests/market/mirrored.py): a refusal must
carry the same reason on both sides and change nothing; a success must emit the same event and leave the same
ring words and clearing. After an interval's clear window the machine moves to a fresh interval, so that ring
words are reused and stale ones read empty.
"""

from __future__ import annotations

import dataclasses

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from gridchain.market.clearing import pack16, unpack16
from gridchain.market.model import FLAG, MAX_ORDERS
from tests.market.book import order_word, terms
from tests.market.harness_contract import HORIZON, INTERVAL_S, ZONES
from tests.market.marks import perturbations, rank_moves
from tests.market.mirrored import MirroredMarket
from tests.support.mirrored import fresh_traces

PRICES = st.one_of(st.integers(100_000, 400_000), st.sampled_from([0, 1, 2**64 - 1]))
ENERGIES = st.one_of(st.integers(1, 5_000), st.sampled_from([0, 1, 2**24 - 1]))
ZONE = st.integers(0, ZONES)  # ZONES itself is unknown
TAMPER = st.sampled_from(
    ["none", "none", "marks", "rank", "rank", "no trade", "drop", "fake", "flag", "commitment", "digest"]
)


class CallMarketMachine(RuleBasedStateMachine):
    @initialize(rule_=st.sampled_from([0, 1]))
    def deploy(self, rule_):
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        fresh_traces()
        self.m = MirroredMarket(rule=rule_)
        self.traders = [str(boa.env.generate_address()) for _ in range(4)]
        self.k = self.m.now // INTERVAL_S + 2
        self.secrets: list[tuple[str, int, bytes, int]] = []  # (trader, terms, salt, commit index) of self.k
        self.salts = 0

    def teardown(self):
        self.anchor.__exit__(None, None, None)

    def _salt(self) -> bytes:
        self.salts += 1
        return self.salts.to_bytes(32, "big")

    def _next_interval(self) -> None:
        self.k = self.m.now // INTERVAL_S + 2
        self.secrets = []

    # -- commits ---------------------------------------------------------------------------------------------
    @rule(data=st.data(), n=st.integers(2, 8))
    def commit_a_book(self, data, n):
        """Several traders commit at once (so that reveals and clears find books to work on)."""
        for _ in range(n):
            self.commit(data.draw(st.integers(0, 3)), data.draw(PRICES), data.draw(ENERGIES), data.draw(ZONE),
                        data.draw(st.integers(0, 1)), 0)  # fmt: skip

    @rule(data=st.data())
    def reveal_all(self, data):
        """Every secret of the interval revealed, each in a drawn way (mostly honestly)."""
        for which in range(len(self.secrets)):
            self.reveal(which, data.draw(st.sampled_from(["honest"] * 4 + ["salt", "index", "sender", "huge"])))

    @precondition(lambda self: self.m.now < self.m.params.reveal_open(self.k))
    @rule(data=st.data(), n=st.integers(2, 8))
    def trade(self, data, n):
        """A whole book at once: committed, revealed (mostly honestly) and the clock at reveal_close, so that the
        clears (honest or tampered) find a book that may trade."""
        self.commit_a_book(data, n)
        self.m.travel_to(self.m.params.reveal_open(self.k))
        self.reveal_all(data)
        self.m.travel_to(self.m.params.reveal_close(self.k))

    @rule(t=st.integers(0, 3), price=PRICES, energy=ENERGIES, zone=ZONE, side=st.integers(0, 1),
          ahead=st.sampled_from([0, 0, 0, 1, HORIZON + 3]))  # fmt: skip
    def commit_one(self, t, price, energy, zone, side, ahead):
        self.commit(t, price, energy, zone, side, ahead)

    def commit(self, t, price, energy, zone, side, ahead):
        trader, salt = self.traders[t], self._salt()
        order_terms = terms(price, energy, zone, side) if price < 2**64 and energy < 2**24 else 2**96
        k = self.k + ahead
        c = self.m.commitment(trader, k, order_word(trader, order_terms % 2**96), salt)
        index = len(self.m.committed.get(k, []))
        if self.m.attempt(lambda: self.m.commit(trader, k, c), "commit").ok and ahead == 0:
            self.secrets.append((trader, order_terms, salt, index))

    @rule(t=st.integers(0, 3), which=st.integers(0, 50))
    def commit_a_copy(self, t, which):
        """A front-runner commits another trader's commitment as its own."""
        committed = self.m.committed.get(self.k, [])
        if committed:
            c = committed[which % len(committed)].commitment
            self.m.attempt(lambda: self.m.commit(self.traders[t], self.k, c), "copy")

    # -- reveals ---------------------------------------------------------------------------------------------
    @precondition(lambda self: self.secrets)
    @rule(which=st.integers(0, 50),
          how=st.sampled_from(["honest", "honest", "salt", "index", "sender", "huge", "terms"]))  # fmt: skip
    def reveal_one(self, which, how):
        self.reveal(which, how)

    def reveal(self, which, how):
        trader, order_terms, salt, index = self.secrets[which % len(self.secrets)]
        if how == "salt":
            salt = self._salt()
        elif how == "index":
            index = (index + 1) % (len(self.secrets) + 2)
        elif how == "sender":
            trader = self.traders[(self.traders.index(trader) + 1) % 4]
        elif how == "huge":
            index = MAX_ORDERS + index % 2  # 2,048 refused; 2,049 too
        elif how == "terms":
            order_terms = 2**96 + order_terms
        self.m.attempt(lambda: self.m.reveal(trader, self.k, index, order_terms, salt), f"reveal {how}")

    # -- the clock -------------------------------------------------------------------------------------------
    @rule(step=st.sampled_from(["phase", "phase", "edge", "second"]))
    def move(self, step):
        """To the next phase of the interval (reveal open, reveal closed, clear window closed), to the last second
        before it, or one second on; past the clear window the machine takes a fresh interval."""
        p = self.m.params
        edges = [p.reveal_open(self.k), p.reveal_close(self.k), p.start(self.k) + INTERVAL_S]
        nxt = next((t for t in edges if t > self.m.now), self.m.now + 1)
        t = {"phase": nxt, "edge": nxt - 1, "second": self.m.now + 1}[step]
        if t > self.m.now:
            self.m.travel_to(t)
        if self.m.now >= edges[-1]:
            self._next_interval()

    # -- the clear -------------------------------------------------------------------------------------------
    @precondition(lambda self: self.m.now >= self.m.params.reveal_close(self.k) or self.salts % 7 == 0)
    @rule(tamper=TAMPER, keeper=st.integers(0, 3), which=st.integers(0, 2**16))
    def clear(self, tamper, keeper, which):
        honest = self.m.args(self.k)
        args = _tampered(honest, tamper, which)
        label = "clear" if args == honest else f"clear {tamper}"
        outcome = self.m.attempt(lambda: self.m.clear(self.k, args, sender=self.traders[keeper]), label)
        assert args == honest or not outcome.ok, f"a tampered clear ({tamper}) accepted: {args}"

    @invariant()
    def same_state(self):
        if hasattr(self, "m"):
            self.m.check(self.k)


def _tampered(args, how: str, which: int):
    """The keeper's honest arguments, or a dishonest keeper's change of them (`which` picks among several)."""
    if how in ("marks", "rank"):
        if how == "marks":
            changes = list(perturbations(args.marks, len(args.orders)))
        else:
            changes = list(rank_moves(args.marks, args.bid_positions, args.ask_positions))
        if changes:
            return dataclasses.replace(args, marks=changes[which % len(changes)][1])
    if how == "no trade" and args.marks:
        return dataclasses.replace(args, marks=0)
    refs = unpack16(args.refs, len(args.orders))
    if how == "drop" and args.orders:  # a reveal omitted
        r = which % len(args.orders)
        return dataclasses.replace(
            args, orders=args.orders[:r] + args.orders[r + 1 :], refs=pack16(refs[:r] + refs[r + 1 :])
        )
    if how == "fake":  # an order never revealed
        return dataclasses.replace(args, orders=[*args.orders, 1 << 96 | terms(999_999, 5_000)])
    if how == "flag" and refs and not refs[0] & FLAG:  # a valid reveal claimed to be a mismatch
        refs[0] |= FLAG
        return dataclasses.replace(args, refs=pack16(refs), mismatched=[args.commitments[refs[0] & 0x7FFF]])
    if how == "commitment" and args.commitments:  # a commitment dropped
        return dataclasses.replace(args, commitments=args.commitments[:-1])
    if how == "digest" and args.commitments:  # a digest with a bit above its 192
        i = which % len(args.commitments)
        commitments = [*args.commitments[:i], args.commitments[i] | 1 << (192 + which % 64), *args.commitments[i + 1 :]]
        return dataclasses.replace(args, commitments=commitments)
    return args


TestCallMarketMachine = CallMarketMachine.TestCase
TestCallMarketMachine.settings = settings(max_examples=30, stateful_step_count=50, deadline=None)
