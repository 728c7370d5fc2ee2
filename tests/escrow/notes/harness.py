"""The notes pool's harness: contracts/trade_notes.vy (an ETH pool, or a coin pool beside a real energy coin) with
its twin (gridchain.escrow.notes.model); every call goes to both through `Mirrored.mirror` (tests/support/
mirrored.py). After each success the call's events and every payout (ETH or coin balances of the fresh address
and the submitter) must be the twin's, and `check` compares everything observable: each seen epoch's counts and
key, each seen fresh address's spent flag, credit, held, the money invariant on chain (balance >= held), and the
harness's own books from the chain's outcomes (deposited = paid to fresh addresses + fees + held for notes).

Keys: the issuer is pool key 0; other parties are pool addresses (tests/escrow/notes/keys.py), which send by
prank and sign with the pool's keys; the issuer's RSA key for an epoch is `rsa(k)` for the k it was registered
with. Tokens are made by the issuer's private exponent directly (the blind protocol gives the same token: RSA-FDH
is deterministic; its steps are tested in test_parties)."""

from __future__ import annotations

import boa

from gridchain.crypto.keys import sign_digest
from gridchain.escrow.notes.model import EPOCH_SECONDS, ETH, ZERO, NotesError, NotesModel, Payout, note_message
from tests.escrow.notes.keys import address, key, rsa, words
from tests.support.deployers import CONTRACTS, load
from tests.support.events import events
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

EVENTS = ("Deposited", "Redeemed", "EpochKeyRegistered", "Credited", "Withdrawn")
POOL = 12  # secp256k1 keys: 0 the issuer, then depositors, fresh addresses, relayers, outsiders
ISSUER = 0
DENOM = 10**17
COINS = 10**30
FILES = CONTRACTS / "trade_notes.vy"


def refused(reason: str, call, *args, **kwargs) -> None:
    """`call` is refused by both sides with exactly `reason`."""
    with _refused(reason, NotesError):
        call(*args, **kwargs)


def blinded_hash(i: int) -> bytes:
    return (i + 1).to_bytes(32, "big")


class Pool(Mirrored):
    """A deployed trade_notes pool with its NotesModel twin (and its coin, for a coin pool)."""

    ERROR = NotesError
    EVENTS = EVENTS

    def __init__(self, coin: bool = False, denomination: int = DENOM):
        self.init_accounts()
        self.coin = load(CONTRACTS / "energy_coin.vy").deploy("gridchain energy coin", "GEC") if coin else None
        token = str(self.coin.address) if coin else ETH
        self.c = load(FILES).deploy(token, denomination, address(ISSUER), ZERO)
        self.address = str(self.c.address).lower()
        self.chain_id = self.c.eip712Domain()[3]
        self.model = NotesModel(token, denomination, address(ISSUER), self.chain_id, self.address)
        self.events: dict[str, list[dict]] = {}
        for i in range(POOL):
            self.fund(address(i))
        self.epochs: set[int] = set()  # compared in `check`
        self.freshes: set[str] = set()
        self.rsa_index: dict[int, int] = {}  # epoch -> k of rsa(k) registered
        self.deposited = self.paid_fresh = self.fees = 0  # the harness's books, from the chain's outcomes

    @property
    def denomination(self) -> int:
        return self.model.denomination

    @property
    def epoch(self) -> int:
        return self.now // EPOCH_SECONDS

    def fund(self, account: str) -> None:
        """ETH, and for a coin pool coins and an unlimited allowance."""
        self.track(account, self.FUNDS)
        if self.coin is not None:
            self.coin.mint(account, COINS)
            with boa.env.prank(account):
                self.coin.approve(self.c.address, 2**256 - 1)

    def balance_of(self, account: str) -> int:
        return boa.env.get_balance(account) if self.coin is None else self.coin.balanceOf(account)

    def next_day(self, days: int = 1) -> None:
        """To the start of a later epoch, plus an hour."""
        self.travel_to((self.epoch + days) * EPOCH_SECONDS + 3_600)

    # -- notes and signatures ------------------------------------------------------------------------------
    def token(self, epoch: int, fresh: str, k: int | None = None, pool: str | None = None, chain_id: int | None = None):
        """The issuer's token (8 words) on the note (epoch, fresh) of this pool (or `pool`, `chain_id`), by
        rsa(k) (the epoch's registered key by default)."""
        private = rsa(self.rsa_index.get(epoch, 0) if k is None else k)
        m = note_message(chain_id or self.chain_id, pool or self.address, epoch, fresh)
        return words(pow(m, private.d, private.public.n))

    def consent(self, i: int, epoch: int, fee: int, relayer: str = ZERO) -> bytes:
        """Pool key i's signature of Redemption(epoch, fee, relayer)."""
        return sign_digest(key(i), self.model.redemption_hash(epoch, fee, relayer))

    # -- calls (sender first, as the model's) ----------------------------------------------------------------
    def register(self, sender, epoch: int, k: int | None = None, modulus: int | None = None) -> None:
        n = rsa(k or 0).public.n if modulus is None else modulus
        self.epochs.add(epoch)
        self.mirror(
            sender,
            lambda: self.model.register_epoch_key(str(sender), epoch, n, self.now),
            lambda: self.c.register_epoch_key(epoch, words(n)),
        )
        self.rsa_index[epoch] = k or 0
        assert self.events["EpochKeyRegistered"] == [{"epoch": epoch, "modulus": words(n)}]
        self.check()

    def deposit(self, sender, blinded: bytes, value: int | None = None, epoch: int | None = None) -> int:
        eth = self.coin is None
        value = (self.denomination if eth else 0) if value is None else value
        named = self.epoch if epoch is None else epoch
        self.epochs.add(self.epoch)
        before = self.balance_of(self.address)
        epoch, out = self.mirror(
            sender,
            lambda: self.model.deposit(str(sender), named, blinded, value, self.now),
            lambda: self.c.deposit(named, blinded, value=value),
            value,
        )
        assert out == epoch
        assert self.events["Deposited"] == [{"epoch": epoch, "depositor": str(sender).lower(), "blinded_hash": blinded}]
        assert self.balance_of(self.address) == before + self.denomination
        self.deposited += self.denomination
        self.check()
        return epoch

    def redeem(self, sender, epoch: int, fresh: str, fee: int, relayer: str = ZERO, token=None,
               signature: bytes = b"", via=None) -> list[Payout]:  # fmt: skip
        """A redemption submitted by `sender`, or through the wallet contract `via` (then the wallet is the
        submitter and `sender` its owner). The token is the note's own by default."""
        fresh, relayer = fresh.lower(), relayer.lower()
        token = self.token(epoch, fresh) if token is None else token
        submitter = str(via.address).lower() if via is not None else str(sender).lower()
        self.epochs.add(epoch)
        self.freshes.add(fresh)
        parties = {fresh, submitter}
        before = {p: self.balance_of(p) for p in parties}
        args = (epoch, fresh, fee, relayer, token, signature)

        def chain_call():
            if via is None:
                return self.c.redeem(*args)
            return via.execute(self.c.address, self.c.redeem.prepare_calldata(*args), 0)

        payouts, _ = self.mirror(
            sender,
            lambda: self.model.redeem(
                submitter, epoch, fresh, fee, relayer, int.from_bytes(_raw(token), "big"), signature, self.now
            ),  # fmt: skip
            chain_call,
        )
        if via is not None:  # the wallet's call holds the pool's logs
            self.events = events(via, self.EVENTS)
        want = dict(before)
        for p in payouts:
            if not p.credited:
                want[p.to] += p.amount
        assert {p: self.balance_of(p) for p in parties} == want
        assert self.events["Redeemed"] == [{"epoch": epoch, "fresh": fresh, "relayer": submitter, "fee": fee}]
        assert self.events["Credited"] == [{"account": p.to, "amount": p.amount} for p in payouts if p.credited]
        self.paid_fresh += self.denomination - fee
        self.fees += fee
        self.check()
        return payouts

    def withdraw(self, sender, to: str) -> int:
        to_before = boa.env.get_balance(to)
        amount, out = self.mirror(sender, lambda: self.model.withdraw(str(sender), to), lambda: self.c.withdraw(to))
        assert out == amount
        assert boa.env.get_balance(to) == to_before + amount
        assert self.events["Withdrawn"] == [{"account": str(sender).lower(), "to": to.lower(), "amount": amount}]
        self.check()
        return amount

    # -- comparing -----------------------------------------------------------------------------------------
    def check(self) -> None:
        c, m = self.c, self.model
        for e in self.epochs:
            assert c.deposits(e) == m.deposits.get(e, 0) and c.redemptions(e) == m.redemptions.get(e, 0)
            assert c.redemptions(e) <= c.deposits(e), "the per-epoch cap broke"
            assert c.epoch_key(e) == m.epoch_key(e)
        for f in self.freshes:
            assert c.spent(f) == (f in m.spent)
        for a in self.accounts:
            assert c.credit(a) == m.credit.get(a.lower(), 0)
        assert c.held() == m.held
        assert self.balance_of(self.address) >= m.held  # the money invariant on chain
        outstanding = sum(c.deposits(e) - c.redemptions(e) for e in self.epochs)
        assert self.deposited == self.paid_fresh + self.fees + self.denomination * outstanding, "funds not conserved"
        m.check_invariant()


def _raw(token) -> bytes:
    return b"".join(w.to_bytes(32, "big") for w in token)
