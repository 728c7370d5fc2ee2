"""The trade escrow's harness: contracts/trade_escrow.vy deployed beside a real metering contract and energy coin,
with its twin (gridchain.escrow.model); every call goes to both through `Mirrored.mirror` (tests/support/
mirrored.py). After each success the call's events and every payout (ETH and coin balances) must be the twin's, and
`check` compares everything observable: each known trade's status, each known lock word, each approved resolution's
role bits, credit, coin balances, held totals, and the money invariant on chain (balances >= held). Keys come from
a fixed pool (`key(i)`): buyers, sellers, arbiters and meter owners are pool addresses, which send by prank and sign
with the pool's keys; meters are registered with pool owners at deployment."""

from __future__ import annotations

from functools import cache

import boa
from eth_utils import keccak

from gridchain.crypto import eip712
from gridchain.crypto.keys import address_of, sign_digest
from gridchain.escrow.model import CLOSED, ETH, INTERVAL_S, EscrowError, EscrowModel, Payout, Resolution, Terms, Voucher
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

EVENTS = (
    "Opened",
    "Approved",
    "Resolved",
    "Claimed",
    "Refunded",
    "Credited",
    "Withdrawn",
    "Deposited",
    "CoinWithdrawn",
)
POOL = 12  # keys: parties and outsiders
METERS = 3  # meters 0 .. 2, meter j owned by key OWNER_OF[j]
OWNER_OF = (9, 10, 9)
COINS = 10**30  # each pool address's coin balance and allowance
AMOUNT = 10**18


@cache
def key(i: int) -> bytes:
    """The i-th key of the pool (fixed)."""
    return keccak(text=f"escrow test key {i}")


@cache
def address(i: int) -> str:
    return address_of(key(i)).lower()


@cache
def meter(j: int) -> str:
    return address_of(keccak(text=f"escrow test meter {j}")).lower()


def refused(reason: str, call, *args, **kwargs) -> None:
    """`call` is refused by both sides with exactly `reason`."""
    with _refused(reason, EscrowError):
        call(*args, **kwargs)


class Escrow(Mirrored):
    """A deployed trade_escrow with its EscrowModel twin, its metering contract and coin."""

    ERROR = EscrowError
    EVENTS = EVENTS

    def __init__(self, coin=None):
        """`coin`: a deployed coin to take instead of a fresh energy coin (a hostile one), with `mint(to, amount)`."""
        self.deployer = str(boa.env.eoa)
        self.metering = load(CONTRACTS / "metering.vy").deploy(0)
        self.coin = coin or load(CONTRACTS / "energy_coin.vy").deploy("gridchain energy coin", "GEC")
        self.c = load(CONTRACTS / "trade_escrow.vy").deploy(self.metering.address, self.coin.address)
        self.address = str(self.c.address)
        self.chain_id = self.c.eip712Domain()[3]
        self.model = EscrowModel(str(self.coin.address), self.chain_id, self.address.lower())
        for j in range(METERS):
            self.metering.register_meter(meter(j), address(OWNER_OF[j]), 1, j)
            self.model.meter_owner[meter(j)] = address(OWNER_OF[j])
        self.init_accounts()
        self.events: dict[str, list[dict]] = {}
        for i in range(POOL):
            self.fund(address(i))
        self.words: set[tuple[str, int]] = set()  # lock words seen, compared in `check`
        self.trades: dict[bytes, Terms] = {}  # every trade tried
        self.digests: set[bytes] = set()  # resolution digests approvals were tried for, compared in `check`
        self.sold: dict[tuple[str, int], bytes] = {}  # from the chain's events: (meter, interval) -> trade paid
        self.holders: set[str] = set()  # accounts a deposit was tried for, whose coin balances `check` compares

    def fund(self, account: str) -> None:
        """ETH, coins and an unlimited allowance for the escrow."""
        self.track(account, self.FUNDS)
        self.coin.mint(account, COINS)
        with boa.env.prank(account):
            self.coin.approve(self.c.address, 2**256 - 1)

    # -- terms and signatures ----------------------------------------------------------------------------------
    def terms(self, buyer=0, seller=1, arbiter=2, token: str = ETH, amount: int = AMOUNT, meter_j: int = 0,
              first_interval: int | None = None, intervals: int = 4, deadline: int | None = None, salt: int = 0,
              energy_wh: int = 3_000) -> Terms:  # fmt: skip
        """Terms among pool parties (indices) or given addresses; by default the next interval word's start and a
        deadline a day ahead."""
        party = lambda p: address(p) if isinstance(p, int) else str(p).lower()  # noqa: E731
        first = (self.now // INTERVAL_S // 256 + 1) * 256 if first_interval is None else first_interval
        return Terms(
            party(buyer), party(seller), party(arbiter), token.lower(), amount, meter(meter_j), first, intervals,
            energy_wh, self.now + 86_400 if deadline is None else deadline, salt.to_bytes(32, "big"),
        )  # fmt: skip

    def offer(self, terms: Terms, signer: int | None = None) -> bytes:
        """The offer signed by key `signer` (the meter's owner by default)."""
        i = OWNER_OF[[meter(j) for j in range(METERS)].index(terms.meter)] if signer is None else signer
        return sign_digest(key(i), self.model.trade_id(terms))

    def resolution(self, i: int, terms: Terms, seller_amount: int, trade: bytes | None = None) -> bytes:
        h = eip712.digest(self.model.domain(), Resolution(trade or self.model.trade_id(terms), seller_amount))
        return sign_digest(key(i), h)

    def voucher(self, i: int, terms: Terms, cumulative: int, trade: bytes | None = None) -> bytes:
        h = eip712.digest(self.model.domain(), Voucher(trade or self.model.trade_id(terms), cumulative))
        return sign_digest(key(i), h)

    def coin_address(self) -> str:
        return str(self.coin.address).lower()

    # -- calls (sender first, as the model's) ------------------------------------------------------------------
    def open(self, sender, terms: Terms, offer: bytes | None = None, value: int | None = None) -> bytes:
        offer = self.offer(terms) if offer is None else offer
        value = (terms.amount if terms.token == ETH else 0) if value is None else value
        self.trades[self.model.trade_id(terms)] = terms
        self.words.add((terms.meter, terms.first_interval // 256))
        coin_before = self.coin.balanceOf(self.c.address)
        buyer_coins = self.coin.balanceOf(terms.buyer)
        from_balance = terms.token != ETH and self.model.coin_balance.get(terms.buyer, 0) >= terms.amount
        trade, out = self.mirror(
            sender,
            lambda: self.model.open(str(sender), terms, offer, value, self.now),
            lambda: self.c.open(terms.as_tuple(), offer, value=value),
            value,
        )
        assert bytes(out) == trade
        expected = {
            "trade": trade,
            "buyer": terms.buyer,
            "meter": terms.meter,
            "token": terms.token,
            "amount": terms.amount,
        }
        assert self.events["Opened"] == [expected]
        if terms.token != ETH:  # paid from the buyer's coin balance (no coins move) or pulled from the buyer
            pulled = 0 if from_balance else terms.amount
            assert self.coin.balanceOf(self.c.address) == coin_before + pulled
            assert self.coin.balanceOf(terms.buyer) == buyer_coins - pulled
        self.check()
        return trade

    def approve(self, sender, terms: Terms, seller_amount: int) -> int:
        """`sender` approves Resolution(trade, seller_amount) on chain; its role bit."""
        trade = self.model.trade_id(terms)
        self.trades[trade] = terms
        self.digests.add(self.model.resolution_hash(trade, seller_amount))
        role, _ = self.mirror(
            sender,
            lambda: self.model.approve(str(sender), terms, seller_amount),
            lambda: self.c.approve(terms.as_tuple(), seller_amount),
        )
        assert self.events["Approved"] == [{"trade": trade, "seller_amount": seller_amount, "role": role}]
        self.check()
        return role

    def resolve(self, sender, terms: Terms, seller_amount: int, signatures: list[bytes]) -> int:
        trade = self.model.trade_id(terms)
        (signers, payouts), _ = self._settling(
            sender, terms,
            lambda: self.model.resolve(terms, seller_amount, signatures),
            lambda: self.c.resolve(terms.as_tuple(), seller_amount, signatures),
            lambda r: r[1],
        )  # fmt: skip
        assert self.events["Resolved"] == [{"trade": trade, "seller_amount": seller_amount, "signers": signers}]
        self._sold(trade, terms, seller_amount)
        self.check()
        return signers

    def claim(self, sender, terms: Terms, cumulative: int, voucher: bytes) -> None:
        trade = self.model.trade_id(terms)
        self._settling(
            sender, terms,
            lambda: self.model.claim(str(sender), terms, cumulative, voucher, self.now),
            lambda: self.c.claim(terms.as_tuple(), cumulative, voucher),
            lambda r: r,
        )  # fmt: skip
        assert self.events["Claimed"] == [{"trade": trade, "cumulative": cumulative}]
        self._sold(trade, terms, cumulative)
        self.check()

    def refund(self, sender, terms: Terms) -> None:
        trade = self.model.trade_id(terms)
        self._settling(
            sender,
            terms,
            lambda: self.model.refund(terms, self.now),
            lambda: self.c.refund(terms.as_tuple()),
            lambda r: r,
        )
        assert self.events["Refunded"] == [{"trade": trade, "amount": terms.amount}]
        self.check()

    def withdraw(self, sender, to: str) -> int:
        to_before = boa.env.get_balance(to)
        amount, out = self.mirror(sender, lambda: self.model.withdraw(str(sender), to), lambda: self.c.withdraw(to))
        assert out == amount
        if to.lower() != self.address.lower():
            assert boa.env.get_balance(to) == to_before + amount
        assert self.events["Withdrawn"] == [{"account": str(sender).lower(), "to": to.lower(), "amount": amount}]
        self.check()
        return amount

    def deposit(self, sender, account: str, amount: int) -> None:
        """`sender` pays `amount` coins into `account`'s escrow balance."""
        self.holders.add(str(account).lower())
        coins = self.coin.balanceOf(sender), self.coin.balanceOf(self.c.address)
        self.mirror(
            sender,
            lambda: self.model.deposit(str(sender), str(account), amount),
            lambda: self.c.deposit(account, amount),
        )
        assert (self.coin.balanceOf(sender), self.coin.balanceOf(self.c.address)) == (
            coins[0] - amount,
            coins[1] + amount,
        )
        assert self.events["Deposited"] == [
            {"account": str(account).lower(), "payer": str(sender).lower(), "amount": amount}
        ]
        self.check()

    def withdraw_coin(self, sender, to: str, amount: int) -> None:
        """`sender` takes `amount` of its escrow coin balance to `to`."""
        self.holders.add(str(sender).lower())
        to_before, held_before = self.coin.balanceOf(to), self.coin.balanceOf(self.c.address)
        self.mirror(
            sender,
            lambda: self.model.withdraw_coin(str(sender), to, amount),
            lambda: self.c.withdraw_coin(to, amount),
        )
        if to.lower() != self.address.lower():
            assert self.coin.balanceOf(to) == to_before + amount
            assert self.coin.balanceOf(self.c.address) == held_before - amount
        assert self.events["CoinWithdrawn"] == [{"account": str(sender).lower(), "to": to.lower(), "amount": amount}]
        self.check()

    def _settling(self, sender, terms: Terms, model_call, chain_call, payouts_of):
        """A settling call through `mirror`; the parties' balances must move by the twin's payouts exactly."""
        parties = (terms.seller, terms.buyer)
        eth = {p: boa.env.get_balance(p) for p in parties}
        coin = {p: self.coin.balanceOf(p) for p in parties}
        result, out = self.mirror(sender, model_call, chain_call)
        payouts: list[Payout] = payouts_of(result)
        want_eth, want_coin = dict(eth), dict(coin)
        for p in payouts:
            if p.token == ETH and not p.credited:
                want_eth[p.to] += p.amount
            elif p.token != ETH:
                want_coin[p.to] += p.amount
        assert {p: boa.env.get_balance(p) for p in parties} == want_eth
        assert {p: self.coin.balanceOf(p) for p in parties} == want_coin
        credited = [{"account": p.to, "amount": p.amount} for p in payouts if p.credited]
        assert self.events["Credited"] == credited
        return result, out

    def _sold(self, trade: bytes, terms: Terms, seller_amount: int) -> None:
        """The harness's own book of sold energy (from the chain's outcome): no interval is paid to two trades."""
        if seller_amount:
            for i in range(terms.first_interval, terms.first_interval + terms.intervals):
                assert (terms.meter, i) not in self.sold, f"interval {i} of {terms.meter} paid to two trades"
                self.sold[(terms.meter, i)] = trade

    # -- comparing -----------------------------------------------------------------------------------------
    def check(self) -> None:
        c, m = self.c, self.model
        for trade in self.trades:
            assert c.status(trade) == m.status.get(trade, 0)
        for mtr, word in self.words:
            assert c.locked(mtr, word) == m.locked.get((mtr, word), 0)
        for a in self.accounts:
            assert c.credit(a) == m.credit.get(a.lower(), 0)
        for h in self.digests:
            assert c.approvals(h) == m.approvals.get(h, 0)
        for a in self.holders | {a.lower() for a in self.accounts}:
            assert c.coin_balance(a) == m.coin_balance.get(a, 0)
        assert c.held_eth() == m.held_eth and c.held_coin() == m.held_coin
        assert boa.env.get_balance(self.address) >= m.held_eth
        assert self.coin.balanceOf(c.address) >= m.held_coin
        for (mtr, i), trade in self.sold.items():
            assert m.status[trade] == CLOSED and c.is_locked(mtr, i), "sold energy was unlocked"
        m.check_invariant()
