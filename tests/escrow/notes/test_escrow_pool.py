"""An escrow pool of trade notes (contracts/trade_notes.vy with ESCROW set): a note is paid into the fresh
address's coin balance in the trade escrow, and the fresh buyer opens a coin trade from it without ever holding,
approving or moving a coin itself. The pool's standing allowance to the escrow moves nothing but redemptions."""

from __future__ import annotations

import boa
import pytest

from gridchain.crypto.keys import sign_digest
from gridchain.escrow.model import Terms
from gridchain.escrow.notes.model import EPOCH_SECONDS, ZERO, NotesError, NotesModel, Payout, note_message
from tests.escrow import harness as escrow_harness
from tests.escrow.notes.keys import address, key, rsa, words
from tests.support.deployers import CONTRACTS, load
from tests.support.events import events

ISSUER, DEPOSITOR, FRESH, RELAYER, THIEF = 0, 2, 5, 6, 9
DENOM = 10**6
FEE = 1_000
NOTES = CONTRACTS / "trade_notes.vy"
MAX = 2**256 - 1


class Setup:
    """Metering, coin and escrow (the escrow tests' harness), and an escrow pool of coin notes beside its twin."""

    def __init__(self):
        self.e = escrow_harness.Escrow()
        self.coin = self.e.coin
        self.escrow = self.e.c
        self.pool = load(NOTES).deploy(self.coin.address, DENOM, address(ISSUER), self.escrow.address)
        chain_id = self.pool.eip712Domain()[3]
        self.model = NotesModel(
            str(self.coin.address), DENOM, address(ISSUER), chain_id, str(self.pool.address), str(self.escrow.address)
        )
        with boa.env.prank(address(ISSUER)):
            self.pool.register_epoch_key(self.epoch, words(rsa(0).public.n))
        self.model.keys[self.epoch] = rsa(0).public.n
        for i in (DEPOSITOR, THIEF):
            self.coin.mint(address(i), 10 * DENOM)
            with boa.env.prank(address(i)):
                self.coin.approve(self.pool.address, MAX)

    @property
    def now(self) -> int:
        return boa.env.evm.patch.timestamp

    @property
    def epoch(self) -> int:
        return self.now // EPOCH_SECONDS

    def note(self, fresh: str) -> int:
        """A deposit today, then the next day: the note's epoch."""
        epoch = self.epoch
        with boa.env.prank(address(DEPOSITOR)):
            self.pool.deposit(epoch, (1).to_bytes(32, "big"))
        self.model.deposit(address(DEPOSITOR), epoch, (1).to_bytes(32, "big"), 0, self.now)
        boa.env.time_travel(seconds=(epoch + 1) * EPOCH_SECONDS + 3_600 - self.now)
        return epoch

    def redeem(self, epoch: int, fresh_i: int, fee: int) -> list[Payout]:
        fresh = address(fresh_i)
        m = note_message(self.model.chain_id, self.model.address, epoch, fresh)
        token = pow(m, rsa(0).d, rsa(0).public.n)
        consent = sign_digest(key(fresh_i), self.model.redemption_hash(epoch, fee, ZERO))
        args = (epoch, fresh, fee, ZERO, words(token), consent)
        try:
            payouts = self.model.redeem(address(RELAYER), epoch, fresh, fee, ZERO, token, consent, self.now)
        except NotesError as e:  # the chain refuses it with the same reason
            with boa.env.prank(address(RELAYER)), boa.reverts(str(e)):
                self.pool.redeem(*args)
            raise
        with boa.env.prank(address(RELAYER)):
            self.pool.redeem(*args)
        self.redeemed = events(self.pool, ("Redeemed",))["Redeemed"]
        return payouts


@pytest.fixture
def s() -> Setup:
    return Setup()


def test_constructor_refuses_an_eth_escrow_pool_and_another_coin():
    e = escrow_harness.Escrow()
    with boa.reverts("trade_notes: escrow pool of ETH"):
        load(NOTES).deploy(ZERO, DENOM, address(ISSUER), e.c.address)
    other = load(CONTRACTS / "energy_coin.vy").deploy("another coin", "AC")
    with boa.reverts("trade_notes: escrow's coin is not the pool's"):
        load(NOTES).deploy(other.address, DENOM, address(ISSUER), e.c.address)
    pool = load(NOTES).deploy(e.coin.address, DENOM, address(ISSUER), e.c.address)
    assert pool.ESCROW() == e.c.address
    assert e.coin.allowance(pool.address, e.c.address) == MAX


@pytest.mark.parametrize("fee", [0, FEE, DENOM])
def test_a_note_pays_into_the_fresh_address_escrow_balance(s, fee):
    epoch = s.note(address(FRESH))
    fresh, relayer = address(FRESH), address(RELAYER)
    payouts = s.redeem(epoch, FRESH, fee)
    want = [Payout(fresh, DENOM - fee, escrowed=True)] if fee != DENOM else []
    assert payouts == want + ([Payout(relayer, fee)] if fee else [])
    assert s.escrow.coin_balance(fresh) == DENOM - fee
    assert s.coin.balanceOf(fresh) == 0 and s.coin.balanceOf(relayer) == fee
    assert s.coin.balanceOf(s.pool.address) == s.pool.held() == 0
    assert s.redeemed == [{"epoch": epoch, "fresh": fresh, "relayer": relayer, "fee": fee}]
    s.model.check_invariant()


def test_the_fresh_buyer_opens_and_settles_a_trade_from_the_note_without_holding_a_coin(s):
    epoch = s.note(address(FRESH))
    s.redeem(epoch, FRESH, FEE)
    fresh = address(FRESH)
    amount = DENOM - FEE
    t: Terms = s.e.terms(buyer=fresh, token=s.e.coin_address(), amount=amount)
    with boa.env.prank(fresh):
        s.escrow.open(t.as_tuple(), s.e.offer(t))
    assert s.escrow.coin_balance(fresh) == 0 and s.coin.balanceOf(fresh) == 0
    seller_before = s.coin.balanceOf(t.seller)
    sigs = [s.e.resolution(1, t, amount), s.e.resolution(2, t, amount)]  # seller and arbiter
    s.escrow.resolve(t.as_tuple(), amount, sigs)
    assert s.coin.balanceOf(t.seller) == seller_before + amount
    assert s.escrow.held_coin() == 0 and s.coin.balanceOf(s.escrow.address) == 0


def test_the_pool_allowance_moves_nothing_but_redemptions(s):
    """The pool approved the escrow for everything it holds: nobody else can make the escrow pull it."""
    for _ in range(3):
        with boa.env.prank(address(DEPOSITOR)):
            s.pool.deposit(s.epoch, (7).to_bytes(32, "big"))
    held = s.coin.balanceOf(s.pool.address)
    assert held == 3 * DENOM
    thief, pool = address(THIEF), str(s.pool.address)
    with boa.env.prank(thief), boa.reverts("trade_escrow: caller is not the buyer"):  # the pool as a buyer
        t = s.e.terms(buyer=pool, token=s.e.coin_address(), amount=DENOM)
        s.escrow.open(t.as_tuple(), s.e.offer(t))
    with boa.env.prank(thief):  # a deposit pulls from its caller, never from the pool
        s.coin.approve(s.escrow.address, DENOM)
        s.escrow.deposit(thief, DENOM)
    with boa.env.prank(thief), boa.reverts("trade_escrow: amount above the balance"):
        s.escrow.withdraw_coin(thief, 2 * DENOM)
    with boa.env.prank(pool), boa.reverts("trade_escrow: amount above the balance"):  # the pool has no balance
        s.escrow.withdraw_coin(thief, 1)
    assert s.coin.balanceOf(s.pool.address) == held == s.pool.held()
    assert s.escrow.coin_balance(thief) == DENOM and s.escrow.coin_balance(pool) == 0


def test_a_note_is_redeemed_into_the_escrow_once(s):
    epoch = s.note(address(FRESH))
    s.redeem(epoch, FRESH, 0)
    with pytest.raises(NotesError, match="trade_notes: note already redeemed"):
        s.redeem(epoch, FRESH, 0)
    assert s.escrow.coin_balance(address(FRESH)) == DENOM
