"""The trade escrow against its twin on random hostile sequences: terms with overlapping roles, zero and odd amounts,
foreign tokens, unregistered meters, intervals at and across a word's edges, deadlines at now; offers by the wrong
key or in malformed forms, wrong senders and values; resolutions by any mix of roles, outsiders and repeats in any
signature form (none at all too), for amounts at and above the trade's; on-chain approvals by any role, an outsider
or a contract seller, of any amount, on open, closed or never-opened trades; vouchers by the wrong party or of
another trade; refunds and claims either side of the deadline; a seller that refuses ETH; withdrawals; coin
deposits (by the buyer or a stranger, for a buyer, the zero address or the wallet; zero amounts) and coin
withdrawals (zero, all, above the balance, to the zero address), so that coin trades open from a balance, from
one short of the amount (by transferFrom) or with a value. Each call
goes to the twin first and then the contract (tests/escrow/harness.py): a refusal must carry the same reason on both
sides and change nothing; a success must log the same events, move the same ETH and coins to the same parties, and
leave the same statuses, lock words, credit, coin balances and held totals."""

from __future__ import annotations

import boa
from hypothesis import event, given, settings
from hypothesis import strategies as st

from gridchain.escrow.model import ETH
from tests.committee.signatures import FORMS
from tests.escrow.harness import AMOUNT, OWNER_OF, Escrow, address, meter
from tests.support.attackers import hostile_contract
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import fresh_traces

TERMS = st.fixed_dictionaries(  # mostly valid, each field now and then hostile
    {
        "buyer": st.sampled_from([0, 0, 3]),
        "seller": st.sampled_from([1, 1, 1, 1, 1, "wallet", 0, 2, "zero"]),
        "arbiter": st.sampled_from([2, 2, 2, 2, 2, 1, 0, "zero"]),
        "token": st.sampled_from(["eth", "eth", "eth", "coin", "coin", "coin", "foreign"]),
        "amount": st.sampled_from([AMOUNT, AMOUNT, AMOUNT, 1000, 1, 0]),
        "meter_j": st.sampled_from([0, 0, 0, 1, 2, 3]),  # meter 3 is not registered
        "word": st.integers(0, 1),
        "offset": st.sampled_from([0, 0, 3, 4, 8, 160, 250, 255]),
        "intervals": st.sampled_from([4, 4, 4, 4, 1, 6, 96, 0, 97]),
        "deadline": st.sampled_from([86_400, 86_400, 86_400, 3600, 1, 0, -1]),
        "salt": st.integers(0, 1),
    }
)
FORM = st.sampled_from(["rsv"] * 6 + sorted(FORMS))
HONEST_TERMS = st.fixed_dictionaries(
    {
        "buyer": st.sampled_from([0, 3]),
        "seller": st.sampled_from([1, 1, 1, "wallet"]),
        "arbiter": st.just(2),
        "token": st.sampled_from(["eth", "coin"]),
        "amount": st.sampled_from([AMOUNT, 1000, 1]),
        "meter_j": st.integers(0, 2),
        "word": st.integers(0, 1),
        "offset": st.sampled_from([0, 3, 4, 8, 250]),
        "intervals": st.sampled_from([1, 4, 6]),
        "deadline": st.sampled_from([86_400, 3600, 1]),
        "salt": st.integers(0, 1),
    }
)
HONEST_OPEN = st.tuples(
    st.just("open"),
    HONEST_TERMS,
    st.just("buyer"),
    st.just(0),
    st.just("owner"),
    st.sampled_from(["rsv", "rsv", "v01", "compact"]),
)
HOSTILE_OPEN = st.tuples(
    st.just("open"),
    TERMS,
    st.sampled_from(["buyer", "buyer", "buyer", "stranger"]),
    st.sampled_from([0, 0, 0, 0, 0, 1, -1]),  # value beside the amount
    st.sampled_from(["owner"] * 6 + ["seller", "other owner"]),
    FORM,
)
OPEN = st.one_of(HONEST_OPEN, HONEST_OPEN, HOSTILE_OPEN)
SIGNER = st.tuples(
    st.sampled_from(["buyer", "seller", "arbiter", "outsider"]), FORM, st.sampled_from([False] * 6 + [True])
)  # other trade
RESOLVE = st.tuples(
    st.just("resolve"),
    st.integers(0, 20),
    st.sampled_from([0, 1, "half", "all", "all", "above"]),
    st.lists(SIGNER, min_size=0, max_size=3),
)
APPROVE = st.tuples(
    st.just("approve"),
    st.integers(0, 20),
    st.sampled_from(["buyer", "seller", "arbiter", "arbiter", "outsider"]),
    st.sampled_from([0, 1, "half", "all", "all", "above"]),
)
HONEST_RESOLVE = st.tuples(
    st.just("resolve"),
    st.integers(0, 20),
    st.sampled_from([0, 1, "half", "all", "all"]),
    st.permutations(["buyer", "seller", "arbiter"]).map(lambda p: [(r, "rsv", False) for r in p[:2]]),
)
CLAIM = st.tuples(
    st.just("claim"),
    st.integers(0, 20),
    st.sampled_from(["seller", "seller", "buyer"]),
    st.sampled_from([0, "half", "all", "above"]),
    st.sampled_from(["buyer", "buyer", "seller"]),
    st.sampled_from([False] * 6 + [True]),  # a voucher of another trade
)
APPROVE_RESOLVE = st.tuples(  # a role approves, then a resolution of that amount signed by another role, the
    st.just("approve_resolve"),  # approver itself (counted once: refused), nobody, or the two others
    HONEST_TERMS,
    st.integers(0, 20),
    st.permutations(["buyer", "seller", "arbiter"]),
    st.sampled_from([0, "half", "all", "all"]),
    st.sampled_from(["other", "other", "other", "self", "none", "two"]),
)
REFUND = st.tuples(st.just("refund"), st.integers(0, 20))
TRAVEL = st.tuples(st.just("travel"), st.sampled_from([1, 3599, 3600, 86_400]))
DEPOSIT = st.tuples(
    st.just("deposit"),
    st.sampled_from([0, 3, 5]),
    st.sampled_from([0, 0, 3, "zero", "wallet"]),
    st.sampled_from([0, 1, 999, 1000, AMOUNT, AMOUNT, AMOUNT - 1]),
)
WITHDRAW_COIN = st.tuples(
    st.just("withdraw_coin"),
    st.sampled_from([0, 0, 3, 5]),
    st.sampled_from([4, 4, 0, "zero"]),
    st.sampled_from([0, 1, 1000, AMOUNT, "all", "all", "above"]),
)
DEPOSIT_OPEN = st.tuples(  # the buyer's balance funded to the amount or one short (by the buyer or a relayer), then
    st.just("deposit_open"),  # its coin trade, honest or with a value beside
    HONEST_TERMS.map(lambda d: {**d, "token": "coin"}),
    st.sampled_from([0, 5]),
    st.sampled_from([0, 0, 1]),
    st.sampled_from([0, 0, 0, 1]),
)
WITHDRAW = st.tuples(st.just("withdraw"), st.sampled_from(["wallet", 0, 1]), st.sampled_from([4, "zero"]))
OPS = st.lists(
    st.one_of(
        OPEN,
        OPEN,
        OPEN,
        HONEST_RESOLVE,
        HONEST_RESOLVE,
        RESOLVE,
        APPROVE,
        APPROVE_RESOLVE,
        APPROVE_RESOLVE,
        APPROVE_RESOLVE,
        CLAIM,
        REFUND,
        TRAVEL,
        WITHDRAW,
        DEPOSIT,
        DEPOSIT_OPEN,
        DEPOSIT_OPEN,
        WITHDRAW_COIN,
    ),
    min_size=1,
    max_size=14,
)
ZERO = "0x" + "00" * 20


class Run:
    """One example: the harness, a seller wallet that refuses ETH, the foreign coin, every terms tried."""

    def __init__(self):
        self.k = Escrow()
        self.wallet = str(hostile_contract("rejecting_wallet").address).lower()
        self.k.model.rejects.add(self.wallet)
        self.k.track(self.wallet, 10**21)
        self.foreign = str(load(CONTRACTS / "energy_coin.vy").deploy("fake", "FAKE").address).lower()
        self.tried = []

    def party(self, p):
        return {"wallet": self.wallet, "zero": ZERO}.get(p, address(p) if isinstance(p, int) else p)

    def terms(self, d):
        k = self.k
        token = {"eth": ETH, "coin": k.coin_address(), "foreign": self.foreign}[d["token"]]
        first = (k.now // 900 // 256 + 1 + d["word"]) * 256 + d["offset"]
        return k.terms(
            buyer=d["buyer"], seller=self.party(d["seller"]), arbiter=self.party(d["arbiter"]), token=token,
            amount=d["amount"], meter_j=d["meter_j"], first_interval=first, intervals=d["intervals"],
            deadline=k.now + d["deadline"], salt=d["salt"],
        )  # fmt: skip

    def pick(self, i):
        """An open trade for an even `i` (if any), else any terms tried."""
        live = [t for t in self.tried if self.k.model.status.get(self.k.model.trade_id(t)) == 1]
        pool = live if live and i % 2 == 0 else self.tried
        return pool[i // 2 % len(pool)] if pool else None

    def open(self, d, sender, dv, offer_by, form):
        k, t = self.k, self.terms(d)
        self.tried.append(t)
        value = (t.amount if t.token == ETH else 0) + dv
        j = [meter(x) for x in range(4)].index(t.meter)
        signer = {"owner": OWNER_OF[j % 3], "seller": 1, "other owner": OWNER_OF[(j + 1) % 2]}[offer_by]
        offer = FORMS[form](k.offer(t, signer))
        who = t.buyer if sender == "buyer" else address(5)
        from_balance = t.token != ETH and k.model.coin_balance.get(t.buyer, 0) >= t.amount
        if k.attempt(lambda: k.open(who, t, offer, max(value, 0)), "open").ok and t.token != ETH:
            event("open: coin from the balance" if from_balance else "open: coin by transferFrom")

    def role_key(self, t, role):
        addr = {"buyer": t.buyer, "seller": t.seller, "arbiter": t.arbiter}.get(role, address(6))
        return next((i for i in range(12) if address(i) == addr), 6)  # a wallet or zero role cannot sign

    def resolve(self, i, choice, signers):
        k, t = self.k, self.pick(i)
        if t is None:
            return
        amount = {"half": t.amount // 2, "all": t.amount, "above": t.amount + 1}.get(choice, choice)
        other = self.pick(i + 1)
        sigs = []
        for role, form, of_other in signers:
            trade = k.model.trade_id(other if of_other else t)
            sigs.append(FORMS[form](k.resolution(self.role_key(t, role), t, amount, trade)))
        k.attempt(lambda: k.resolve(address(7), t, amount, sigs), "resolve")

    def approve(self, i, who, choice):
        k, t = self.k, self.pick(i)
        if t is None:
            return
        amount = {"half": t.amount // 2, "all": t.amount, "above": t.amount + 1}.get(choice, choice)
        sender = {"buyer": t.buyer, "seller": t.seller, "arbiter": t.arbiter}.get(who, address(6))
        sender = address(6) if sender == ZERO else sender  # nobody sends from the zero address
        k.attempt(lambda: k.approve(sender, t, amount), "approve")

    def approve_resolve(self, d, i, roles, choice, mode):
        i -= i % 2  # an open trade; opened first (honest terms `d`) if there is none
        if not any(self.k.model.status.get(self.k.model.trade_id(t)) == 1 for t in self.tried):
            self.open(d, "buyer", 0, "owner", "rsv")
        self.approve(i, roles[0], choice)
        signers = {"other": roles[1:2], "self": roles[:1], "none": [], "two": roles[1:]}[mode]
        self.resolve(i, choice, [(r, "rsv", False) for r in signers])

    def claim(self, i, sender, choice, signer, of_other):
        k, t = self.k, self.pick(i)
        if t is None:
            return
        cumulative = {"half": t.amount // 2, "all": t.amount, "above": t.amount + 1}.get(choice, choice)
        trade = k.model.trade_id(self.pick(i + 1) if of_other else t)
        voucher = k.voucher(self.role_key(t, signer), t, cumulative, trade)
        who = t.seller if sender == "seller" else t.buyer
        k.attempt(lambda: k.claim(who, t, cumulative, voucher), "claim")

    def refund(self, i):
        k, t = self.k, self.pick(i)
        if t is not None:
            k.attempt(lambda: k.refund(address(8), t), "refund")

    def deposit(self, payer, account, amount):
        k = self.k
        k.attempt(lambda: k.deposit(address(payer), self.party(account), amount), "deposit")

    def deposit_open(self, d, payer, short, value):
        k, t = self.k, self.terms(d)
        need = t.amount - short - k.c.coin_balance(t.buyer)
        if need > 0:
            self.deposit(payer, t.buyer, need)
        self.open(d, "buyer", value, "owner", "rsv")

    def withdraw_coin(self, who, to, amount):
        k, sender = self.k, address(who)
        balance = k.c.coin_balance(sender)
        amount = {"all": balance, "above": balance + 1}.get(amount, amount)
        k.attempt(lambda: k.withdraw_coin(sender, self.party(to), amount), "withdraw_coin")

    def withdraw(self, who, to):
        k = self.k
        k.attempt(lambda: k.withdraw(self.party(who), self.party(to)), "withdraw")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(ops=OPS)
def test_contract_equals_twin_on_random_hostile_sequences(ops):
    with boa.env.anchor():
        fresh_traces()
        run = Run()
        for op in ops:
            if op[0] == "travel":
                run.k.travel_to(run.k.now + op[1])
            else:
                getattr(run, op[0])(*op[1:])
        run.k.check()
