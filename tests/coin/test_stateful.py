"""The energy coin under random sequences of every action with hostile values, against its twin.

The machine mints (by the owner, a granted minter, a revoked one, a stranger; with and without a payment
reference, used ones too), transfers, approves, spends allowances, burns, grants and revokes minters and, rarely,
hands over or renounces ownership; it submits permits signed right or wrong (expired deadlines, used and future
nonces, another domain, a high s, another signer, a tampered amount) by any submitter. Amounts, addresses and
deadlines are drawn hostile as well as well-formed: 0, max uint256, the zero address, the coin itself. Every
call goes to the twin first and then the contract (tests/coin/harness.py). After every step: the supply equals
the sum of all balances (on chain), and no balance changed but by an authorised move, judged from the chain's
state before the step: a decrease only of the sender's own balance (transfer, burn) or of an owner whose
allowance to the sender covered it (transferFrom, burn_from: the allowance from `approve` or a valid permit), an
increase only of the receiver of such a move or of a mint by an account that was a minter.
"""

from __future__ import annotations

import boa
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.coin.model import MALLEABILITY_THRESHOLD, MAX_UINT256, SECP256K1_N, UNIT, ZERO, domain
from tests.coin.harness import Coin
from tests.support.mirrored import fresh_traces

AMOUNTS = st.one_of(
    st.sampled_from([1, UNIT, 10 * UNIT, 100 * UNIT]),
    st.sampled_from([0, MAX_UINT256, MAX_UINT256 - 1, 2**255]),
    st.integers(0, MAX_UINT256),
)
WHO = st.integers(0, 6)  # owner, three holders, a spare minter, the zero address, the coin itself
PERMIT_FAULTS = ("none", "none", "expired", "used_nonce", "future_nonce", "domain", "high_s", "signer", "amount")


class CoinMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        fresh_traces()
        self.k = Coin()
        self.spare = self.k.new_holder().address  # granted and revoked as a minter by the rules
        for h in self.k.holders:
            self.k.mint(self.k.owner, h.address, 100 * UNIT)

    def teardown(self):
        if hasattr(self, "k"):
            self.k.check()
        self.anchor.__exit__(None, None, None)

    def who(self, i: int) -> str:
        k = self.k
        return [k.owner, *(h.address for h in k.holders[:3]), self.spare, ZERO, k.address][i]

    def run(self, label: str, step, *, sender: str) -> None:
        """Make `step` (a harness call) and, if it succeeded, check that every balance change was authorised
        (`authorised`), judged from the state before the step."""
        m = self.k.model  # equal to the chain after every step (the harness checks it): cheaper to read
        before = self.balances(m.balance_of)
        minter, allowances = m.is_minter(sender), {a: m.allowance(a, sender) for a in before}
        if self.k.attempt(step, label).ok:
            self.authorised(before, self.balances(self.k.c.balanceOf), sender, minter, allowances, label)

    def balances(self, balance_of=None) -> dict[str, int]:
        return {a: (balance_of or self.k.c.balanceOf)(a) for a in self.k.known - {ZERO}}

    def authorised(self, before, after, sender, minter, allowances, label) -> None:
        lost = {a: before[a] - after[a] for a in before if after[a] < before[a]}
        gained = {a: after[a] - before[a] for a in before if after[a] > before[a]}
        for account, amount in lost.items():
            own = account == sender.lower() and label in ("transfer", "burn")
            spent = label in ("transfer_from", "burn_from") and allowances.get(account, 0) >= amount
            assert own or spent, f"{label} by {sender} took {amount} from {account} without authority"
        if gained:
            minted = label.startswith("mint") and minter
            assert minted or sum(gained.values()) == sum(lost.values()), f"{label} created coins"
        assert label.startswith("mint") or sum(gained.values()) <= sum(lost.values())

    # -- rules --------------------------------------------------------------------------------------------
    @rule(i=WHO, j=WHO, amount=AMOUNTS, ref=st.sampled_from([None, 0, 1, 2]))
    def mint(self, i, j, amount, ref):
        sender, to = self.who(i), self.who(j)
        if ref is None:
            self.run("mint", lambda: self.k.mint(sender, to, amount), sender=sender)
        else:
            reference = bytes([ref]) * 32
            step = lambda: self.k.mint_with_reference(sender, to, amount, reference)  # noqa: E731
            self.run("mint_ref", step, sender=sender)

    @rule(i=WHO, j=WHO, amount=AMOUNTS)
    def transfer(self, i, j, amount):
        sender = self.who(i)
        self.run("transfer", lambda: self.k.transfer(sender, self.who(j), amount), sender=sender)

    @rule(i=WHO, j=WHO, amount=AMOUNTS)
    def approve(self, i, j, amount):
        sender = self.who(i)
        self.run("approve", lambda: self.k.approve(sender, self.who(j), amount), sender=sender)

    @rule(i=WHO, j=WHO, m=WHO, amount=AMOUNTS)
    def transfer_from(self, i, j, m, amount):
        sender = self.who(i)
        step = lambda: self.k.transfer_from(sender, self.who(j), self.who(m), amount)  # noqa: E731
        self.run("transfer_from", step, sender=sender)

    @rule(i=WHO, amount=AMOUNTS)
    def burn(self, i, amount):
        sender = self.who(i)
        self.run("burn", lambda: self.k.burn(sender, amount), sender=sender)

    @rule(i=WHO, j=WHO, amount=AMOUNTS)
    def burn_from(self, i, j, amount):
        sender = self.who(i)
        self.run("burn_from", lambda: self.k.burn_from(sender, self.who(j), amount), sender=sender)

    @rule(i=st.sampled_from([0, 0, 0, 1]), j=WHO, status=st.booleans())
    def set_minter(self, i, j, status):
        sender = self.who(i) if i else self.k.model.owner
        step = lambda: self.k.set_minter(sender, self.who(j), status)  # noqa: E731
        self.run("set_minter", step, sender=sender)

    @rule(j=st.sampled_from([1, 5]), renounce=st.booleans(), chance=st.integers(0, 9))
    def ownership(self, j, renounce, chance):
        if chance:  # rare: most sequences keep an owner
            return
        owner = self.k.model.owner
        if owner == ZERO:
            return
        if renounce:
            self.run("renounce", lambda: self.k.renounce_ownership(owner), sender=owner)
        else:
            step = lambda: self.k.transfer_ownership(owner, self.who(j))  # noqa: E731
            self.run("transfer_ownership", step, sender=owner)

    @rule(h=st.integers(0, 2), j=WHO, m=WHO, amount=AMOUNTS, fault=st.sampled_from(PERMIT_FAULTS))
    def permit(self, h, j, m, amount, fault):
        k, signer, spender, submitter = self.k, self.k.holders[h].address, self.who(j), self.who(m)
        nonce = k.model.nonce(signer) + {"used_nonce": -1, "future_nonce": 1}.get(fault, 0)
        deadline = k.now - 1 if fault == "expired" else k.now + 3600
        other = domain(k.model.name, k.chain_id + 1, k.address) if fault == "domain" else None
        if nonce < 0:
            return
        key_holder = k.holders[(h + 1) % 3].address if fault == "signer" else signer
        args = k.sign(key_holder, spender, amount, deadline, nonce, other).as_args()
        args[0] = signer
        if fault == "amount":
            args[2] = (amount + 1) % 2**256
        if fault == "high_s":
            s = SECP256K1_N - int.from_bytes(args[6], "big")
            args[4], args[6] = 55 - args[4], s.to_bytes(32, "big")  # the same signature, mirrored
            assert s > MALLEABILITY_THRESHOLD
        self.run("permit", lambda: k.permit(submitter, *args), sender=submitter)

    @rule(seconds=st.sampled_from([1, 600, 86400]))
    def wait(self, seconds):
        self.k.travel_to(self.k.now + seconds)

    # -- invariants ---------------------------------------------------------------------------------------------
    @invariant()
    def supply_is_the_sum_of_balances(self):
        assert self.k.c.totalSupply() == sum(self.balances().values()) == self.k.model.total_supply


TestCoinMachine = pytest.mark.slow(CoinMachine.TestCase)
TestCoinMachine.settings = settings(max_examples=25, stateful_step_count=20, deadline=None, derandomize=True)
