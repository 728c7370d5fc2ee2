"""The notes pool against its twin on random hostile sequences, ETH and coin pools: keys registered by the issuer or
a stranger, for past, current and later epochs, malformed moduli; deposits with the wrong value or a zero hash, on
days without a key; redemptions of notes of any epoch (own, earlier, the current one) to any fresh address (an
account, a contract that refuses ETH, zero) with tokens that are the note's own or another's (another fresh
address, epoch, pool, chain, key, +1, the modulus), fees at and above the denomination, relayers named or not,
consents signed by the wrong key, for another fee, in every signature form, and replays; withdrawals of credit.
Each call goes to the twin first and then the contract (tests/escrow/notes/harness.py): a refusal must carry the
same reason on both sides and change nothing; a success must log the same events, move the same money to the same
parties, and leave the same counts, spent flags, credit and held total."""

from __future__ import annotations

import boa
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.escrow.notes.model import ZERO, NotesError
from tests.committee.signatures import FORMS
from tests.escrow.notes.harness import ISSUER, Pool
from tests.escrow.notes.keys import address, rsa, words
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import fresh_traces

WALLET = CONTRACTS.parent / "tests/support/fixtures/rejecting_wallet.vy"
FORM = st.sampled_from(["rsv"] * 8 + sorted(FORMS))
REGISTER = st.tuples(
    st.just("register"),
    st.sampled_from(["issuer"] * 5 + ["stranger"]),
    st.sampled_from([0, 1, 1, 2, -1]),
    st.sampled_from(["k0", "k0", "k1", "short", "even"]),
)
DEPOSIT = st.tuples(
    st.just("deposit"),
    st.integers(2, 4),
    st.sampled_from([0] * 10 + [-1, 1]),  # the epoch named, from today's
    st.sampled_from(["h"] * 8 + ["zero"]),
    st.sampled_from(["denom"] * 8 + ["minus", "plus", "zero"]),
)
TRAVEL = st.tuples(st.just("travel"), st.sampled_from([0, 3600, 43_200, 86_400, 86_400, 2 * 86_400]))
REDEEM = st.tuples(
    st.just("redeem"),
    st.sampled_from([-1, -1, -1, -2, -3, 0]),  # the note's epoch, from today's
    st.sampled_from([5, 6, 7, 8, 5, 6, "wallet", "zero"]),  # fresh
    st.sampled_from([0, 1, 1000, "denom", "above"]),  # fee
    st.sampled_from(["any", "any", "any", "submitter", "other"]),  # relayer named in the consent
    st.sampled_from(["relayer", "relayer", "relayer", "fresh", "wallet"]),  # who submits
    st.sampled_from(["own"] * 10 + ["other fresh", "other epoch", "plus1", "n", "other pool", "other chain", "k1"]),
    st.sampled_from(["fresh"] * 8 + ["other"]),  # who signs the consent
    FORM,
    st.sampled_from([False] * 8 + [True]),  # the consent is for another fee
)
HONEST_REDEEM = st.tuples(
    st.just("redeem"),
    st.sampled_from([-1, -1, -2]),
    st.sampled_from([5, 6, 7, 8, "wallet"]),
    st.sampled_from([0, 1, 1000, "denom"]),
    st.sampled_from(["any", "submitter"]),
    st.sampled_from(["relayer", "relayer", "fresh", "wallet"]),
    st.just("own"),
    st.just("fresh"),
    st.sampled_from(["rsv", "v01", "compact"]),
    st.just(False),
)
WITHDRAW = st.tuples(st.just("withdraw"), st.sampled_from(["wallet", "relayer", 5]), st.sampled_from([11, "zero"]))
OPS = st.lists(
    st.one_of(DEPOSIT, DEPOSIT, REDEEM, HONEST_REDEEM, HONEST_REDEEM, TRAVEL, TRAVEL, REGISTER, WITHDRAW), max_size=30
)


class Run:
    """One sequence on a fresh pool: keys for today and the next three days (rsa(0), rsa(1) in turn), three notes
    deposited today, then the clock at tomorrow, so that notes are there to redeem from the first step."""

    def __init__(self, coin: bool):
        self.p = Pool(coin=coin, denomination=10**6 if coin else 10**17)
        for day in range(4):
            self.p.register(address(ISSUER), self.p.epoch + day, k=day % 2)
        for i in range(3):
            self.p.deposit(address(2 + i), (1000 + i).to_bytes(32, "big"))
        self.p.next_day()
        self.owner = str(boa.env.eoa)
        self.wallet = load(WALLET).deploy()
        self.w = str(self.wallet.address).lower()
        self.p.model.rejects.add(self.w)
        self.p.track(self.w)
        self.n = 0  # deposits made, for distinct blinded hashes

    def register(self, who, offset, modulus):
        p = self.p
        sender = address(ISSUER) if who == "issuer" else address(9)
        n = {"k0": rsa(0).public.n, "k1": rsa(1).public.n, "short": rsa(0).public.n >> 1, "even": rsa(1).public.n - 1}
        p.attempt(lambda: p.register(sender, p.epoch + offset, k=1 if modulus == "k1" else 0, modulus=n[modulus]))

    def deposit(self, who, named, h, value):
        p = self.p
        self.n += 1
        blinded = b"\x00" * 32 if h == "zero" else self.n.to_bytes(32, "big")
        base = 0 if p.coin is not None else p.denomination
        v = {"denom": base, "minus": base - 1 if base else 1, "plus": base + 1, "zero": 0}[value]
        p.attempt(lambda: p.deposit(address(who), blinded, v, epoch=p.epoch + named), "deposit")

    def redeem(self, offset, fresh, fee, named, submitter, token, signer, form, other_fee):
        p = self.p
        epoch = p.epoch + offset
        f = {"wallet": self.w, "zero": ZERO}.get(fresh) or address(fresh)
        fee = {"denom": p.denomination, "above": p.denomination + 1}.get(fee, fee)
        via = self.wallet if submitter == "wallet" else None
        sender = {"relayer": address(9), "fresh": f, "wallet": self.owner}[submitter]
        if submitter == "fresh" and fresh in ("wallet", "zero"):
            sender, via = (self.owner, self.wallet) if fresh == "wallet" else (address(9), None)
        acting = self.w if via is not None else sender
        relayer = {"any": ZERO, "submitter": acting, "other": address(10)}[named]
        k = p.rsa_index.get(epoch, 0)
        tok = {
            "own": lambda: p.token(epoch, f),
            "other fresh": lambda: p.token(epoch, address(7) if f != address(7) else address(8)),
            "other epoch": lambda: p.token(epoch - 1, f, k=k),
            "plus1": lambda: words(int.from_bytes(_raw(p.token(epoch, f)), "big") + 1),
            "n": lambda: words(rsa(k).public.n),
            "other pool": lambda: p.token(epoch, f, pool="0x" + "ab" * 20),
            "other chain": lambda: p.token(epoch, f, chain_id=p.chain_id + 1),
            "k1": lambda: p.token(epoch, f, k=1 - k if k in (0, 1) else 1),
        }[token]()
        i = fresh if isinstance(fresh, int) else 5
        signing = i if signer == "fresh" else 11
        sig = FORMS[form](p.consent(signing, epoch, fee + 1 if other_fee else fee, relayer))
        p.attempt(lambda: p.redeem(sender, epoch, f, fee, relayer, tok, sig, via=via), "redeem")

    def withdraw(self, who, to):
        p = self.p
        dest = ZERO if to == "zero" else address(to)
        if who == "wallet":
            calldata = p.c.withdraw.prepare_calldata(dest)
            try:
                amount = p.model.withdraw(self.w, dest)
            except NotesError as e:
                with boa.env.prank(self.owner), boa.reverts(e.reason):
                    self.wallet.execute(p.c.address, calldata, 0)
                return
            with boa.env.prank(self.owner):
                self.wallet.execute(p.c.address, calldata, 0)
            assert amount > 0
            p.check()
            return
        sender = address(9) if who == "relayer" else address(who)
        p.attempt(lambda: p.withdraw(sender, dest), "withdraw")


def _raw(token) -> bytes:
    return b"".join(w.to_bytes(32, "big") for w in token)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(coin=st.booleans(), ops=OPS)
def test_contract_equals_twin_on_random_hostile_sequences(coin, ops):
    with boa.env.anchor():
        fresh_traces()
        run = Run(coin)
        for op in ops:
            if op[0] == "travel":
                run.p.travel_to(run.p.now + op[1])
            else:
                getattr(run, op[0])(*op[1:])
        run.p.check()
