"""The trade escrow under random interleavings of trades, against its twin, with books of its own.

The machine opens trades (honest ones, and ones aimed at energy already held or sold, with a stranger's offer or
value), resolves them by two roles (release, revocation, split, any pair), each signing or approving on chain (the
seller wallet only approves: a contract cannot sign), by one role twice or with a stranger, or by one role's
approval and its own signature; approves with hostile values (strangers, amounts above the trade's, closed trades);
claims vouchers (the seller, or the buyer), refunds, moves the clock and withdraws credit of a seller wallet that
refuses ETH. Every call goes to the twin first and then the contract (tests/escrow/harness.py). Its own books,
apart from the twin, from what the chain did: per token, escrowed (Opened) = released to sellers + refunded to
buyers (Resolved / Claimed / Refunded) + still held by open trades; the contract's ETH balance = held ETH = open ETH
trades + credit not withdrawn, its coin balance = held coin; no (meter, interval) is ever paid to two trades, and
every interval of an open or paid trade stays locked.
"""

from __future__ import annotations

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.escrow.model import ETH
from tests.escrow.harness import AMOUNT, Escrow, address
from tests.support.attackers import hostile_contract
from tests.support.mirrored import fresh_traces

ROLES = ("buyer", "seller", "arbiter")
AMOUNTS = st.sampled_from([1, 999, AMOUNT])
SLOTS = st.integers(0, 12)  # 4-interval slots of a meter's word: overlapping trades are drawn often


class EscrowMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        fresh_traces()
        self.k = Escrow()
        self.wallet = str(hostile_contract("rejecting_wallet").address).lower()
        self.k.model.rejects.add(self.wallet)
        self.k.track(self.wallet, 0)
        self.word = (self.k.now // 900 // 256 + 1) * 256
        self.trades = []  # terms opened on chain
        self.escrowed = {ETH: 0, self.k.coin_address(): 0}
        self.released = dict.fromkeys(self.escrowed, 0)
        self.refunded = dict.fromkeys(self.escrowed, 0)
        self.salt = 0

    def teardown(self):
        if hasattr(self, "k"):
            self.k.check()
            self.anchor.__exit__(None, None, None)

    def _terms(self, coin, amount, meter_j, slot, span, wallet_seller, buyer=0):
        self.salt += 1
        token = self.k.coin_address() if coin else ETH
        seller = self.wallet if wallet_seller else address(1)
        return self.k.terms(
            buyer=buyer, seller=seller, token=token, amount=amount, meter_j=meter_j,
            first_interval=self.word + 4 * slot + span[0], intervals=span[1], salt=self.salt,
        )  # fmt: skip

    def _open(self, t, **kwargs):
        out = self.k.attempt(lambda: self.k.open(t.buyer, t, **kwargs), "open")
        if out.ok:
            self.trades.append(t)
            self.escrowed[t.token] += t.amount

    def _closed(self, t, seller_amount):
        self.released[t.token] += seller_amount
        self.refunded[t.token] += t.amount - seller_amount

    def _live(self, data):
        live = [t for t in self.trades if self.k.model.status[self.k.model.trade_id(t)] == 1]
        return data.draw(st.sampled_from(live)) if live else None

    # -- opening -------------------------------------------------------------------------------------------
    @rule(coin=st.booleans(), amount=AMOUNTS, meter_j=st.integers(0, 1), slot=SLOTS,
          span=st.sampled_from([(0, 4), (1, 2), (3, 3), (0, 8)]), wallet_seller=st.booleans())  # fmt: skip
    def open(self, coin, amount, meter_j, slot, span, wallet_seller):
        self._open(self._terms(coin, amount, meter_j, slot, span, wallet_seller))

    @rule(data=st.data(), fault=st.sampled_from(["stranger offer", "value", "same terms"]))
    def open_hostile(self, data, fault):
        t = self._terms(False, AMOUNT, 0, data.draw(SLOTS), (0, 4), False, buyer=3)
        if fault == "stranger offer":
            self._open(t, offer=self.k.offer(t, 5))
        elif fault == "value":
            self._open(t, value=AMOUNT - 1)
        elif self.trades:
            t = data.draw(st.sampled_from(self.trades))
            self._open(t)

    # -- settling ------------------------------------------------------------------------------------------
    @rule(data=st.data(), pair=st.permutations(ROLES), share=st.sampled_from([0, 1, 2, 4]),
          on_chain=st.sampled_from([(False, False)] * 3 + [(True, False), (False, True), (True, True)]))  # fmt: skip
    def resolve(self, data, pair, share, on_chain):
        t = self._live(data) or (data.draw(st.sampled_from(self.trades)) if self.trades else None)
        if t is None:
            return
        amount = t.amount * share // 4 if share < 4 else t.amount
        keys = {"buyer": 0 if t.buyer == address(0) else 3, "seller": 1, "arbiter": 2}
        sigs = []
        for role, approves in zip(pair[:2], on_chain, strict=True):
            if approves or (role == "seller" and t.seller == self.wallet):  # the wallet cannot sign; it approves
                self.k.attempt(lambda r=role: self.k.approve(getattr(t, r), t, amount), "approve")
            else:
                sigs.append(self.k.resolution(keys[role], t, amount))
        if self.k.attempt(lambda: self.k.resolve(address(7), t, amount, sigs), "resolve").ok:
            self._closed(t, amount)

    @rule(data=st.data(), who=st.sampled_from([*ROLES, "stranger", "meter owner"]),
          share=st.sampled_from([0, 1, 2, 4, 5]), closed=st.booleans())  # fmt: skip
    def approve(self, data, who, share, closed):
        t = None if closed else self._live(data)
        t = t or (data.draw(st.sampled_from(self.trades)) if self.trades else None)
        if t is None:
            return
        amount = t.amount * share // 4
        sender = getattr(t, who) if who in ROLES else address(5 if who == "stranger" else 9)
        out = self.k.attempt(lambda: self.k.approve(sender, t, amount), "approve")
        if who not in ROLES or share == 5 or self.k.model.status[self.k.model.trade_id(t)] != 1:
            assert not out.ok

    @rule(data=st.data(), fault=st.sampled_from(["twice", "stranger", "alone", "approved and signed"]))
    def resolve_hostile(self, data, fault):
        t = self._live(data)
        if t is None:
            return
        one = self.k.resolution(2, t, t.amount)
        if fault == "approved and signed":  # the arbiter's approval and its signature: one role
            self.k.attempt(lambda: self.k.approve(t.arbiter, t, t.amount), "approve")
        h = self.k.model.resolution_hash(self.k.model.trade_id(t), t.amount)
        if fault in ("alone", "approved and signed") and self.k.model.approvals.get(h, 0) & 0b011:
            return  # a party approved this release before: the arbiter's signature completes it
        sigs = {"twice": [one, one], "stranger": [one, self.k.resolution(6, t, t.amount)]}.get(fault, [one])
        assert not self.k.attempt(lambda: self.k.resolve(address(2), t, t.amount, sigs), "resolve").ok

    @rule(data=st.data(), share=st.sampled_from([0, 1, 3, 4, 5]), by_buyer=st.booleans())
    def claim(self, data, share, by_buyer):
        t = self._live(data)
        if t is None:
            return
        cumulative = t.amount * share // 4
        buyer_key = 0 if t.buyer == address(0) else 3
        voucher = self.k.voucher(buyer_key, t, cumulative)
        sender = t.buyer if by_buyer else t.seller
        if self.k.attempt(lambda: self.k.claim(sender, t, cumulative, voucher), "claim").ok:
            self._closed(t, cumulative)

    @rule(data=st.data())
    def refund(self, data):
        t = self._live(data)
        if t is not None and self.k.attempt(lambda: self.k.refund(address(8), t), "refund").ok:
            self._closed(t, 0)

    @rule(seconds=st.sampled_from([60, 3600, 86_400]))
    def travel(self, seconds):
        self.k.travel_to(self.k.now + seconds)

    @rule(to=st.sampled_from([4, 5]))
    def withdraw(self, to):
        self.k.attempt(lambda: self.k.withdraw(self.wallet, address(to)), "withdraw")

    # -- invariants ----------------------------------------------------------------------------------------
    @invariant()
    def funds_are_conserved(self):
        if not hasattr(self, "k"):
            return
        k = self.k
        open_trades = [t for t in self.trades if k.model.status[k.model.trade_id(t)] == 1]
        for token in self.escrowed:
            held = sum(t.amount for t in open_trades if t.token == token)
            assert self.escrowed[token] == self.released[token] + self.refunded[token] + held
        credit = k.c.credit(self.wallet)
        assert (
            boa.env.get_balance(k.address)
            == k.c.held_eth()
            == sum(t.amount for t in open_trades if t.token == ETH) + credit
        )
        assert k.coin.balanceOf(k.c.address) == k.c.held_coin()

    @invariant()
    def no_energy_sold_twice_and_held_energy_stays_locked(self):
        if not hasattr(self, "k"):
            return
        k, paid = self.k, {}
        for t in self.trades:
            status = k.model.status[k.model.trade_id(t)]
            for i in range(t.first_interval, t.first_interval + t.intervals):
                if status == 1:
                    assert k.c.is_locked(t.meter, i)
        for (mtr, i), trade in k.sold.items():
            assert (mtr, i) not in paid
            paid[(mtr, i)] = trade
            assert k.c.is_locked(mtr, i)


EscrowMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=30, deadline=None, derandomize=True)
test_escrow_machine = EscrowMachine.TestCase
