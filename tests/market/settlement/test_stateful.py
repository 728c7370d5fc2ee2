"""The settlement contract under random sequences of deposits, withdrawals with notice and time travel, trades on
the market (some reveals void), meter rebinding and settlements of random units (honest, duplicated, with a
tampered book: orders, marks or valid bitmap, or a tampered reading), against its twin. After every step
(House.check): the contract's coins == total_held == the sum of balances == deposits - withdrawals, and every
balance, debt and notice agrees; across the run no (meter, interval) and no (trader, side, interval) is settled
twice."""

from __future__ import annotations

import dataclasses

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.market.settlement import model as s
from tests.market.book import ASK, BID, terms
from tests.market.settlement.harness import NOTICE_S, House
from tests.support.mirrored import fresh_traces

ORDER = st.tuples(
    st.integers(0, 2), st.integers(100_000, 400_000), st.integers(500, 4_000), st.integers(0, 1), st.integers(0, 1)
)
VOID = st.sampled_from([False, False, False, True])  # the reveal names another order's commitment


class SettlementMachine(RuleBasedStateMachine):
    @initialize(rule_=st.sampled_from([0, 1]), orders=st.lists(ORDER, min_size=4, max_size=8), data=st.data())
    def deploy(self, rule_, orders, data):
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        fresh_traces()
        self.h = House(rule=rule_, traders=3, deposit=0)
        self.h.deposit(self.h.house, 2_000_000)
        self.pending: list[tuple[int, tuple, dict]] = []
        self.seen: set[tuple] = set()
        for t in self.h.traders:
            self.h.deposit(t, data.draw(st.integers(1, 1_000_000)))
        self.trade(orders, data)

    def teardown(self):
        self.anchor.__exit__(None, None, None)

    def _trader(self, i: int) -> str:
        return self.h.traders[i % len(self.h.traders)]

    @rule(i=st.integers(0, 3), amount=st.one_of(st.integers(1, 3_000_000), st.just(0)))
    def deposit(self, i, amount):
        who = self.h.house if i == 3 else self._trader(i)
        self.h.attempt(lambda: self.h.deposit(who, amount), "deposit")

    @rule(i=st.integers(0, 3), extra=st.sampled_from([0, 0, 1, -1]))
    def request_withdrawal(self, i, extra):
        who = self.h.house if i == 3 else self._trader(i)
        amount = max(0, self.h.c.balance_of(who) + extra)
        self.h.attempt(lambda: self.h.request_withdrawal(who, amount), "request")

    @rule(i=st.integers(0, 3))
    def withdraw(self, i):
        who = self.h.house if i == 3 else self._trader(i)
        self.h.attempt(lambda: self.h.withdraw(who), "withdraw")

    @rule(seconds=st.sampled_from([0, 3600, NOTICE_S // 2, NOTICE_S]))
    def travel(self, seconds):
        self.h.travel_to(self.h.now + seconds)

    @rule(orders=st.lists(ORDER, min_size=4, max_size=8), data=st.data())
    def trade(self, orders, data):
        book = [(self._trader(t), terms(p, e, z, side)) for t, p, e, z, side in orders]
        void = frozenset(r for r in range(len(book)) if data.draw(VOID))
        k, args = self.h.trade(book, void=void)
        pairs = [(t, side) for t in self.h.traders for side in (BID, ASK)]
        metered = {p: data.draw(st.sampled_from([0, 500, 1_500, 3_000, 8_000])) for p in pairs}
        units = self.h.read(k, metered)
        c = s.Clearing(*self.h.market.c.clearings(k))
        filled = set(s.unit_fills(args, c.buy_price, c.sell_price, c.volume_wh, self.h.market.zone_fees))
        idle = [u for p, u in units.items() if (p[0].lower(), p[1]) not in filled]
        units = {p: u for p, u in units.items() if (p[0].lower(), p[1]) in filled}
        if units:
            self.pending.append((k, args, units, idle))

    @rule(
        data=st.data(),
        how=st.sampled_from(
            ["honest", "honest", "honest", "duplicate", "book", "marks", "valid", "reading", "uncleared", "idle"]
        ),
    )
    def settle(self, data, how):
        if not self.pending:
            return
        k, book, units, idle = data.draw(st.sampled_from(self.pending))
        chosen = data.draw(st.lists(st.sampled_from(sorted(units)), min_size=1, max_size=3, unique=True))
        sent = [units[p] for p in chosen]
        if how == "duplicate":
            sent.append(sent[0])
        elif how == "book":
            book = ([*book[0][:-1], book[0][-1] ^ (1 << 8)], *book[1:])
        elif how == "marks":
            book = (book[0], book[1], book[2] ^ data.draw(st.sampled_from([1 << 32, 1 << 48, 1 << 96, 1 << 144])))
        elif how == "valid":
            book = (book[0], [book[1][0] ^ (1 << data.draw(st.integers(0, 9))), *book[1][1:]], book[2])
        elif how == "reading":
            sent[0] = dataclasses.replace(sent[0], active_wh=sent[0].active_wh + 1)
        elif how == "idle" and idle:
            sent.append(idle[0])
        elif how == "uncleared":
            k += 10**6
        out = self.h.attempt(lambda: self.h.settle(k, book, sent), "settle")
        for e in out.value if out.ok else ():
            for key in ((e.meter, e.interval), (e.trader, e.side, e.interval)):
                assert key not in self.seen, key
                self.seen.add(key)

    @rule(i=st.integers(0, 2), side=st.sampled_from([BID, ASK]), j=st.integers(0, 2), other=st.sampled_from([BID, ASK]))
    def rebind(self, i, side, j, other):
        """Bind (trader i, side) to trader j's `other` meter: its own other meter after unbinding that side
        (a meter moved between sides), or another trader's (refused)."""
        t, meter = self._trader(i), self.h.meters[(self._trader(j), other)].address
        if t == self._trader(j) and side != other:
            self.h.set_meter(t, other, "0x" + "00" * 20)
        self.h.attempt(lambda: self.h.set_meter(t, side, meter), "rebind")

    @invariant()
    def held(self):
        self.h.check()


TestSettlementMachine = SettlementMachine.TestCase
TestSettlementMachine.settings = settings(max_examples=8, stateful_step_count=10, deadline=None)
