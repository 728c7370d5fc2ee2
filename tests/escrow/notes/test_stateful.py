"""The notes pool under random interleavings, against its twin, with books of its own.

The machine registers keys, deposits (each deposit gives its depositor one note for a new fresh address, signed by
the issuer), moves the clock by hours and days, redeems notes (by a relayer for a fee the fresh address signed, or
by the fresh address itself, or by a wallet contract that refuses ETH), replays spent notes, lets the issuer forge
notes nobody paid for, and withdraws the wallet's credit. Every call goes to the twin first and then the contract
(tests/escrow/notes/harness.py, whose `check` holds the books: deposited = paid to fresh addresses + fees + held
for notes; balance >= held). Its own books, from the chain's events: no fresh address is paid twice; per epoch,
Redeemed events <= Deposited events; a replay is always refused; a forged note never takes more than the epoch's
deposits, and once forged notes have taken an epoch's places the honest notes left are refused "epoch exhausted".
"""

from __future__ import annotations

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.escrow.notes.model import ZERO
from tests.escrow.notes.harness import ISSUER, Pool, refused
from tests.escrow.notes.keys import address
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import fresh_traces

WALLET = CONTRACTS.parent / "tests/support/fixtures/rejecting_wallet.vy"
DAYS = 8  # keys registered ahead
FIRST_FRESH = 100  # pool keys from here on are fresh addresses, one per note


class NotesMachine(RuleBasedStateMachine):
    @initialize(coin=st.booleans())
    def setup(self, coin):
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        fresh_traces()
        self.p = Pool(coin=coin, denomination=10**6 if coin else 10**17)
        for day in range(DAYS):
            self.p.register(address(ISSUER), self.p.epoch + day, k=day % 2)
        self.owner = str(boa.env.eoa)
        self.wallet = load(WALLET).deploy()
        self.w = str(self.wallet.address).lower()
        self.p.model.rejects.add(self.w)
        self.p.track(self.w)
        self.next_fresh = FIRST_FRESH
        self.notes: list[tuple[int, int]] = []  # unredeemed honest notes: (epoch, fresh key index)
        self.spent: list[tuple[int, int | str]] = []  # redeemed notes (epoch, fresh key index or the wallet)
        self.paid_out: dict[str, int] = {}  # fresh address -> Redeemed events
        self.per_epoch: dict[int, list[int]] = {}  # epoch -> [deposited, redeemed] from the events
        self.forged: set[int] = set()  # epochs the issuer forged in
        self.deposits = 0
        self.wallet_used = False
        for depositor in (2, 3, 4, 2):  # notes to redeem from the first step, the first day over
            self.deposit(depositor, False)
        self.p.next_day()

    def teardown(self):
        if hasattr(self, "anchor"):
            self.anchor.__exit__(None, None, None)

    def _fresh(self) -> int:
        self.next_fresh += 1
        return self.next_fresh

    def _booked(self, epoch: int, fresh: str) -> None:
        assert self.p.events["Redeemed"][0]["fresh"] == fresh
        self.paid_out[fresh] = self.paid_out.get(fresh, 0) + 1
        self.per_epoch.setdefault(epoch, [0, 0])[1] += 1

    @rule(depositor=st.integers(2, 4), to_wallet=st.sampled_from([False] * 6 + [True]))
    def deposit(self, depositor, to_wallet):
        p = self.p
        self.deposits += 1
        out = p.attempt(lambda: p.deposit(address(depositor), self.deposits.to_bytes(32, "big")), "deposit")
        if out.ok:
            self.per_epoch.setdefault(out.value, [0, 0])[0] += 1
            wallet = to_wallet and not self.wallet_used  # one note per fresh address, the wallet's too
            self.wallet_used |= wallet
            self.notes.append((out.value, -1 if wallet else self._fresh()))

    @rule(seconds=st.sampled_from([3600, 86_400, 86_400]))
    def travel(self, seconds):
        self.p.travel_to(self.p.now + seconds)

    @rule(data=st.data(), times=st.integers(1, 3))
    def redeem(self, data, times):
        """One to three notes, each by a relayer, a named relayer or the fresh address itself, for any fee."""
        for _ in range(times):
            if not self.notes:
                return
            i = data.draw(st.integers(0, len(self.notes) - 1))
            fee = data.draw(st.sampled_from([0, 1, 777, "all"]))
            self._redeem(i, fee, data.draw(st.sampled_from(["relayer", "named", "self"])))

    def _redeem(self, i, fee, how):
        p = self.p
        epoch, j = self.notes[i]
        fee = p.denomination if fee == "all" else fee
        if j == -1:  # the wallet redeems its own note (it cannot sign)
            fresh, out = self.w, p.attempt(lambda: p.redeem(self.owner, epoch, self.w, fee, via=self.wallet), "wallet")
        else:
            fresh = address(j)
            relayer = address(9) if how == "named" else ZERO
            sender = fresh if how == "self" else address(9)
            sig = b"" if how == "self" else p.consent(j, epoch, fee, relayer)
            out = p.attempt(lambda: p.redeem(sender, epoch, fresh, fee, relayer, signature=sig), "redeem")
        if out.ok:
            self.notes.pop(i)
            self.spent.append((epoch, j))
            self._booked(epoch, fresh)
        else:
            reason = out.value.reason
            assert reason in ("trade_notes: note epoch not over", "trade_notes: epoch exhausted"), reason
            if reason.endswith("exhausted"):
                assert epoch in self.forged, "an honest note refused where nobody forged"

    @rule(data=st.data())
    def replay(self, data):
        if not self.spent:
            return
        p = self.p
        epoch, j = data.draw(st.sampled_from(self.spent))
        if j == -1:
            return  # the wallet's replay is the same rule; kept to signing addresses
        refused("trade_notes: note already redeemed", p.redeem, address(j), epoch, address(j), 0)

    @rule(back=st.integers(1, 3), act=st.sampled_from([False] * 3 + [True]))
    def forge(self, back, act):
        """Now and then the issuer signs a note nobody paid for, for an epoch that is over, and its accomplice
        redeems it."""
        p = self.p
        epoch = p.epoch - back
        if not act or p.model.keys.get(epoch) is None:
            return
        j = self._fresh()
        out = p.attempt(lambda: p.redeem(address(j), epoch, address(j), 0), "forged")
        if out.ok:
            self.forged.add(epoch)
            self.spent.append((epoch, j))
            self._booked(epoch, address(j))
        else:
            assert out.value.reason == "trade_notes: epoch exhausted", out.value.reason

    @rule()
    def withdraw(self):
        p = self.p
        credit = p.model.credit.get(self.w, 0)
        if credit == 0:
            return
        with boa.env.prank(self.owner):
            self.wallet.execute(p.c.address, p.c.withdraw.prepare_calldata(address(11)), 0)
        assert p.model.withdraw(self.w, address(11)) == credit
        p.check()

    @invariant()
    def books(self):
        if not hasattr(self, "p"):
            return
        assert all(n == 1 for n in self.paid_out.values()), "a fresh address was paid twice"
        for epoch, (deposited, redeemed) in self.per_epoch.items():
            assert redeemed <= deposited, f"epoch {epoch}: more redemptions than deposits"
            assert self.p.c.redemptions(epoch) == redeemed and self.p.c.deposits(epoch) == deposited
        # the harness's `check` (twin, chain and funds) runs after every call that succeeds; a refusal changes nothing


NotesMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=30, deadline=None, derandomize=True)
test_notes_machine = NotesMachine.TestCase
