"""The trade escrow under random interleavings of trades, against its twin, with books of its own.

The machine opens trades (honest ones, and ones aimed at energy already held or sold, with a stranger's offer or
value), resolves them by two roles (release, revocation, split, any pair), each signing or approving on chain (the
seller wallet only approves: a contract cannot sign), by one role twice or with a stranger, or by one role's
approval and its own signature; approves with hostile values (strangers, amounts above the trade's, closed trades);
claims vouchers (the seller, or the buyer), refunds, moves the clock and withdraws credit of a seller wallet that
refuses ETH; deposits coins into the buyers' escrow balances (by themselves or a stranger; for the zero address, the
escrow itself, zero amounts) and withdraws them (anyone's, above the balance, zero, to the zero address or the
escrow), so coin trades open from a balance or by transferFrom. Every call goes to the twin first and then the
contract (tests/escrow/harness.py). Its own books, apart from the twin, from what the chain did: per token, escrowed
(Opened) = released to sellers + refunded to buyers (Resolved / Claimed / Refunded) + still held by open trades; per
trade, what left the buyer (its wallet and its escrow balance) = the amount = what the seller and the buyer received
(wallet and credit) when it closed; deposited = withdrawn + spent on opens + the balances; the contract's ETH balance
= held ETH = open ETH trades + credit not withdrawn, its coin balance = held coin (+ coins withdrawn to itself) =
open coin trades + the balances; no (meter, interval) is ever paid to two trades, and every interval of an open or
paid trade stays locked.
"""

from __future__ import annotations

import boa
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.escrow.model import ETH, ZERO
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
        self.left = {}  # trade -> what left the buyer at its open (wallet and escrow balance)
        self.received = {}  # trade -> what its seller and buyer received when it closed (wallet and credit)
        self.deposited = self.withdrawn = self.spent = self.stray = 0  # coin balances' books; stray: sent to itself
        self.holders = {address(0), address(3), address(5), self.k.address.lower()}

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

    def _holding(self, who, token):
        """What `who` holds outside the escrow's trades: its wallet and credit (ETH), or its wallet (coin)."""
        if token == ETH:
            return boa.env.get_balance(who) + self.k.c.credit(who)
        return self.k.coin.balanceOf(who)

    def _open(self, t, **kwargs):
        before = self._holding(t.buyer, t.token), self.k.c.coin_balance(t.buyer)
        out = self.k.attempt(lambda: self.k.open(t.buyer, t, **kwargs), "open")
        if out.ok:
            self.trades.append(t)
            self.escrowed[t.token] += t.amount
            spent = before[1] - self.k.c.coin_balance(t.buyer)
            self.spent += spent
            event("open: paid from the coin balance" if spent else "open: paid with the call")
            self.left[out.value] = before[0] - self._holding(t.buyer, t.token) + spent

    def _settle(self, t, call, label):
        """A settling call; if done, what the seller and the buyer received is booked against the trade."""
        before = sum(self._holding(p, t.token) for p in (t.seller, t.buyer))
        balance = self.k.c.coin_balance(t.buyer)
        out = self.k.attempt(call, label)
        if out.ok:
            trade = self.k.model.trade_id(t)
            self.received[trade] = sum(self._holding(p, t.token) for p in (t.seller, t.buyer)) - before
            assert self.k.c.coin_balance(t.buyer) == balance, "a payout went to the buyer's escrow balance"
        return out

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
        if self._settle(t, lambda: self.k.resolve(address(7), t, amount, sigs), "resolve").ok:
            self._closed(t, amount)

    @rule(data=st.data(), who=st.sampled_from([*ROLES, "stranger", "meter owner"]),
          share=st.sampled_from([0, 1, 2, 4, 5]), closed=st.booleans())  # fmt: skip
    def approve(self, data, who, share, closed):
        t = None if closed else self._live(data)
        t = t or (data.draw(st.sampled_from(self.trades)) if self.trades else None)
        if t is None:
            return
        amount = t.amount * share // 4 if share < 5 else t.amount + 1  # 5: above the amount (1 * 5 // 4 is not)
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
        if self._settle(t, lambda: self.k.claim(sender, t, cumulative, voucher), "claim").ok:
            self._closed(t, cumulative)

    @rule(data=st.data())
    def refund(self, data):
        t = self._live(data)
        if t is not None and self._settle(t, lambda: self.k.refund(address(8), t), "refund").ok:
            self._closed(t, 0)

    @rule(seconds=st.sampled_from([60, 3600, 86_400]))
    def travel(self, seconds):
        self.k.travel_to(self.k.now + seconds)

    @rule(to=st.sampled_from([4, 5]))
    def withdraw(self, to):
        self.k.attempt(lambda: self.k.withdraw(self.wallet, address(to)), "withdraw")

    # -- coin balances -------------------------------------------------------------------------------------
    @rule(payer=st.sampled_from([0, 3, 5]), account=st.sampled_from([0, 0, 3, 3, 5, "zero", "escrow"]),
          amount=st.sampled_from([0, 1, 999, AMOUNT, AMOUNT, 3 * AMOUNT]))  # fmt: skip
    def deposit(self, payer, account, amount):
        account = {"zero": ZERO, "escrow": self.k.address.lower()}.get(account, account)
        account = address(account) if isinstance(account, int) else account
        if self.k.attempt(lambda: self.k.deposit(address(payer), account, amount), "deposit").ok:
            self.deposited += amount

    @rule(sender=st.sampled_from(["richest", "richest", 0, 3, 5]), to=st.sampled_from([0, 4, 4, "zero", "escrow"]),
          amount=st.sampled_from([0, 1, 999, AMOUNT, "all", "all", "above"]))  # fmt: skip
    def withdraw_coin(self, sender, to, amount):
        if sender == "richest":  # the pool account with the largest balance
            sender = max((0, 3, 5), key=lambda i: self.k.c.coin_balance(address(i)))
        sender = address(sender)
        to = {"zero": ZERO, "escrow": self.k.address.lower()}.get(to, to)
        to = address(to) if isinstance(to, int) else to
        balance = self.k.c.coin_balance(sender)
        amount = {"all": balance, "above": balance + 1}.get(amount, amount)
        if self.k.attempt(lambda: self.k.withdraw_coin(sender, to, amount), "withdraw_coin").ok:
            self.withdrawn += amount
            self.stray += amount if to == self.k.address.lower() else 0
            assert self.k.c.coin_balance(sender) == balance - amount
        elif amount > balance:
            assert self.k.c.coin_balance(sender) == balance

    @rule(amount=AMOUNTS, short=st.sampled_from([0, 0, 1]), slot=SLOTS, payer=st.sampled_from([0, 5]),
          wallet_seller=st.booleans())  # fmt: skip
    def deposit_then_open(self, amount, short, slot, payer, wallet_seller):
        """The buyer's balance funded to the amount (or one short) by itself or a relayer, then its coin trade."""
        need = amount - short - self.k.c.coin_balance(address(0))
        if need > 0:
            self.deposit(payer, 0, need)
        self._open(self._terms(True, amount, 1, slot, (0, 4), wallet_seller))

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
        balances = sum(k.c.coin_balance(a) for a in self.holders)
        assert self.deposited == self.withdrawn + self.spent + balances
        open_coin = sum(t.amount for t in open_trades if t.token != ETH)
        assert k.coin.balanceOf(k.c.address) == k.c.held_coin() + self.stray == open_coin + balances + self.stray
        for t in self.trades:
            trade = k.model.trade_id(t)
            assert self.left[trade] == t.amount, "what left the buyer is not the trade's amount"
            if trade in self.received:
                assert self.received[trade] == t.amount, "escrowed is not released + refunded for a trade"

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
