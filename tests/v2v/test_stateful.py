"""The V2V auction under random sequences of every action, against its twin, and its reentrancy paths.

The machine drives admissions, pauses, auctions (hostile amounts, rates, deposits and minimum collaterals
drawn over the whole uint256 range as well as well-formed ones), bids (right and wrong collateral against
max(rate x amount, minimum), equal and lower rates), the clock, ends by the consumer or by anyone else (the
provider, a loser, a stranger, a contract) around closing + GRACE, receipts (honest, forged, above the
amount), settlements by either party or a stranger, expiries and withdrawals, each through the twin
(`gridchain.v2v.model.V2VModel`) first and then the contract (the V2V harness, tests/v2v/harness.py: a refusal
must be the same on both sides and change nothing); settlements and expiries forfeit the undelivered collateral
share or not by who ended when. After every step it checks what the harness compares (admissions, auctions,
tokens, pending returns) and conservation of funds: the contract's balance equals the model's liabilities (live
deposits and collaterals plus pending returns), and every account's balance equals what it started with, less
what it sent, plus what it was paid. One provider is a contract whose receive always reverts.
"""

from __future__ import annotations

import boa
from eth_account import Account
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from gridchain.v2v.client import receipt_signer, sign_receipt
from gridchain.v2v.model import (
    ZERO,
    cost,
    required_collateral,
)
from tests.support.attackers import FIXTURES
from tests.support.deployers import load
from tests.support.mirrored import fresh_traces
from tests.v2v.harness import GRACE, VALIDITY, Market

FUNDS = 2**100  # [wei] enough for the largest deposit the contract takes (2**80 - 1) and more
RATE0 = 400 * 10**12  # [wei/kWh]
U256 = 2**256 - 1
# hostile values next to well-formed ones (the model and the contract must refuse them alike)
AMOUNTS = st.one_of(
    st.sampled_from([20_000, 20_000, 999, 1]), st.sampled_from([0, 2**64 - 1, 2**64, U256]), st.integers(0, U256)
)
RATES = st.one_of(st.just(RATE0), st.just(RATE0), st.sampled_from([0, 1, 2**80 - 1, 2**80, U256]), st.integers(0, U256))
# the minimum collateral: None (the default, the deposit) or relative to the deposit, or any value
MINIMA = st.one_of(st.sampled_from([None, None, 0, "deposit", "deposit+1", "half"]), st.integers(0, U256))


def hostile():
    return load(FIXTURES / "hostile_ev.vy")


class HostileMarket(Market):
    """The V2V harness (tests/v2v/harness.py) with EVs funded for any deposit, and one more admitted EV: a contract
    whose receive always reverts (its payouts stay pending). The owner pays its bids, so the owner is followed too."""

    FUNDS = FUNDS

    def __init__(self, evs: int = 4) -> None:
        self.hostile = None  # deployed once the auction is
        super().__init__(evs=evs)
        self.refund(self.owner, FUNDS)  # pays the hostile contract's bids
        self.hostile = hostile().deploy(self.c.address)
        self.hostile.set_mode(2)
        self.model.refusing.add(str(self.hostile.address).lower())
        self.track(self.hostile.address, FUNDS)
        self.add_ev(str(self.hostile.address))
        self.keys = {ev.address.lower(): ev.key for ev in self.evs}

    @property
    def addresses(self) -> list[str]:
        return [ev.address for ev in self.evs]

    def step(self, sender: str, model_call, chain_call, value: int = 0, label: str = "call"):
        """A machine's step: `mirror` it; a refusal (checked on both sides) is an outcome, not an error."""
        return self.attempt(lambda: self.mirror(sender, model_call, chain_call, value), label)

    def signed_receipt(self, consumer: str, delivered_wh: int, key: bytes | None = None):
        """A receipt for `consumer`'s trade (signed with its key, or `key`, to forge) and whom it recovers to."""
        token = self.model.token(consumer) or b"\x11" * 32  # no trade: any token (the contract refuses earlier)
        signed = sign_receipt(key or self.keys[consumer.lower()], self.chain_id, self.address, token, delivered_wh)
        return signed, receipt_signer(self.chain_id, self.address, signed)

    def check(self) -> None:
        """The harness's comparison of every account (the contract's balance is the model's liabilities), and the
        hostile contract received nothing: what it is owed stays pending."""
        super().check()
        assert self.hostile is None or self.hostile.received_wei() == 0


class V2VMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        fresh_traces()  # the auction is deployed again at the same address: only this example's slots
        self.m = HostileMarket()  # every EV and the hostile contract admitted from the start, so trades happen
        self.start(0, 20_000, 600, 0)

    def teardown(self):
        self.anchor.__exit__(None, None, None)

    def pick(self, i: int) -> str:
        return self.m.addresses[i % len(self.m.addresses)]

    def choose(self, j: int, ended: bool) -> str:
        """Mostly a consumer whose auction is in the phase a rule needs (bidding or ended), so that sequences
        reach trades; any EV when there is none, or one time in four."""
        auctions = self.m.model.auctions
        live = [a for a in self.m.addresses if (x := auctions.get(a.lower())) and bool(x.ended_at) == ended]
        return live[j % len(live)] if live and j % 4 else self.pick(j)

    @rule(kind=st.sampled_from(["admit", "remove", "pause", "resume", "resume", "stranger"]), i=st.integers(0, 4))
    def admin(self, kind, i):
        ev = self.pick(i) if i < 4 else str(self.m.hostile.address)
        m, owner = self.m.model, self.m.owner
        if kind == "admit":
            self.m.step(owner, lambda: m.add_ev(owner, self.m.now, ev), lambda: self.m.c.add_ev(ev, "EV"), label=kind)
        elif kind == "remove":
            self.m.step(owner, lambda: m.remove_ev(owner, ev), lambda: self.m.c.remove_ev(ev), label=kind)
        elif kind == "stranger":
            self.m.step(ev, lambda: m.add_ev(ev, self.m.now, ev), lambda: self.m.c.add_ev(ev, "EV"), label=kind)
        else:
            active = kind == "resume"
            self.m.step(
                owner, lambda: m.change_status(owner, active), lambda: self.m.c.change_status(active), label=kind
            )

    @rule(
        i=st.integers(0, 3),
        amount=st.sampled_from([20_000, 20_000, 999, 1, 0]),
        bidding=st.sampled_from([600, 600, 60, 0]),
        extra=st.sampled_from([0, 0, 10**12, -1]),
        minimum=MINIMA,
    )
    def start(self, i, amount, bidding, extra, minimum=None, consumer=None, rate=RATE0):
        consumer = consumer or self.pick(i)
        value = min(max(0, cost(rate, amount) + extra), FUNDS // 4)  # what the account can send
        if isinstance(minimum, str):
            minimum = {"deposit": value, "deposit+1": value + 1, "half": value // 2}[minimum]
        args = () if minimum is None else (minimum,)
        self.m.step(
            consumer,
            lambda: self.m.model.start_auction(consumer, self.m.now, value, amount, bidding, rate, minimum),
            lambda: self.m.c.start_auction(amount, bidding, rate, *args, value=value),
            value,
            label="start" if minimum is None else "start (minimum)",
        )

    @rule(i=st.integers(0, 3), amount=AMOUNTS, rate=RATES, extra=st.sampled_from([0, -1, 1, 2**80]), minimum=MINIMA)
    def start_hostile(self, i, amount, rate, extra, minimum):
        """Amounts, rates, deposits and minima anywhere in uint256 (most are refused, by the same reason)."""
        self.start(i, amount, 600, extra, minimum, rate=rate)

    @precondition(lambda self: self.m.model.active)
    @rule(
        i=st.integers(0, 5),
        j=st.integers(0, 7),
        step=st.sampled_from([0, 1, 7 * 10**12, RATE0]),
        wrong=st.one_of(st.sampled_from([0, 0, 0, 1, -1]), st.integers(2, U256)),
    )
    def bid(self, i, j, step, wrong):
        self._bid(i, j, step, wrong)

    @precondition(lambda self: self.m.model.active)
    @rule(i=st.integers(0, 5), j=st.integers(1, 7), step=st.sampled_from([10**12, 3 * 10**12]))
    def underbid(self, i, j, step):
        self._bid(i, j, step, 0)

    def _bid(self, i, j, step, wrong, consumer=None):
        if not any(a.ended_at == 0 for a in self.m.model.auctions.values()):  # open one to bid in (random
            idle = [a for a in self.m.addresses if a.lower() not in self.m.model.auctions]  # sequences rarely would)
            if idle:
                self.start(j, 20_000, 600, 0, consumer=idle[j % len(idle)])
        consumer = consumer or self.choose(j, ended=False)
        a = self.m.model.auctions.get(consumer.lower())
        current = a.rate_wei_per_kwh if a else RATE0
        rate = max(0, current - step)
        value = max(0, required_collateral(rate, a.amount_wh, a.min_collateral_wei) if a else cost(rate, 1000))
        value = value + wrong if abs(wrong) <= 1 else wrong  # off by one, or any value
        value = min(max(0, value), FUNDS // 4)
        if i == 4:  # the hostile contract bids through itself
            provider = str(self.m.hostile.address)
            self.m.step(
                self.m.owner,
                lambda: self.m.model.place_bid(provider, self.m.now, value, consumer, rate),
                lambda: self.m.hostile.bid(consumer, rate, value=value),
                value,
                label="bid (hostile)",
            )
            return
        others = [x for x in self.m.addresses if x != consumer]
        provider = consumer if i == 5 else others[i % len(others)]  # 5: in its own auction
        self.m.step(
            provider,
            lambda: self.m.model.place_bid(provider, self.m.now, value, consumer, rate),
            lambda: self.m.c.place_bid(consumer, rate, value=value),
            value,
            label="bid",
        )

    @rule(seconds=st.sampled_from([1, 59, 600, VALIDITY, GRACE]))
    def wait(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @precondition(lambda self: any(a.ended_at == 0 for a in self.m.model.auctions.values()))
    @rule(j=st.integers(0, 7), first=st.sampled_from([0, 60, 600]))
    def end(self, j, first):
        if first:
            boa.env.time_travel(seconds=first)
        consumer = self.choose(j, ended=False)
        self.m.step(
            consumer,
            lambda: self.m.model.end_auction(consumer, self.m.now),
            lambda: self.m.c.end_auction(),
            label="end",
        )

    @precondition(lambda self: any(a.ended_at == 0 for a in self.m.model.auctions.values()))
    @rule(
        j=st.integers(0, 7),
        who=st.sampled_from(["provider", "stranger", "hostile", "consumer"]),
        offset=st.sampled_from([-1, 0, 0, 1, -GRACE, GRACE]),
    )
    def end_by_another(self, j, who, offset):
        """Someone ends a consumer's auction around closing + GRACE (the consumer itself, by the one-argument
        call, may end it from the closing time on)."""
        consumer = self.choose(j, ended=False)
        a = self.m.model.auctions.get(consumer.lower())
        if a is not None and a.closing_time + GRACE + offset > self.m.now:
            boa.env.time_travel(seconds=a.closing_time + GRACE + offset - self.m.now)
        if who == "hostile":  # a contract ends it (sent by the owner, who pays nothing)
            hostile = str(self.m.hostile.address)
            self.m.step(
                self.m.owner,
                lambda: self.m.model.end_auction(hostile, self.m.now, consumer),
                lambda: self.m.hostile.end(consumer),
                label="end (hostile)",
            )
            return
        if who == "provider" and a is not None and a.provider not in (ZERO, str(self.m.hostile.address).lower()):
            sender = a.provider
        elif who == "consumer":
            sender = consumer
        else:
            sender = self.pick(self.m.addresses.index(consumer) + 1 + j % 3)  # another EV, any role
        self.m.step(
            sender,
            lambda: self.m.model.end_auction(sender, self.m.now, consumer),
            lambda: self.m.c.end_auction(consumer),
            label=f"end (by {who})",
        )

    def _ensure_ended(self, j: int, by_another: bool = False) -> None:
        """No ended trade but an auction with a bid: let its bidding close and end it, by its consumer or GRACE
        later by another EV (random sequences would seldom get there)."""
        auctions = self.m.model.auctions
        if any(a.ended_at for a in auctions.values()):
            return
        bid_on = [c for c in self.m.addresses if (a := auctions.get(c.lower())) and a.provider != ZERO]
        if bid_on:
            consumer = bid_on[j % len(bid_on)]
            sender = self.pick(self.m.addresses.index(consumer) + 1) if by_another else consumer
            wait = auctions[consumer.lower()].closing_time + (GRACE if by_another else 0) - self.m.now
            if wait > 0:
                boa.env.time_travel(seconds=wait)
            self.m.step(
                sender,
                lambda: self.m.model.end_auction(sender, self.m.now, consumer),
                lambda: self.m.c.end_auction(consumer),
                label="end",
            )

    def _close_label(self, kind: str, consumer: str) -> str:
        """For the statistics: whether a close forfeits the undelivered collateral share (the consumer ended in
        time) or not (ended later, by anyone)."""
        a = self.m.model.auctions.get(consumer.lower())
        return f"{kind} ({'forfeit' if a is not None and a.ended_in_time(GRACE) else 'no forfeit'})"

    def _party(self, consumer: str, who: int) -> str:
        a = self.m.model.auctions.get(consumer.lower())
        if who == 0 or a is None:
            return consumer
        if who == 1 and a.provider.lower() != str(self.m.hostile.address).lower():
            return a.provider
        return self.pick(self.m.addresses.index(consumer) + 1)  # a stranger (or the other EOA)

    @precondition(lambda self: any(a.ended_at or a.provider != ZERO for a in self.m.model.auctions.values()))
    @rule(
        j=st.integers(0, 7),
        who=st.integers(0, 2),
        share=st.sampled_from([0, 1, 2, 3, 4, 5]),
        forged=st.booleans(),
        settle=st.booleans(),
        first=st.sampled_from([0, 0, VALIDITY]),
    )
    def receipt(self, j, who, share, forged, settle, first):
        self._ensure_ended(j, by_another=j % 3 == 2)
        if first:
            boa.env.time_travel(seconds=first)
        consumer = self.choose(j, ended=True)
        a = self.m.model.auctions.get(consumer.lower())
        amount = a.amount_wh if a else 1000
        delivered = amount * share // 4  # share 5: above the amount
        key = Account.create().key if forged else None
        signed, signer = self.m.signed_receipt(consumer, delivered, key)
        sender = self._party(consumer, who)
        r, vs = signed.as_args()[1:]
        if settle:
            self.m.step(
                sender,
                lambda: self.m.model.settle(sender, self.m.now, consumer, delivered, signer),
                lambda: self.m.c.settle(consumer, delivered, r, vs),
                label=self._close_label("settle", consumer),
            )
        else:
            self.m.step(
                sender,
                lambda: self.m.model.post_receipt(sender, consumer, delivered, signer),
                lambda: self.m.c.post_receipt(consumer, delivered, r, vs),
                label="post receipt",
            )

    @precondition(lambda self: any(a.ended_at or a.provider != ZERO for a in self.m.model.auctions.values()))
    @rule(j=st.integers(0, 7), k=st.integers(0, 3), first=st.sampled_from([0, VALIDITY + GRACE]))
    def expire(self, j, k, first):
        self._ensure_ended(j, by_another=j % 3 == 2)
        if first:
            boa.env.time_travel(seconds=first)
        consumer, sender = self.choose(j, ended=True), self.pick(k)
        self.m.step(
            sender,
            lambda: self.m.model.expire(sender, self.m.now, consumer),
            lambda: self.m.c.expire(consumer),
            label=self._close_label("expire", consumer),
        )

    @precondition(lambda self: self.m.model.active)
    @rule(
        j=st.integers(0, 7),
        bids=st.integers(0, 4),
        share=st.integers(0, 4),
        posted=st.integers(0, 4),
        closer=st.sampled_from(["provider", "consumer", "expire"]),
        minimum=st.sampled_from([None, 0, "half"]),
        ender=st.sampled_from(["consumer", "consumer", "another"]),
    )
    def whole_trade(self, j, bids, share, posted, closer, minimum, ender):
        """A valid trade from start to close in one step (random steps rarely chain all of them), with
        everything else the machine does interleaved before and after. The consumer ends it, or another EV
        GRACE after the closing time; the minimum collateral may be anything (a refused start ends it)."""
        idle = [
            a for a in self.m.addresses if a.lower() not in self.m.model.auctions and a.lower() in self.m.model.admitted
        ]
        if not idle:
            return
        consumer = idle[j % len(idle)]
        self.start(j, 20_000, 600, 0, minimum, consumer=consumer)
        for k in range(bids):
            self._bid(j + k, 0, 10**12, 0, consumer=consumer)
        a = self.m.model.auctions.get(consumer.lower())
        if a is not None and a.ended_at == 0:
            sender = consumer if ender == "consumer" else self.pick(self.m.addresses.index(consumer) + 1 + j % 3)
            wait = a.closing_time + (0 if ender == "consumer" else GRACE) - self.m.now
            if wait > 0:
                boa.env.time_travel(seconds=wait)
            self.m.step(
                sender,
                lambda: self.m.model.end_auction(sender, self.m.now, consumer),
                lambda: self.m.c.end_auction(consumer),
                label=f"end (trade, {ender})",
            )
        a = self.m.model.auctions.get(consumer.lower())
        if a is None or not a.ended_at:
            return  # no bid (or the EVs were removed): the deposit went back
        for amount in sorted({a.amount_wh * posted // 4, a.amount_wh * share // 4}):
            if amount > a.delivered_wh:
                signed, signer = self.m.signed_receipt(consumer, amount)
                self.m.step(
                    consumer,
                    lambda: self.m.model.post_receipt(consumer, consumer, amount, signer),
                    lambda: self.m.c.post_receipt(consumer, *signed.as_args()),
                    label="post receipt",
                )
        signed, signer = self.m.signed_receipt(consumer, a.amount_wh * share // 4)
        if closer == "expire":
            boa.env.time_travel(seconds=VALIDITY + GRACE)
            self.expire(self.m.addresses.index(consumer), j, 0)
            return
        sender = consumer if closer == "consumer" else a.provider
        if closer == "consumer":
            boa.env.time_travel(seconds=VALIDITY)
        if sender.lower() == str(self.m.hostile.address).lower():
            sender = consumer
        self.m.step(
            sender,
            lambda: self.m.model.settle(sender, self.m.now, consumer, signed.delivered_wh, signer),
            lambda: self.m.c.settle(consumer, *signed.as_args()),
            label=self._close_label("settle", consumer),
        )

    @precondition(lambda self: any(self.m.model.pending.values()))
    @rule(i=st.integers(0, 7))
    def withdraw(self, i):
        owed = [a for a in self.m.addresses if self.m.model.pending.get(a.lower())]
        ev = owed[i % len(owed)] if owed and i % 4 else self.pick(i)
        self.m.step(ev, lambda: self.m.model.withdraw(ev), lambda: self.m.c.withdraw(), label="withdraw")

    @invariant()
    def funds_are_conserved(self):
        if hasattr(self, "m"):
            self.m.check()


TestV2VMachine = V2VMachine.TestCase
TestV2VMachine.settings = settings(max_examples=30, stateful_step_count=40, deadline=None)


# ---- reentrancy and double withdrawal ------------------------------------------------------------------


def market_with_trade(provider_is_hostile: bool, mode: int):
    """An ended trade of 10 kWh between an EOA consumer and a provider (the hostile contract or an EOA)
    outbid once by the other, with the paper's collateral (minimum 0: rate x amount); returns the market, the
    consumer and the two bidders."""
    m = HostileMarket(evs=3)  # the EVs and the hostile contract admitted
    consumer, eoa = m.addresses[0], m.addresses[1]
    hostile_ev = str(m.hostile.address)
    m.hostile.set_mode(mode)
    amount = 10_000
    with boa.env.prank(consumer):
        m.c.start_auction(amount, 600, RATE0, 0, value=cost(RATE0, amount))
    first, second = (eoa, hostile_ev) if provider_is_hostile else (hostile_ev, eoa)
    for k, bidder in enumerate((first, second)):
        rate = RATE0 - (k + 1) * 10**12
        if bidder == hostile_ev:
            m.hostile.bid(consumer, rate, value=cost(rate, amount))
        else:
            with boa.env.prank(bidder):
                m.c.place_bid(consumer, rate, value=cost(rate, amount))
    boa.env.time_travel(seconds=600)
    with boa.env.prank(consumer):
        m.c.end_auction()
    return m, consumer, eoa, hostile_ev


def test_reentrant_withdraw_is_refused_and_pays_once():
    with boa.env.anchor():
        m, _, _, hostile_ev = market_with_trade(provider_is_hostile=False, mode=1)  # the hostile one was outbid
        owed = m.c.pending_returns(hostile_ev)
        assert owed == cost(RATE0 - 10**12, 10_000)
        before = boa.env.get_balance(m.c.address)
        m.hostile.take()  # its receive calls withdraw() again: refused by the lock, the outer withdraw goes on
        assert m.hostile.reentry_tried() and not m.hostile.reentry_succeeded()
        assert m.hostile.received_wei() == owed and m.c.pending_returns(hostile_ev) == 0
        assert boa.env.get_balance(m.c.address) == before - owed
        with boa.reverts("v2v: nothing to withdraw"):
            m.hostile.take()  # a second withdraw pays nothing
        assert m.hostile.received_wei() == owed


def test_a_provider_that_refuses_value_cannot_block_settlement():
    with boa.env.anchor():
        m, consumer, _, hostile_ev = market_with_trade(provider_is_hostile=True, mode=2)
        token = m.c.token(consumer)
        signed = sign_receipt(m.keys[consumer.lower()], m.chain_id, str(m.c.address), token, 10_000)
        rate = RATE0 - 2 * 10**12
        consumer_before = boa.env.get_balance(consumer)
        with boa.env.prank(consumer):  # the whole amount: the consumer may settle at once
            m.c.settle(consumer, *signed.as_args())
        owed = cost(rate, 10_000) * 2  # its price plus its collateral back
        assert m.c.pending_returns(hostile_ev) == owed  # the push failed: credited, not lost
        assert boa.env.get_balance(consumer) == consumer_before + cost(RATE0, 10_000) - cost(rate, 10_000)
        assert boa.env.get_balance(m.c.address) == owed + m.c.pending_returns(m.addresses[1])
        m.hostile.set_mode(0)
        m.hostile.take()
        assert m.hostile.received_wei() == owed
        assert boa.env.get_balance(m.c.address) == m.c.pending_returns(m.addresses[1])


def test_a_push_cannot_reenter():
    """The 2,300-gas push leaves a receiver no gas to call back: a reentering receiver is credited instead."""
    with boa.env.anchor():
        m, consumer, _, hostile_ev = market_with_trade(provider_is_hostile=True, mode=1)
        signed = sign_receipt(m.keys[consumer.lower()], m.chain_id, str(m.c.address), m.c.token(consumer), 4_000)
        with boa.env.prank(consumer):
            m.c.post_receipt(consumer, *signed.as_args())
        boa.env.time_travel(seconds=VALIDITY + GRACE)
        with boa.env.prank(m.addresses[2]):  # a stranger expires it: both parties are pushed to
            m.c.expire(consumer)
        assert not m.hostile.reentry_tried()
        rate = RATE0 - 2 * 10**12  # the price of 4 kWh and the collateral less the share of the 6 kWh not delivered
        owed = cost(rate, 4_000) + cost(rate, 10_000) - cost(rate, 10_000) * 6_000 // 10_000
        assert m.c.pending_returns(hostile_ev) == owed
